#!/usr/bin/perl
# The report of `bench/run.sh auth` (bench/auth.sh) and `bench/run.sh limit`
# (bench/limit.sh): rows of one nginx, each against the row "none".  Reads
# the JSON lines of the group, writes the medians and ratios as one JSON
# file and prints the table.
#
#   bench/rows-report.pl RESULTS.jsonl OUT.json ELAPSED_S PARAMS_JSON GROUP ROW...
use strict;
use warnings;
use JSON::XS;
use List::Util qw(sum);
use FindBin;
use lib $FindBin::Bin;
use BenchReport;

my ($in, $out, $elapsed, $params, $group, @order) = @ARGV;
die "usage: rows-report.pl RESULTS.jsonl OUT.json ELAPSED PARAMS GROUP ROW...\n"
    unless @order;

my $J = JSON::XS->new->canonical->pretty;
my (@lines, %runs);

my ($lines, $byrow) = read_group($in, $group);
@lines = @$lines;
%runs = map { %$_ } values %$byrow;      # one row: by target

# the worker's CPU microseconds per request of one run
sub cpu_us {
    my ($l) = @_;
    my $n = $l->{result}{requests} or return undef;
    my $c = $l->{cpu} or return undef;
    return ($c->{utime_ticks} + $c->{stime_ticks}) * 1e6 / $c->{hz} / $n;
}

sub median { my @s = sort { $a <=> $b } @_; return $s[ $#s / 2 ] }

my %m;
for my $t (keys %runs) {
    my @r = @{ $runs{$t} };
    $m{$t} = {
        rps      => median(map { $_->{result}{rps} } @r),
        rps_runs => [ map { $_->{result}{rps} + 0 } @r ],
        cpu_us   => median(grep { defined } map { cpu_us($_) } @r),
        lat_p50_us => median(map { $_->{result}{lat_p50_us} } @r),
        lat_p99_us => median(map { $_->{result}{lat_p99_us} } @r),
    };
}

my $none = $m{none} or die "no row \"none\" to compare with\n";
for my $t (keys %m) {
    $m{$t}{ratio_to_none} = $m{$t}{rps} / $none->{rps};
    $m{$t}{extra_cpu_us} = $m{$t}{cpu_us} - $none->{cpu_us}
        if defined $m{$t}{cpu_us} && defined $none->{cpu_us};
}

my %report = (
    params => decode_json($params),
    elapsed_s => $elapsed + 0,
    rows => \%m,
    module_cached_us => (defined $m{jwt_cached} && defined $m{none_header}
                         && defined $m{jwt_cached}{cpu_us})
                        ? $m{jwt_cached}{cpu_us} - $m{none_header}{cpu_us} : undef,
    signature_check_us => (defined $m{jwt_uncached} && defined $m{jwt_cached}
                           && defined $m{jwt_uncached}{cpu_us})
                          ? $m{jwt_uncached}{cpu_us} - $m{jwt_cached}{cpu_us} : undef,
    lines => \@lines,
);

open my $o, '>', $out or die "$out: $!\n";
print $o $J->encode(\%report);
close $o;

printf "%-14s %12s %8s %10s %12s %10s\n", 'row', 'req/s', 'x none', 'CPU us/req', '+CPU us/req', 'p99 us';
for my $t (@order) {
    my $r = $m{$t} or next;
    printf "%-14s %12.0f %8.3f %10.2f %12.2f %10d\n", $t, $r->{rps}, $r->{ratio_to_none},
        $r->{cpu_us} // 0, $r->{extra_cpu_us} // 0, $r->{lat_p99_us};
}
printf "the module's check of a cached token (jwt_cached - none_header): %.2f us of CPU\n",
    $report{module_cached_us} if defined $report{module_cached_us};
printf "one RS256 check (uncached - cached): %.1f us of CPU\n", $report{signature_check_us}
    if defined $report{signature_check_us};
