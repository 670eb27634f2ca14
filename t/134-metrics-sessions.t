#!/usr/bin/perl
# The session and connection metrics over 4 workers:
# mcp_server_sessions_active (the shm store's sessions alive, exact: made,
# deleted, expired by the idle timeout, evicted from a full zone; a Redis
# store's near copies in the same zone are not counted),
# mcp_server_session_duration_seconds (one observation per DELETE, shm or
# Redis, per eviction and per idle expiry, which ends when the timeout ran
# out; by protocol revision; a Redis value of format 1 is still served),
# mcp_upstream_connections (PostgreSQL and Redis pools by state: one
# connection each worker opens at start, idle; busy while a call holds
# one; the Redis channel listeners; during a reload an old worker's busy
# connection counts beside the new workers', and leaves with it).  A real
# PostgreSQL 15 and a redis-server run under the test; promtool check
# metrics is clean; without an mcp_metrics location there is no page.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MCP::Pg;
use MCP::Redis;
use Test::More;
use MCP::Test;
use POSIX ();
use Time::HiRes qw(sleep time);

my $pg = MCP::Pg->new(sql => ["CREATE TABLE t (id integer);"]);
my $redis = MCP::Redis->new;
my $rport = $redis->port;

my $conf = $pg->fill(<<"EOF");
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 256; }
http {
    access_log off;
    upstream db {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=secret;
    }
    upstream cache { mcp_redis_server 127.0.0.1:$rport; }
    mcp_server s {
        tool hello { description "Hi"; text "hi"; }
        tool nap {
            description "Sleeps in PostgreSQL";
            argument secs number required "Seconds";
            postgres db "SELECT pg_sleep(\$1) AS slept" secs;
        }
        tool wait {
            description "Blocks in Redis";
            redis cache BLPOP "nothing:here" 1;
        }
        tool get { description "A Redis read"; redis cache GET "k"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass s; }
        location = /short { mcp_pass s; mcp_session_timeout 2s; }
        location = /rs { mcp_pass s; mcp_session_store redis=cache; }
        location = /tiny { mcp_pass s; mcp_session_zone tiny:32k; }
        location = /metrics { mcp_metrics; }
    }
}
EOF

start_nginx($conf);

my $text;

sub scrape {
    sleep 0.3;                   # counted in the log phase, after the answer
    my $r = http('GET', '/metrics');
    is($r->{status}, 200, 'a scrape') or diag($r->{body});
    $text = $r->{body};
}

sub sample {
    my ($name, %labels) = @_;
    my $total;
    for my $line (split /\n/, $text) {
        next if $line =~ /^#/;
        my ($n, $l, $v) = $line =~ /^(\w+)(?:\{(.*)\})? (\S+)$/ or next;
        next unless $n eq $name;
        my %has = ($l // '') =~ /(\w+)="((?:[^"\\]|\\.)*)"/g;
        next if grep { ($has{$_} // '') ne $labels{$_} } keys %labels;
        $total += $v;
    }
    return $total;
}

sub active { return sample('mcp_server_sessions_active', store => 'shm', zone => 'mcp_sessions') }
sub ended { return sample('mcp_server_session_duration_seconds_count') // 0 }
sub conns {
    my ($upstream, $state) = @_;
    return sample('mcp_upstream_connections', upstream => $upstream, state => $state);
}

sub delete_session {
    my ($sid, $path) = @_;
    return http('DELETE', $path || '/mcp',
                headers => { 'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => '2025-11-25' });
}

sub wait_for {
    my ($cond) = @_;
    my $end = time + 5;
    scrape_quiet();
    until ($cond->()) { last if time > $end; sleep 0.2; scrape_quiet(); }
}

sub scrape_quiet { $text = http('GET', '/metrics')->{body} }

# at start: no session; one idle connection per worker to each upstream,
# and a channel listener per worker for the Redis session store

wait_for(sub { (conns('db', 'idle') // 0) == 4 && (conns('cache', 'subscribed') // 0) == 4
               && (conns('cache', 'idle') // 0) == 4 });
scrape();
is(active(), 0, 'no session at start');
is(ended(), 0, 'no session ended');
is(conns('db', 'idle'), 4, 'postgres: one idle connection per worker');
is(conns('db', 'busy'), 0, '... none busy');
is(conns('db', 'connecting'), 0, '... none connecting');
is(sample('mcp_upstream_connections', upstream => 'db', state => 'subscribed'), undef,
   '... no subscribed series for postgres');
is(conns('cache', 'idle'), 4, 'redis: one idle command connection per worker');
is(conns('cache', 'subscribed'), 4, '... one channel listener per worker');
is(conns('cache', 'busy'), 0, '... none busy');
like($text, qr/^mcp_upstream_connections\{upstream="db",kind="postgres",state="idle"\} 4$/m,
     'the kind label');

# sessions made and deleted, on whatever workers the connections reach

my @sids = map { scalar mcp_init('2025-11-25') } 1 .. 6;
is(scalar(grep { defined && length } @sids), 6, 'six sessions');
scrape();
is(active(), 6, 'six sessions active over 4 workers');

for my $sid (@sids[0, 1]) {
    my $r = delete_session($sid);
    ok($r->{status} >= 200 && $r->{status} < 300, "DELETE ($r->{status})");
}
is(delete_session($sids[0])->{status}, 404, 'a second DELETE of one is 404');
scrape();
is(active(), 4, 'two deleted: four active');
is(ended(), 2, 'two durations observed, not three');
is(sample('mcp_server_session_duration_seconds_bucket', le => '1'), 2, '... both under a second');

# idle expiry: three sessions with a timeout of 2 s, never used again

my @short = map { scalar mcp_init('2025-11-25', headers => [ -path => '/short' ]) } 1 .. 3;
is(scalar(grep { defined && length } @short), 3, 'three short sessions');
scrape();
is(active(), 7, 'seven active');
sleep 2.6;
scrape();
is(active(), 4, 'the three idle ones expired: four active, with no request to them');
is(ended(), 5, 'their durations observed');
is(sample('mcp_server_session_duration_seconds_bucket', le => '1'), 2,
   '... the expired ones lasted their 2 s timeout, not less');
is(sample('mcp_server_session_duration_seconds_bucket', le => '5'), 5, '... and less than 5 s');
my $sum = sample('mcp_server_session_duration_seconds_sum');
ok($sum >= 6 && $sum < 7.5, "... the sum: ~2 s each for the expired ($sum)");
is(legacy_post($short[0], '2025-11-25', 'ping', undef, headers => [ -path => '/short' ])->{status},
   404, 'an expired session is 404');
scrape();
is(ended(), 5, '... and is not observed again');

# the Redis store: its sessions end by DELETE (observed) or by TTL (not);
# its near copies share the zone but are not shm sessions

my @rs = map { scalar mcp_init('2025-11-25', headers => [ -path => '/rs' ]) } 1 .. 3;
is(scalar(grep { defined && length } @rs), 3, 'three Redis sessions');
scrape();
is(active(), 4, 'Redis sessions (near copies in the same zone) are not in the shm gauge');
unlike($text, qr/mcp_server_sessions_active\{[^}]*redis/, 'no Redis series of the gauge');
my $r = delete_session($rs[0], '/rs');
ok($r->{status} >= 200 && $r->{status} < 300, "DELETE of a Redis session ($r->{status})");
scrape();
is(ended(), 6, 'its duration observed (the creation time is in the Redis record)');
is(sample('mcp_server_session_duration_seconds_bucket', le => '1'), 3, '... under a second');

# a Redis record of format 1 (before the creation time): still read

my @keys = grep { /session:/ } split /\n/, $redis->cli('KEYS', '*');
ok(@keys >= 2, 'the Redis sessions are there');
my $v = $redis->command('GET', $keys[0]);
# format 3: format 2's 48 bytes, then 16 subscriptions of 8 bytes
is(length($v) >= 176 && ord(substr($v, 0, 1)), 3, 'records are of format 3');
my $v1 = chr(1) . substr($v, 1, 39) . substr($v, 176);
is($redis->command('SET', $keys[0], $v1, 'PX', 60000), 'OK', 'one made format 1');
my $w = $redis->command('GET', $keys[1]);
my $v2 = chr(2) . substr($w, 1, 47) . substr($w, 176);
is($redis->command('SET', $keys[1], $v2, 'PX', 60000), 'OK',
   'the other made format 2 (no subscriptions)');
my $found;
for my $sid (@rs[1, 2]) {
    my $res = legacy_post($sid, '2025-11-25', 'ping', undef, headers => [ -path => '/rs' ]);
    $found++ if $res->{status} == 200;
}
is($found, 2, 'both sessions answer, of formats 1 and 2');
delete_session($_, '/rs') for @rs[1, 2];
scrape();
is(ended(), 7, 'a DELETE of format 1 is not observed (its age is not known), of format 3 it is');

# a PostgreSQL call in flight holds a connection: busy

my $pid = fork() // die "fork: $!";
if ($pid == 0) {
    modern_post('tools/call', { name => 'nap', arguments => { secs => 1.5 } });
    POSIX::_exit(0);
}
my $pid2 = fork() // die "fork: $!";
if ($pid2 == 0) {
    modern_post('tools/call', { name => 'wait', arguments => {} });
    POSIX::_exit(0);
}
sleep 0.5;
scrape();
is(conns('db', 'busy'), 1, 'postgres: one busy while a call runs');
is(conns('db', 'idle'), 3, '... three idle');
is(conns('cache', 'busy'), 1, 'redis: one busy while BLPOP waits');
is(conns('cache', 'idle'), 3, '... three idle');
waitpid($pid, 0);
waitpid($pid2, 0);
scrape();
is(conns('db', 'busy'), 0, 'postgres: none busy after the call');
is(conns('db', 'idle'), 4, '... four idle');
is(conns('cache', 'busy'), 0, 'redis: none busy after the call');
is(conns('cache', 'idle'), 4, '... four idle');

# a full zone evicts its least recently used sessions: the gauge is the
# number that still answer, each eviction observed once

my @tiny = map { scalar mcp_init('2025-11-25', headers => [ -path => '/tiny' ]) } 1 .. 150;
is(scalar(grep { defined && length } @tiny), 150, '150 sessions in a 32k zone');
my $alive = grep {
    legacy_post($_, '2025-11-25', 'ping', undef, headers => [ -path => '/tiny' ])->{status} == 200
} @tiny;
ok($alive > 10 && $alive < 150, "some were evicted ($alive answer)");
scrape();
is(sample('mcp_server_sessions_active', store => 'shm', zone => 'tiny'), $alive,
   'the tiny zone\'s gauge: exactly those that answer');
is(ended(), 7 + 150 - $alive, '... every eviction observed once');
is(active(), 4, '... the other zone\'s unchanged');

# names and types as docs/metrics.txt says; promtool

open my $fh, '<', "$FindBin::Bin/../docs/metrics.txt" or die "docs/metrics.txt: $!";
my %doc = map { /^(\w+) (\w+)$/ ? ($1 => $2) : () } <$fh>;
close $fh;
my %types = $text =~ /^# TYPE (\w+) (\w+)$/mg;
is_deeply(\%types, \%doc, 'every metric of docs/metrics.txt, with its type, and no other');

my $file = testdir() . '/metrics.txt';
write_file($file, $text);
my $out = `promtool check metrics < '$file' 2>&1`;
is($?, 0, 'promtool check metrics is clean') or diag($out);

# a reload while a call holds a connection: the old worker's busy one
# stays on the gauge until it ends, then leaves with the worker; the new
# workers' connections count beside it

my $before = ended();
$pid = fork() // die "fork: $!";
if ($pid == 0) {
    modern_post('tools/call', { name => 'nap', arguments => { secs => 2 } });
    POSIX::_exit(0);
}
sleep 0.4;
my $exits = sub { my $n = () = error_log_text() =~ /worker process \d+ exited with code 0/g; $n };
my $starts = sub { my $n = () = error_log_text() =~ /start worker process/g; $n };
my ($e0, $s0) = ($exits->(), $starts->());
my $master = do { open my $p, '<', testdir() . '/nginx.pid' or die; local $/; <$p> };
chomp $master;
kill 'HUP', $master;
wait_for(sub { $starts->() >= $s0 + 4 && $exits->() >= $e0 + 3
               && (conns('db', 'idle') // 0) == 4 });
is($exits->(), $e0 + 3, 'reload: three old workers gone, the busy one drains');
is(conns('db', 'busy'), 1, '... its call still busy on the gauge');
is(conns('db', 'idle'), 4, '... beside the new workers\' four idle');
waitpid($pid, 0);
wait_for(sub { $exits->() >= $e0 + 4 });
is($exits->(), $e0 + 4, '... then it exits');
wait_for(sub { (conns('db', 'idle') // 0) == 4 && (conns('cache', 'idle') // 0) == 4
               && (conns('cache', 'subscribed') // 0) == 4 });
scrape();
is(active(), 4, 'after a reload: the same four sessions');
is(ended(), $before, '... the histogram kept');
is(conns('db', 'idle'), 4, '... postgres: the new workers\' four idle, not the old ones\'');
is(conns('db', 'connecting') + conns('db', 'busy'), 0, '... none connecting or busy');
is(conns('cache', 'idle'), 4, '... redis: four idle');
is(conns('cache', 'subscribed'), 4, '... four listeners');
delete_session($sids[2]);
scrape();
is(active(), 3, '... and a DELETE after it counts');
is(ended(), $before + 1, '... observed');
is(sample('mcp_server_session_duration_seconds_count', mcp_protocol_version => '2025-11-25'),
   $before + 1, 'all of them under their revision');

my $old = mcp_init('2025-06-18');
delete_session($old);
scrape();
is(sample('mcp_server_session_duration_seconds_count', mcp_protocol_version => '2025-06-18'), 1,
   'a session of 2025-06-18 under its own');
is(sample('mcp_server_session_duration_seconds_bucket', mcp_protocol_version => '2025-06-18',
          le => '+Inf'), 1, '... its +Inf bucket');
$file = testdir() . '/metrics2.txt';
write_file($file, $text);
$out = `promtool check metrics < '$file' 2>&1`;
is($?, 0, '... promtool check metrics is clean') or diag($out);

stop_nginx();

# without an mcp_metrics location, nothing is kept or shown

start_nginx($pg->fill(<<'EOF'));
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;
    upstream db {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=secret;
    }
    mcp_server s {
        tool q { description "Q"; postgres db "SELECT 1 AS one"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass s; }
    }
}
EOF
my $sid = mcp_init('2025-11-25');
ok(defined $sid, 'sessions work without metrics');
is(delete_session($sid)->{status} < 300, 1, '... and their DELETE');
is(modern_post('tools/call', { name => 'q', arguments => {} })->{status}, 200, '... and postgres calls');
is(http('GET', '/metrics')->{status}, 404, 'no metrics page');
unlike(error_log_text(), qr/\[(alert|crit)\]/, 'no alert');
stop_nginx();

done_testing();
