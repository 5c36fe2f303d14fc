#!/usr/bin/perl
# linemerge.pl IN... -- OUT...: merge line streams without interleaving, for fifo-setup.sh.
#
# Each writer of bad rows (collector, enrich) has its own FIFO, because a bad row can be larger
# than PIPE_BUF and two writers on one pipe could interleave. This reader takes whole lines from
# every input as they arrive and writes each complete line, with one write, to every output
# (a file opened for append, or a FIFO). Inputs are opened without blocking, so a writer that
# has not started yet does not hold up the others; an input is finished when a writer has
# connected and closed it, and the merge exits when every input is finished, after writing any
# last unterminated line with a newline added.
use strict;
use warnings;
use Fcntl qw(O_RDONLY O_NONBLOCK F_GETFL F_SETFL);
use IO::Select;
use Errno qw(EAGAIN EINTR);

$SIG{PIPE} = 'IGNORE';
my (@in, @out);
my $list = \@in;
for my $a (@ARGV) {
	if ($a eq '--') { $list = \@out; next; }
	push @$list, $a;
}
die "usage: linemerge.pl IN... -- OUT...\n" unless @in && @out;

my @ofh;
for my $o (@out) {
	open(my $fh, '>>', $o) or die "linemerge.pl: $o: cannot open for writing: $!\n";
	binmode $fh;
	push @ofh, $fh;
}

my $sel = IO::Select->new;
my (%buf, %name);
for my $i (@in) {
	sysopen(my $fh, $i, O_RDONLY | O_NONBLOCK) or die "linemerge.pl: $i: cannot open: $!\n";
	binmode $fh;
	$sel->add($fh);
	$buf{fileno $fh} = '';
	$name{fileno $fh} = $i;
}

sub emit {
	my ($data) = @_;
	for my $fh (@ofh) {
		my $off = 0;
		while ($off < length $data) {
			my $w = syswrite($fh, $data, length($data) - $off, $off);
			if (!defined $w) {
				next if $! == EINTR || $! == EAGAIN;
				die "linemerge.pl: write failed: $!\n";
			}
			$off += $w;
		}
	}
}

my $lines = 0;
while ($sel->count) {
	my @ready = $sel->can_read;
	for my $fh (@ready) {
		my $fd = fileno $fh;
		my $n = sysread($fh, my $chunk, 1 << 16);
		if (!defined $n) {
			next if $! == EAGAIN || $! == EINTR;
			die "linemerge.pl: $name{$fd}: read failed: $!\n";
		}
		if ($n == 0) {
			emit($buf{$fd} . "\n"), $lines++ if length $buf{$fd};
			$buf{$fd} = '';
			$sel->remove($fh);
			close $fh;
			next;
		}
		$buf{$fd} .= $chunk;
		my $end = rindex($buf{$fd}, "\n");
		next if $end < 0;
		# one write per line keeps every line whole even where an output is shared
		for my $line (split /(?<=\n)/, substr($buf{$fd}, 0, $end + 1)) {
			emit($line);
			$lines++;
		}
		substr($buf{$fd}, 0, $end + 1) = '';
	}
}
print STDERR "linemerge.pl: stats: lines=$lines\n";
exit 0;
