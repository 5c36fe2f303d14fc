#!/usr/bin/perl
# linemerge.pl IN... -- OUT...: merge line streams without interleaving, for fifo-setup.sh.
#
# Each writer of bad rows (collector, enrich) has its own FIFO, because a bad row can be larger
# than PIPE_BUF and two writers on one pipe could interleave. This reader takes whole lines from
# every input as they arrive and writes each complete line, with one write, to every output
# (a file opened for append, or a FIFO). Inputs are opened without blocking, so a writer that
# has not started yet does not hold up the others. When an input's writer closes it, the
# input is reopened, so a writer that the launcher restarts can connect again; the merge exits
# when every input has had a writer and none has one any more (the pipeline stopped), after
# writing any last unterminated line with a newline added. With -s (the launcher and the systemd
# unit use it) it runs until SIGTERM or SIGINT instead, then drains what the pipes still hold
# and exits: a supervisor that restarts writers knows better than end-of-file when the
# pipeline has stopped.
use strict;
use warnings;
use Fcntl qw(O_RDONLY O_NONBLOCK F_GETFL F_SETFL);
use IO::Select;
use Errno qw(EAGAIN EINTR);

$SIG{PIPE} = 'IGNORE';
my (@in, @out);
my $list = \@in;
my $until_signal = 0;
my $stop = 0;
if (@ARGV && $ARGV[0] eq '-s') {
	$until_signal = 1;
	shift @ARGV;
	$SIG{TERM} = $SIG{INT} = sub { $stop = 1; };
}
for my $a (@ARGV) {
	if ($a eq '--') { $list = \@out; next; }
	push @$list, $a;
}
die "usage: linemerge.pl [-s] IN... -- OUT...\n" unless @in && @out;

my @ofh;
for my $o (@out) {
	open(my $fh, '>>', $o) or die "linemerge.pl: $o: cannot open for writing: $!\n";
	binmode $fh;
	push @ofh, $fh;
}

my $sel = IO::Select->new;
my (%buf, %name, %idle);

# Open (or reopen) an input. A FIFO opened before any writer reports nothing to select(2)
# until a writer has connected, so idle inputs cost nothing.
sub open_input {
	my ($i) = @_;
	sysopen(my $fh, $i, O_RDONLY | O_NONBLOCK) or die "linemerge.pl: $i: cannot open: $!\n";
	binmode $fh;
	$sel->add($fh);
	$buf{fileno $fh} = '';
	$name{fileno $fh} = $i;
}
open_input($_) for @in;

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
while ($until_signal ? !$stop : keys(%idle) < @in) {
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
			my $path = $name{$fd};
			$sel->remove($fh);
			close $fh;
			delete $buf{$fd};
			$idle{$path} = 1;
			open_input($path);
			next;
		}
		delete $idle{$name{$fd}};
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
# After a stop signal the writers are gone: take what the pipes still hold.
if ($until_signal) {
	for my $fh ($sel->handles) {
		my $fd = fileno $fh;
		while (1) {
			my $n = sysread($fh, my $chunk, 1 << 16);
			last if !defined($n) || $n == 0;
			$buf{$fd} .= $chunk;
		}
		next unless length $buf{$fd};
		$buf{$fd} .= "\n" unless substr($buf{$fd}, -1) eq "\n";
		for my $line (split /(?<=\n)/, $buf{$fd}) {
			emit($line);
			$lines++;
		}
	}
}
print STDERR "linemerge.pl: stats: lines=$lines\n";
exit 0;
