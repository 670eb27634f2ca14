#!/usr/bin/perl
# The report of `make bench`: reads the JSON lines bench/run.sh wrote (one
# per wrk pass, memory snapshot and zone measurement), writes them with the
# medians, ratios and targets as one JSON file and prints the table.
#
#   bench/report.pl RESULTS.jsonl OUT.json ELAPSED_S PARAMS_JSON
use strict;
use warnings;
use JSON::XS;

my ($in, $out, $elapsed, $params) = @ARGV;
die "usage: report.pl RESULTS.jsonl OUT.json ELAPSED PARAMS\n" unless $out;

my $J = JSON::XS->new->canonical->pretty;
my (@lines, %runs, %mem, %shm, %failed);

open my $fh, '<', $in or die "$in: $!\n";
while (<$fh>) {
    next unless /\S/;
    my $l = decode_json($_);
    push @lines, $l;
    if ($l->{group} eq 'memory') {
        $mem{ $l->{row} } = $l->{mem};
    } elsif ($l->{group} eq 'shm') {
        $shm{ $l->{row} } = $l;
    } elsif ($l->{pass} eq 'failed') {
        $failed{ $l->{group} }{ $l->{row} }{ $l->{target} } = $l->{reason};
    } elsif ($l->{pass} ne 'warmup') {
        push @{ $runs{ $l->{group} }{ $l->{row} }{ $l->{target} } }, $l;
    }
}
close $fh;

# the median run by throughput (3 runs: the middle one)
sub median_run {
    my ($list) = @_;
    return undef unless $list && @$list;
    my @s = sort { $a->{result}{rps} <=> $b->{result}{rps} } @$list;
    my $m = $s[ $#s / 2 ];
    # the server's own CPU time per request in that run (its utime and
    # stime over the run's requests): what other jobs on the machine do
    # changes req/s much more than this
    my ($us_user, $us_sys);
    if ($m->{cpu} && $m->{result}{requests}) {
        my $k = 1e6 / $m->{cpu}{hz} / $m->{result}{requests};
        $us_user = $m->{cpu}{utime_ticks} * $k;
        $us_sys = $m->{cpu}{stime_ticks} * $k;
    }
    return {
        cpu_us_user => $us_user,
        cpu_us_sys  => $us_sys,
        rps        => $m->{result}{rps} + 0,
        rps_runs   => [ map { $_->{result}{rps} + 0 } @$list ],
        lat_p50_us => $m->{result}{lat_p50_us} + 0,
        lat_p99_us => $m->{result}{lat_p99_us} + 0,
    };
}

my %summary;
for my $g (keys %runs) {
    for my $r (keys %{ $runs{$g} }) {
        for my $t (keys %{ $runs{$g}{$r} }) {
            $summary{$g}{$r}{$t} = median_run($runs{$g}{$r}{$t});
        }
    }
}

sub rps { my ($g, $r, $t) = @_; my $s = $summary{$g}{$r}{$t}; return $s ? $s->{rps} : undef }
sub ratio { my ($a, $b) = @_; return (defined $a && defined $b && $b > 0) ? $a / $b : undef }

my %label = (
    call_2026    => 'tools/call hello, 2026 stateless',
    lookup_2026  => 'tools/call lookup (schema), 2026',
    list_2026    => 'tools/list (10 tools), 2026',
    call_session => 'tools/call hello in a session',
    initialize   => 'initialize (new session)',
);
my @main = qw(call_2026 lookup_2026 list_2026 call_session initialize);

# module/ceiling run by run (the two are interleaved): the median of the
# three ratios, less exposed to a noisy machine than the ratio of medians
sub paired_ratio {
    my ($g, $r) = @_;
    my $m = $runs{$g}{$r}{module} or return undef;
    my $c = $runs{$g}{$r}{ceiling} or return undef;
    my %c = map { $_->{pass} => $_->{result}{rps} } @$c;
    my @q = sort { $a <=> $b }
            map { $_->{result}{rps} / $c{ $_->{pass} } }
            grep { $c{ $_->{pass} } } @$m;
    return @q ? $q[ $#q / 2 ] : undef;
}

for my $g (keys %summary) {
    for my $r (keys %{ $summary{$g} }) {
        my $p = paired_ratio($g, $r);
        $summary{$g}{$r}{module_over_ceiling_paired} = $p if defined $p;
    }
}

sub cpu {
    my ($g, $r, $t) = @_;
    my $s = $summary{$g}{$r}{$t} or return undef;
    return undef unless defined $s->{cpu_us_user};
    return $s->{cpu_us_user} + $s->{cpu_us_sys};
}

for my $r (@main) {
    my $s = $summary{main}{$r} or next;
    # the same ratios from the server's CPU time per request
    $s->{module_over_ceiling_cpu} = ratio(cpu('main', $r, 'ceiling'), cpu('main', $r, 'module'));
    $s->{module_over_peer_cpu} = ratio(cpu('main', $r, 'peer'), cpu('main', $r, 'module'));
    $s->{module_over_ceiling} = ratio(rps('main', $r, 'module'), rps('main', $r, 'ceiling'));
    $s->{module_over_peer}    = ratio(rps('main', $r, 'module'), rps('main', $r, 'peer'));
}

# shared memory per session
my %shm_summary;
if ($shm{zone_1m} && $shm{zone_2m}) {
    my $n1 = $shm{zone_1m}{result}{sessions_before_eviction};
    my $n2 = $shm{zone_2m}{result}{sessions_before_eviction};
    %shm_summary = (
        sessions_in_1MiB => $n1 + 0,
        sessions_in_2MiB => $n2 + 0,
        bytes_per_session_marginal => ($n2 > $n1 ? 1048576 / ($n2 - $n1) : undef),
        bytes_per_session_1MiB_zone => ($n1 ? 1048576 / $n1 : undef),
    );
}

my $worker_hwm = $mem{nginx_worker_loaded} ? $mem{nginx_worker_loaded}{VmHWM_kB} : undef;
my $worker_hwm_calls = $mem{nginx_worker_before_initialize}
                     ? $mem{nginx_worker_before_initialize}{VmHWM_kB} : undef;

# session/stateless from the two rows' paired module/ceiling ratios: the two
# rows run a minute apart, and each ceiling absorbs what the machine was
# doing meanwhile (their ceilings differ only in the reply's bytes)
my $sess_over_stateless = ratio($summary{main}{call_session}{module_over_ceiling_paired},
                                $summary{main}{call_2026}{module_over_ceiling_paired});
my $sess_over_stateless_raw = ratio(rps('main', 'call_session', 'module'),
                                    rps('main', 'call_2026', 'module'));
my %targets = (
    static_call_over_ceiling => {
        value => $summary{main}{call_2026}{module_over_ceiling_paired}, min => 0.75,
        by_cpu_time => $summary{main}{call_2026}{module_over_ceiling_cpu} },
    static_call_over_peer_stateless => {
        value => $summary{main}{call_2026}{module_over_peer}, min => 40,
        by_cpu_time => $summary{main}{call_2026}{module_over_peer_cpu} },
    session_call_over_stateless => {
        value => $sess_over_stateless, min => 0.90,
        by_cpu_time => ratio(cpu('main', 'call_2026', 'module'), cpu('main', 'call_session', 'module')),
        raw_rps_ratio => $sess_over_stateless_raw },
    worker_VmHWM_MiB_after_tool_calls => {
        value => (defined $worker_hwm_calls ? $worker_hwm_calls / 1024 : undef), max => 16 },
    worker_VmHWM_MiB_after_all_rows => {
        value => (defined $worker_hwm ? $worker_hwm / 1024 : undef), max => 16 },
);
# the verdict: by the server's CPU time per request where it was measured
# (on a shared machine req/s moves with everything else that runs; CPU time
# per request much less), else by req/s
for my $t (values %targets) {
    if (defined $t->{by_cpu_time}) {
        $t->{by_throughput} = $t->{value};
        $t->{value} = $t->{by_cpu_time};
        $t->{judged_by} = 'cpu_time';
    }
    next unless defined $t->{value};
    $t->{met} = defined $t->{min} ? ($t->{value} >= $t->{min} ? JSON::XS::true : JSON::XS::false)
                                  : ($t->{value} <= $t->{max} ? JSON::XS::true : JSON::XS::false);
}

sub slurp_cmd { my $c = `$_[0] 2>/dev/null`; chomp $c; return $c }
my $cpu = slurp_cmd("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2");
$cpu =~ s/^\s+//;

my $doc = {
    generated_utc => slurp_cmd('date -u +%Y-%m-%dT%H:%M:%SZ'),
    elapsed_s     => $elapsed + 0,
    params        => decode_json($params),
    rig => {
        cpus   => slurp_cmd('nproc') + 0,
        cpu    => $cpu,
        kernel => slurp_cmd('uname -r'),
        nginx  => slurp_cmd('/usr/sbin/nginx -v 2>&1'),
        wrk    => slurp_cmd("dpkg-query -W -f='\${Version}' wrk"),
        node   => slurp_cmd('node --version'),
        sdk    => '@modelcontextprotocol/sdk 1.32.2',
        pinning => 'server on CPU 0 (taskset, worker_cpu_affinity), wrk on CPU 1',
    },
    summary => \%summary,
    failed  => \%failed,
    memory  => \%mem,
    shm     => \%shm_summary,
    targets => \%targets,
    raw     => \@lines,
};
open my $o, '>', $out or die "$out: $!\n";
print {$o} $J->encode($doc);
close $o;

# ---------------------------------------------------------------------------
# the table

sub n { my ($v) = @_; return defined $v ? sprintf('%.0f', $v) : '-' }
sub nf {
    my ($g, $r, $t) = @_;
    return 'FAILED' if $failed{$g}{$r}{$t};
    return n(rps($g, $r, $t));
}
sub x { my ($v, $f) = @_; return defined $v ? sprintf($f, $v) : '-' }

printf "\n%-34s %9s %9s %9s %8s %8s %12s\n", 'req/s (median of 3)', 'ceiling',
       'module', 'peer', 'mod/ceil', 'mod/peer', 'p50/p99 us';
print "(mod/ceil: median of the 3 interleaved run pairs' ratios)\n";
for my $r (@main) {
    my $s = $summary{main}{$r} or next;
    my $m = $s->{module};
    printf "%-34s %9s %9s %9s %8s %8s %12s\n", $label{$r},
        n(rps('main', $r, 'ceiling')), n(rps('main', $r, 'module')),
        n(rps('main', $r, 'peer')),
        x($s->{module_over_ceiling_paired}, '%.2f'), x($s->{module_over_peer}, '%.1fx'),
        $m ? "$m->{lat_p50_us}/$m->{lat_p99_us}" : '-';
}

printf "\n%-34s %9s %9s %9s %8s %8s\n", 'server CPU us per request', 'ceiling',
       'module', 'peer', 'mod/ceil', 'mod/peer';
print "(utime + stime of the worker or node over the median run; ratios as throughput would be)\n";
for my $r (@main) {
    my $s = $summary{main}{$r} or next;
    printf "%-34s %9s %9s %9s %8s %8s\n", $label{$r},
        x(cpu('main', $r, 'ceiling'), '%.1f'), x(cpu('main', $r, 'module'), '%.1f'),
        x(cpu('main', $r, 'peer'), '%.0f'),
        x($s->{module_over_ceiling_cpu}, '%.2f'), x($s->{module_over_peer_cpu}, '%.1fx');
}

if ($summary{workers2}) {
    print "\n2 workers (CPU 0 and 1, wrk shares CPU 1):\n";
    for my $r (qw(call_2026 call_session)) {
        printf "  %-32s ceiling %9s  module %9s  (1 worker: %s)\n", $label{$r},
            nf('workers2', $r, 'ceiling'), nf('workers2', $r, 'module'),
            n(rps('main', $r, 'module'));
    }
}

if ($summary{location}) {
    my $l = $summary{location}{location_2026};
    print "\nlocation backend (tools/call of a `pass` tool against a plain proxy_pass\n"
        . "to the same backend, req/s, median of 3; paired ratio):\n";
    printf "  proxy_pass %9s  pass tool %9s  pass/proxy_pass %s  CPU us %s / %s\n",
        nf('location', 'location_2026', 'ceiling'),
        nf('location', 'location_2026', 'module'),
        x($l->{module_over_ceiling_paired}, '%.2f'),
        x(cpu('location', 'location_2026', 'ceiling'), '%.1f'),
        x(cpu('location', 'location_2026', 'module'), '%.1f');
}

my @cat = sort { ($a =~ /(\d+)/)[0] <=> ($b =~ /(\d+)/)[0] }
          grep { /^catalog\d+$/ } keys %summary;
if (@cat) {
    print "\ncatalog size (module, 1 worker):\n";
    print "  req/s and (module/ceiling of tools/call hello, paired)\n";
    printf "  %-8s %22s %22s %22s %10s\n", 'tools', 'list first page', 'list last page',
           'call last tool', 'VmHWM MiB';
    for my $g (@cat) {
        my ($n) = $g =~ /(\d+)/;
        my $m = $mem{"nginx_worker_$g"};
        printf "  %-8s %22s %22s %22s %10s\n", $n,
            map({ my $v = rps($g, $_, 'module');
                  defined $v ? sprintf('%.0f (%s)', $v,
                      x($summary{$g}{$_}{module_over_ceiling_paired}, '%.2f')) : '-' }
                qw(list_first list_last call_last)),
            $m ? sprintf('%.1f', $m->{VmHWM_kB} / 1024) : '-';
    }
}

print "\nmemory:\n";
for my $k (qw(nginx_worker_idle nginx_worker_before_initialize nginx_worker_loaded
              peer_stateless_loaded peer_stateful_loaded peer_stateful_after_initialize)) {
    my $m = $mem{$k} or next;
    printf "  %-32s VmHWM %7.1f MiB  VmRSS %7.1f MiB  RssAnon %7.1f MiB  RssShmem %6.1f MiB\n",
        $k, $m->{VmHWM_kB} / 1024, $m->{VmRSS_kB} / 1024, ($m->{RssAnon_kB} // 0) / 1024,
        ($m->{RssShmem_kB} // 0) / 1024;
}
if (%shm_summary) {
    printf "  shared memory per session: %s bytes (1 MiB zone: %d sessions, 2 MiB: %d)\n",
        x($shm_summary{bytes_per_session_marginal}, '%.0f'),
        $shm_summary{sessions_in_1MiB}, $shm_summary{sessions_in_2MiB};
}

print "\ntargets:\n";
for my $k (sort keys %targets) {
    my $t = $targets{$k};
    printf "  %-36s %8s  %s %s  %s%s\n", $k, x($t->{value}, '%.2f'),
        defined $t->{min} ? '>=' : '<=', $t->{min} // $t->{max},
        !defined $t->{met} ? 'not measured' : $t->{met} ? 'met' : 'NOT MET',
        defined $t->{by_throughput} ? sprintf('  (by CPU time; by req/s: %.2f)', $t->{by_throughput}) : '';
}
printf "\nelapsed: %d s\n", $elapsed;
