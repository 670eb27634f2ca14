#!/usr/bin/perl
# The report of `bench/run.sh redis` (bench/redis.sh): reads the JSON lines of
# the redis group, writes them with the medians, ratios and targets as one
# JSON file and prints the table.
#
#   bench/redis-report.pl RESULTS.jsonl OUT.json ELAPSED_S PARAMS_JSON
use strict;
use warnings;
use JSON::XS;
use FindBin;
use lib $FindBin::Bin;
use BenchReport;

my ($in, $out, $elapsed, $params) = @ARGV;
die "usage: redis-report.pl RESULTS.jsonl OUT.json ELAPSED PARAMS\n" unless $out;

my $J = JSON::XS->new->canonical->pretty;
my (@lines, %runs);

my ($lines, $runs) = read_group($in, 'redis');
@lines = @$lines;
%runs = %$runs;

my %summary;
for my $r (keys %runs) {
    for my $t (keys %{ $runs{$r} }) {
        $summary{$r}{$t} = median_run($runs{$r}{$t});
    }
}

sub cpu {
    my ($r, $t) = @_;
    my $m = $summary{$r} && $summary{$r}{$t};
    return $m ? $m->{total_cpu_us} : undef;
}
# x over y as a throughput ratio from CPU time per request (redis-server +
# client): what the rates would be on a machine where nothing else runs
sub by_cpu { my ($r, $x, $y) = @_; return ratio(cpu($r, $y), cpu($r, $x)) }

my %ratios = (
    ping_redis_over_shm             => paired(\%runs, 'ping', 'ping_redis', 'ping_shm'),
    ping_redis_over_shm_cpu         => by_cpu('ping', 'ping_redis', 'ping_shm'),
    ping_redis_near0_over_shm       => paired(\%runs, 'ping', 'ping_redis_near0', 'ping_shm'),
    ping_redis_near0_over_shm_cpu   => by_cpu('ping', 'ping_redis_near0', 'ping_shm'),
    ping_redis_over_peer            => paired(\%runs, 'ping', 'ping_redis', 'peer_ping'),
    ping_redis_over_peer_cpu        => by_cpu('ping', 'ping_redis', 'peer_ping'),
    ping_redis_near0_over_peer      => paired(\%runs, 'ping', 'ping_redis_near0', 'peer_ping'),
    ping_redis_near0_over_peer_cpu  => by_cpu('ping', 'ping_redis_near0', 'peer_ping'),
    redis_get_over_static           => paired(\%runs, 'get', 'call_redis_get', 'call_static'),
    redis_get_over_static_cpu       => by_cpu('get', 'call_redis_get', 'call_static'),
    redis_get_over_peer             => paired(\%runs, 'get', 'call_redis_get', 'peer_redis_get'),
    redis_get_over_peer_cpu         => by_cpu('get', 'call_redis_get', 'peer_redis_get'),
    redis_get_over_redis_benchmark  => paired(\%runs, 'get', 'call_redis_get', 'redis_benchmark'),
    redis_get_over_redis_benchmark_cpu => by_cpu('get', 'call_redis_get', 'redis_benchmark'),
);
my %targets = (
    ping_redis_over_shm   => { value => $ratios{ping_redis_over_shm}, min => 0.6,
                               by_cpu_time => $ratios{ping_redis_over_shm_cpu} },
    redis_get_over_static => { value => $ratios{redis_get_over_static}, min => 0.6,
                               by_cpu_time => $ratios{redis_get_over_static_cpu} },
    ping_redis_over_sdk_v2 => { value => $ratios{ping_redis_over_peer}, min => 10,
                                by_cpu_time => $ratios{ping_redis_over_peer_cpu},
                                note => 'the SDK keeps its sessions in memory: it has no session store' },
    redis_get_over_sdk_v2 => { value => $ratios{redis_get_over_peer}, min => 10,
                               by_cpu_time => $ratios{redis_get_over_peer_cpu} },
);
for my $t (values %targets) {
    next unless defined $t->{value};
    $t->{met} = $t->{value} >= $t->{min} ? JSON::XS::true : JSON::XS::false;
}

my $cpu = slurp_cmd("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2");
$cpu =~ s/^\s+//;

my $doc = {
    generated_utc => slurp_cmd('date -u +%Y-%m-%dT%H:%M:%SZ'),
    elapsed_s     => $elapsed + 0,
    params        => decode_json($params),
    rows          => {
        ping => 'a 2025-06-18 session ping (Mcp-Session-Id, MCP-Protocol-Version)',
        get  => 'tools/call, 2026-07-28 stateless; GET of one key holding 100 bytes',
    },
    rig => {
        cpus   => slurp_cmd('nproc') + 0,
        cpu    => $cpu,
        kernel => slurp_cmd('uname -r'),
        nginx  => slurp_cmd('(/usr/sbin/nginx -v 2>&1)'),
        redis  => slurp_cmd('redis-server --version'),
        redis_benchmark => slurp_cmd("dpkg-query -W -f='\${Version}' redis-tools"),
        wrk    => slurp_cmd("dpkg-query -W -f='\${Version}' wrk"),
        node   => slurp_cmd('node --version'),
        sdk    => '@modelcontextprotocol/server 2.4.0, @modelcontextprotocol/node 2.1.2, redis 5.12.4',
    },
    summary => \%summary,
    ratios  => \%ratios,
    targets => \%targets,
    raw     => \@lines,
};
open my $o, '>', $out or die "$out: $!\n";
print {$o} $J->encode($doc);
close $o;

# ---------------------------------------------------------------------------
# the table


my @groups = (
    [ ping => 'session ping, 2025-06-18', 'ping_shm', 'ping_redis',
      [ ping_shm         => 'module, shm store' ],
      [ ping_redis       => 'module, Redis store (near=2s)' ],
      [ ping_redis_near0 => 'module, Redis store, near=0' ],
      [ peer_ping        => 'TS SDK v2, session in memory' ] ],
    [ get => 'tools/call, 2026-07-28 stateless', 'call_static', 'call_redis_get',
      [ call_static      => 'module, static text tool' ],
      [ call_redis_get   => 'module, redis GET tool' ],
      [ peer_redis_get   => 'TS SDK v2 + node-redis, GET' ],
      [ redis_benchmark  => 'redis-benchmark GET (no MCP)' ] ],
);
my $p = decode_json($params);
printf "\nRedis: sessions and a GET; %d connections; redis-server on CPU %d,\n"
     . "the client side (redis-benchmark, or wrk with nginx or node) on CPU %d\n",
       $p->{connections}, $p->{db_cpu}, $p->{client_cpu};
printf "\n%-34s %9s %8s %8s %14s %8s %8s %8s\n", 'req/s (median of 3)', 'req/s',
       'x/base', 'mod/x', 'p50/p99 us', 'redis us', 'clnt us', 'sum us';
print "(x/base: this row over the first of its group; mod/x: the module's Redis row\n"
    . " (ping_redis, call_redis_get) over this row; both the median of the 3\n"
    . " interleaved run pairs' ratios.  CPU us per request: redis-server, the client\n"
    . " (the nginx worker, node or redis-benchmark), their sum)\n";
for my $g (@groups) {
    my ($row, $title, $base, $mod, @t) = @$g;
    my $s = $summary{$row} or next;
    print "$title\n";
    for my $e (@t) {
        my ($t, $label) = @$e;
        my $m = $s->{$t} or next;
        printf "  %-32s %9s %8s %8s %14s %8s %8s %8s\n", $label, n($m->{rps}),
            x(paired(\%runs, $row, $t, $base), '%.2f'),
            $t eq $mod ? '' : x(paired(\%runs, $row, $mod, $t), $t =~ /^peer/ ? '%.1fx' : '%.2f'),
            defined $m->{lat_p50_us} ? "$m->{lat_p50_us}/$m->{lat_p99_us}"
                                     : sprintf('%.0f (mean)', $m->{lat_mean_us}),
            x($m->{db_cpu_us}, '%.1f'), x($m->{client_cpu_us}, '%.1f'),
            x($m->{total_cpu_us}, '%.1f');
    }
}
printf "by CPU time (sum us): ping_redis/ping_shm %s, near=0 %s, ping_redis/SDK %s;\n"
     . "  call_redis_get/call_static %s, /SDK %s, /redis-benchmark %s\n",
    x($ratios{ping_redis_over_shm_cpu}, '%.2f'),
    x($ratios{ping_redis_near0_over_shm_cpu}, '%.2f'),
    x($ratios{ping_redis_over_peer_cpu}, '%.1fx'),
    x($ratios{redis_get_over_static_cpu}, '%.2f'),
    x($ratios{redis_get_over_peer_cpu}, '%.1fx'),
    x($ratios{redis_get_over_redis_benchmark_cpu}, '%.2f');

print "\ntargets (issue 13):\n";
for my $k (qw(ping_redis_over_shm redis_get_over_static ping_redis_over_sdk_v2
              redis_get_over_sdk_v2)) {
    my $t = $targets{$k};
    printf "  %-28s %8s  >= %-3s %-12s (by CPU time: %s)%s\n", $k, x($t->{value}, '%.2f'),
        $t->{min}, !defined $t->{met} ? 'not measured' : $t->{met} ? 'met' : 'NOT MET',
        x($t->{by_cpu_time}, '%.2f'), $t->{note} ? "; $t->{note}" : '';
}
printf "\nelapsed: %d s\n", $elapsed;
