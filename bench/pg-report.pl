#!/usr/bin/perl
# The report of `bench/run.sh pg` (bench/pg.sh): reads the JSON lines of the
# pg group, writes them with the medians, ratios and targets as one JSON file
# and prints the table.
#
#   bench/pg-report.pl RESULTS.jsonl OUT.json ELAPSED_S PARAMS_JSON
use strict;
use warnings;
use JSON::XS;
use FindBin;
use lib $FindBin::Bin;
use BenchReport;

my ($in, $out, $elapsed, $params) = @ARGV;
die "usage: pg-report.pl RESULTS.jsonl OUT.json ELAPSED PARAMS\n" unless $out;

my $J = JSON::XS->new->canonical->pretty;
my (@lines, %runs);

my ($lines, $runs) = read_group($in, 'pg');
@lines = @$lines;
%runs = %$runs;

my %summary;
for my $r (keys %runs) {
    for my $t (keys %{ $runs{$r} }) {
        $summary{$r}{$t} = median_run($runs{$r}{$t});
    }
}

my $s = $summary{pk_lookup} || {};
sub rps { my ($t) = @_; return $s->{$t} ? $s->{$t}{rps} : undef }
sub cpu { my ($t) = @_; return $s->{$t} ? $s->{$t}{total_cpu_us} : undef }

# throughput ratios from CPU time per lookup (database + client): what the
# rates would be on a machine where nothing else runs
my %ratios = (
    module_over_pgbench_cpu    => ratio(cpu('pgbench'), cpu('module')),
    module_over_peer_cpu       => ratio(cpu('peer'), cpu('module')),
    module_over_pgbench        => ratio(rps('module'), rps('pgbench')),
    module_over_pgbench_paired => paired(\%runs, 'pk_lookup', 'module', 'pgbench'),
    module_over_peer           => ratio(rps('module'), rps('peer')),
    module_over_peer_paired    => paired(\%runs, 'pk_lookup', 'module', 'peer'),
    module_ro_over_pgbench     => ratio(rps('module_ro'), rps('pgbench')),
    module_ro_over_module      => paired(\%runs, 'pk_lookup', 'module_ro', 'module'),
);
my %targets = (
    lookup_over_pgbench => { value => $ratios{module_over_pgbench_paired}, min => 0.7,
                             by_cpu_time => $ratios{module_over_pgbench_cpu} },
    lookup_over_sdk_v2  => { value => $ratios{module_over_peer_paired}, min => 10,
                             by_cpu_time => $ratios{module_over_peer_cpu} },
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
    query         => 'SELECT id, status, total FROM orders WHERE id = $1 (random id 1..10000)',
    rig => {
        cpus     => slurp_cmd('nproc') + 0,
        cpu      => $cpu,
        kernel   => slurp_cmd('uname -r'),
        nginx    => slurp_cmd('(/usr/sbin/nginx -v 2>&1)'),
        postgres => slurp_cmd('/usr/lib/postgresql/15/bin/postgres --version'),
        pgbench  => slurp_cmd('pgbench --version'),
        wrk      => slurp_cmd("dpkg-query -W -f='\${Version}' wrk"),
        node     => slurp_cmd('node --version'),
        sdk      => '@modelcontextprotocol/server 2.4.0, @modelcontextprotocol/node 2.1.2, pg 8.23.1',
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


my %label = (
    pgbench   => 'pgbench -M prepared',
    module    => 'module, tools/call pk_lookup',
    module_ro => 'module, the same read_only',
    peer      => 'TS SDK v2 + pg.Pool, tools/call',
);
my $p = decode_json($params);
printf "\nPostgreSQL primary-key lookup, random ids; %d connections; PostgreSQL on CPU %d,\n"
     . "the client side (pgbench, or wrk with nginx or node) on CPU %d\n",
       $p->{connections}, $p->{db_cpu}, $p->{client_cpu};
printf "\n%-34s %9s %8s %8s %14s %8s %8s %8s\n", 'lookups/s (median of 3)', 'req/s',
       'x/pgb', 'mod/x', 'p50/p99 us', 'db us', 'clnt us', 'sum us';
print "(x/pgb: this row over pgbench; mod/x: the module over this row; both the median\n"
    . " of the 3 interleaved run pairs' ratios.  CPU us per lookup: PostgreSQL's\n"
    . " processes, the client (pgbench, or the nginx worker or node), their sum)\n";
for my $t (qw(pgbench module module_ro peer)) {
    my $m = $s->{$t} or next;
    printf "%-34s %9s %8s %8s %14s %8s %8s %8s\n", $label{$t}, n($m->{rps}),
        x(paired(\%runs, 'pk_lookup', $t, 'pgbench'), '%.2f'),
        $t eq 'module' ? '' : x(paired(\%runs, 'pk_lookup', 'module', $t), $t eq 'peer' ? '%.1fx' : '%.2f'),
        defined $m->{lat_p50_us} ? "$m->{lat_p50_us}/$m->{lat_p99_us}"
                                 : sprintf('%.0f (mean)', $m->{lat_mean_us}),
        x($m->{db_cpu_us}, '%.1f'), x($m->{client_cpu_us}, '%.1f'),
        x($m->{total_cpu_us}, '%.1f');
}
printf "by CPU time (sum us): module/pgbench %s, module/SDK %s\n",
    x($ratios{module_over_pgbench_cpu}, '%.2f'), x($ratios{module_over_peer_cpu}, '%.1fx');

print "\ntargets:\n";
for my $k (sort keys %targets) {
    my $t = $targets{$k};
    printf "  %-36s %8s  >= %s  %s  (by CPU time: %s)\n", $k, x($t->{value}, '%.2f'),
        $t->{min}, !defined $t->{met} ? 'not measured' : $t->{met} ? 'met' : 'NOT MET',
        x($t->{by_cpu_time}, '%.2f');
}
printf "\nelapsed: %d s\n", $elapsed;
