package BenchReport;

# What the reports of bench/pg.sh, bench/redis.sh, bench/auth.sh and
# bench/limit.sh share: reading a group's results, a run's CPU per request,
# a target's median run, the median of run-by-run ratios, and the table's
# number formats.

use strict;
use warnings;
use Exporter qw(import);
use JSON::XS ();

our @EXPORT = qw(read_group per_request median_run paired ratio slurp_cmd n x);

# the lines of one group in a results.jsonl: all of them (for the report's
# "lines"), and the measured runs (no warm-up) by row and target
sub read_group {
    my ($in, $group) = @_;
    my (@lines, %runs);
    open my $fh, '<', $in or die "$in: $!\n";
    while (<$fh>) {
        next unless /\S/;
        my $l = JSON::XS::decode_json($_);
        next unless $l->{group} eq $group;
        push @lines, $l;
        push @{ $runs{ $l->{row} }{ $l->{target} } }, $l if $l->{pass} ne 'warmup';
    }
    close $fh;
    return (\@lines, \%runs);
}

# CPU microseconds per request of one run: the database (PostgreSQL's
# processes, or redis-server), and the client (the MCP server process, the
# nginx worker or node; or pgbench, redis-benchmark)
sub per_request {
    my ($l) = @_;
    my $n = $l->{result}{requests} or return {};
    my $c = $l->{cpu} or return {};
    my $k = 1e6 / $c->{hz} / $n;
    my %r = (db_cpu_us => $c->{db_ticks} * $k, client_cpu_us => $c->{client_ticks} * $k);
    $r{total_cpu_us} = $r{db_cpu_us} + $r{client_cpu_us};
    return \%r;
}

sub median_run {
    my ($list) = @_;
    return undef unless $list && @$list;
    my @s = sort { $a->{result}{rps} <=> $b->{result}{rps} } @$list;
    my $m = $s[ $#s / 2 ];
    return {
        rps         => $m->{result}{rps} + 0,
        rps_runs    => [ map { $_->{result}{rps} + 0 } @$list ],
        lat_mean_us => ($m->{result}{lat_mean_us} // 0) + 0,
        lat_p50_us  => $m->{result}{lat_p50_us},
        lat_p99_us  => $m->{result}{lat_p99_us},
        %{ per_request($m) },
    };
}

# a target over another of the same row of $runs ({row}{target} => [runs]),
# run by run (they are interleaved): the median of the per-run ratios
sub paired {
    my ($runs, $row, $num, $den) = @_;
    my $x = $runs->{$row}{$num} or return undef;
    my $y = $runs->{$row}{$den} or return undef;
    my %y = map { $_->{pass} => $_->{result}{rps} } @$y;
    my @q = sort { $a <=> $b } map { $_->{result}{rps} / $y{ $_->{pass} } }
            grep { $y{ $_->{pass} } } @$x;
    return @q ? $q[ $#q / 2 ] : undef;
}

sub ratio { my ($x, $y) = @_; return (defined $x && defined $y && $y > 0) ? $x / $y : undef }
sub slurp_cmd { my $c = `$_[0] 2>/dev/null`; chomp $c; return $c }
sub n { my ($v) = @_; return defined $v ? sprintf('%.0f', $v) : '-' }
sub x { my ($v, $f) = @_; return defined $v ? sprintf($f, $v) : '-' }

1;
