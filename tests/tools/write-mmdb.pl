#!/usr/bin/perl
# Write small MaxMind DB files for furrow's ip_lookups tests, with Debian's
# libmaxmind-db-writer-perl:  write-mmdb.pl OUTDIR
# Creates GeoIP2-City.mmdb, GeoIP2-ISP.mmdb, GeoIP2-Domain.mmdb,
# GeoIP2-Connection-Type.mmdb and GeoLite2-ASN.mmdb with a handful of documentation/test networks; the values
# follow the layout of MaxMind's own databases (country.iso_code, subdivisions[].iso_code,
# city.names.en, location.{latitude,longitude,time_zone}, postal.code, isp, organization,
# domain, connection_type).
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift or die "usage: $0 OUTDIR\n";

my %types = (
    country => 'map', iso_code => 'utf8_string', names => 'map', en => 'utf8_string',
    de => 'utf8_string', city => 'map', subdivisions => [ 'array', 'map' ],
    location => 'map', latitude => 'double', longitude => 'double', time_zone => 'utf8_string',
    postal => 'map', code => 'utf8_string', isp => 'utf8_string', organization => 'utf8_string',
    domain => 'utf8_string', connection_type => 'utf8_string',
    autonomous_system_number => 'uint32', autonomous_system_organization => 'utf8_string',
);

sub write_db {
    my ($file, $type, $nets) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version            => 6,
        record_size           => 28,
        remove_reserved_networks => 0,
        database_type         => $type,
        languages             => ['en'],
        description           => { en => "furrow test $type" },
        map_key_type_callback => sub { $types{ $_[0] } },
    );
    for my $n (@$nets) {
        $tree->insert_network($n->[0], $n->[1]);
    }
    open my $fh, '>:raw', "$out/$file" or die "$out/$file: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$out/$file: $!\n";
}

write_db('GeoIP2-City.mmdb', 'GeoIP2-City', [
    [ '175.16.199.0/24', {
        country      => { iso_code => 'CN', names => { en => 'China' } },
        subdivisions => [ { iso_code => '22', names => { en => 'Jilin Sheng' } } ],
        city         => { names => { en => 'Changchun', de => 'Tschangtschun' } },
        location     => { latitude => 43.88, longitude => 125.3228, time_zone => 'Asia/Harbin' },
    } ],
    [ '81.2.69.160/27', {
        country      => { iso_code => 'GB' },
        subdivisions => [ { iso_code => 'ENG', names => { en => 'England' } },
                          { iso_code => 'WBK', names => { en => 'West Berkshire' } } ],
        city         => { names => { en => 'London' } },
        postal       => { code => 'SW1A' },
        location     => { latitude => 51.5142, longitude => -0.0931, time_zone => 'Europe/London' },
    } ],
    [ '203.0.113.0/24', { country => { iso_code => 'AU' } } ],
    [ '2001:db8:1::/48', {
        country  => { iso_code => 'US' },
        city     => { names => { en => 'Milton' } },
        location => { latitude => 47.2513, longitude => -122.3149, time_zone => 'America/Los_Angeles' },
    } ],
]);

write_db('GeoIP2-ISP.mmdb', 'GeoIP2-ISP', [
    [ '175.16.199.0/24', { isp => 'Century Link', organization => 'Lariat Software' } ],
    [ '1.128.0.0/11', { isp => 'Telstra Internet', organization => 'Telstra Internet',
        autonomous_system_number => 1221, autonomous_system_organization => 'Telstra Pty Ltd' } ],
]);

write_db('GeoIP2-Domain.mmdb', 'GeoIP2-Domain', [
    [ '175.16.199.0/24', { domain => 'shoesfromnowhere.com' } ],
]);

write_db('GeoIP2-Connection-Type.mmdb', 'GeoIP2-Connection-Type', [
    [ '175.16.199.0/24', { connection_type => 'Dialup' } ],
    [ '1.0.1.0/24', { connection_type => 'Cable/DSL' } ],
]);

write_db('GeoLite2-ASN.mmdb', 'GeoLite2-ASN', [
    [ '1.128.0.0/11', { autonomous_system_number => 1221, autonomous_system_organization => 'Telstra Pty Ltd' } ],
    [ '175.16.199.0/24', { autonomous_system_number => 64512 } ],
]);
