#!/usr/bin/perl
# Three nginx instances ("replicas": each its own prefix, port, workers and
# shared memory) share their sessions through one Redis
# (mcp_session_store redis=): the official TypeScript SDK client sends each
# request to the next replica, so a whole 2025 session runs with no two
# requests in a row on the same replica, a cancellation reaches the call on
# another replica, and a DELETE on one is seen by all.  Then the store's
# faults: a killed Redis (fail=closed: 503 with Retry-After, readiness
# fails; fail=open: served from shared memory), Redis back (service
# recovers by itself), unknown ids of every shape.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use MCP::Redis;
use MCP::Test;

my $sdk = "$FindBin::Bin/sdk";
my ($node) = grep { -x } map { "$_/node" } split /:/, $ENV{PATH} // '';
ok($node, 'node is installed') or BAIL_OUT('node is missing');
unless (-d "$sdk/node_modules/\@modelcontextprotocol/sdk") {
    my $out = `cd '$sdk' && npm install --no-audit --no-fund 2>&1`;
    ok($? == 0, 'the SDK is installed') or diag($out);
}

my $redis = MCP::Redis->new;
my $rport = $redis->port;

# the tool `slow` waits on a backend that never answers; the backend notes
# when nginx opens and when it closes its connection

my $marks = $redis->dir . '/marks';
my $hole = backend(sub {
    my ($c) = @_;
    open my $fh, '>>', $marks or return;
    syswrite $fh, sprintf("open %.3f\n", time);
    my $buf;
    1 while sysread($c, $buf, 4096);
    syswrite $fh, sprintf("close %.3f\n", time);
    close $fh;
});

my $conf = <<"EOF";
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 128; }
http {
    access_log off;

    upstream cache { mcp_redis_server 127.0.0.1:$rport; mcp_redis_keepalive 2; }
    mcp_session_store redis=cache prefix=t113: FAIL;

    mcp_server replicas {
        tool hello { description "Says hello"; text "Hello from a replica"; }
        tool slow { description "Never answers"; pass /slow; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass replicas; }
        location = /slow {
            internal;
            proxy_pass http://127.0.0.1:$hole;
            proxy_read_timeout 60s;
        }
        location = /ready { mcp_health ready; }
    }
}
EOF

sub replicas {
    my ($fail) = @_;
    (my $c = $conf) =~ s/FAIL/fail=$fail/;
    return map { start_instance($c) } 1 .. 3;
}

my @r = replicas('closed');
my @urls = map { 'http://127.0.0.1:' . $_->{ports}{0} . '/mcp' } @r;

# --- the SDK client, each request to the next replica

my $out = `cd '$sdk' && timeout 90 '$node' replicas-client.mjs @urls 2>&1`;
is($? >> 8, 0, 'the SDK client finished without error') or diag($out);

my %step;
for my $line (split /\n/, $out) {
    my $j = json_decode($line);
    $step{ $j->{step} } = $j if ref $j eq 'HASH' && $j->{step};
}

my $sent = $step{sent} ? $step{sent}{requests} : [];
my @seq = map { $_->{replica} } @$sent;
ok(@seq >= 10, scalar(@seq) . ' requests sent');
is(scalar(grep { $seq[$_] == $seq[$_ - 1] } 1 .. $#seq), 0,
   'no two requests in a row went to the same replica');

my $c = $step{connect} || {};
like($c->{sessionId} // '', qr/^[0-9a-f]{64}\z/, 'a session id');
ok(defined $c->{initialize} && defined $c->{initialized}
   && $c->{initialize} != $c->{initialized},
   'initialize and notifications/initialized on different replicas');
is_deeply($step{listTools} && $step{listTools}{names}, [qw(hello slow)],
          'tools/list on another replica');

my @calls = grep { $_ && $_->{step} && $_->{step} eq 'callTool' }
            map { json_decode($_) } split /\n/, $out;
is(scalar @calls, 4, 'four calls');
my %on;
for my $j (@calls) {
    is_deeply($j->{result}{content},
              [ { type => 'text', text => 'Hello from a replica' } ],
              "a call answered by replica $j->{replica}");
    $on{ $j->{replica} } = 1;
}
is(scalar keys %on, 3, 'every replica answered calls of the session');

my $x = $step{cancel} || {};
ok(defined $x->{call} && defined $x->{cancelled}
   && $x->{call} != $x->{cancelled},
   'the call ran on replica ' . ($x->{call} // '?')
   . ', its cancellation went to replica ' . ($x->{cancelled} // '?'));

# the cancelled call's backend connection was closed by the replica that
# ran it, long before its 60 s proxy_read_timeout, while the client still
# held its request open

my ($opened, $closed);
for (1 .. 50) {
    my $m = '';
    if (open my $fh, '<', $marks) { local $/; $m = <$fh>; close $fh }
    ($opened) = $m =~ /^open (\S+)/m;
    ($closed) = $m =~ /^close (\S+)/m;
    last if $closed;
    sleep 0.1;
}
ok($opened, 'the slow call reached its backend');
ok($closed && $closed - $opened < 5,
   'the call was stopped on its replica by a cancellation sent to another')
    or diag('opened ' . ($opened // 'never') . ', closed '
            . ($closed // 'never'));

ok($step{delete} && defined $step{delete}{replica}, 'DELETE on a replica');
is_deeply($step{after} && $step{after}{statuses}, [404, 404, 404],
          'then the session is unknown on every replica');

is($redis->cli('--scan', '--pattern', 't113:session:*'), '',
   'nothing of the session is left in Redis');

# --- ids in Redis are digests: the session id is nowhere in Redis

my $sid = init_on($r[0]);
my $keys = $redis->cli('--scan', '--pattern', 't113:*');
like($keys, qr/^t113:session:[0-9a-f]{64}\z/, 'one session key');
unlike($keys, qr/\Q$sid\E/, 'its key is not the session id');
my $ttl = $redis->cli('PTTL', $keys);
ok($ttl > 29 * 60 * 1000 && $ttl <= 30 * 60 * 1000,
   "its time to live is the session timeout ($ttl ms)");

# unknown ids of every shape: 404 (an empty one: 400)

for my $bad ('0' x 64, 'f' x 64, 'A' x 64, 'x', ('a' x 63) . 'G',
             $sid . '0', substr($sid, 1), uc $sid, ('a' x 4000))
{
    is(call_on($r[1], $bad)->{status}, 404,
       'an unknown id of length ' . length($bad) . ': 404');
}

# --- Redis killed, fail=closed: 503 with Retry-After, readiness fails

$redis->kill;
sleep 2.2;                      # the near copies are older than near=2s

my $res = call_on($r[1], $sid);
is($res->{status}, 503, 'Redis down, fail=closed: 503');
is($res->{headers}{'retry-after'}, '1', '... with Retry-After: 1');
like($res->{body}, qr/"code":-32603/, '... and a JSON-RPC error');
$res = http('GET', '/ready', port => $r[1]{ports}{0});
is($res->{status}, 503, 'readiness fails');
like($res->{body}, qr/session store \\"cache\\" \(redis, fail=closed\)/,
     '... naming the session store');

my $t0 = time;
$res = mcp_post(init_body(), -port => $r[2]{ports}{0});
is($res->{status}, 503, 'a new session cannot start: 503');
ok(time - $t0 < 3, '... answered within the store timeout');

# Redis back: service recovers by itself

$redis->start;
my $ok = 0;
for (1 .. 40) {
    $res = http('GET', '/ready', port => $r[1]{ports}{0});
    if ($res->{status} == 200) { $ok = 1; last }
    sleep 0.25;
}
ok($ok, 'readiness recovers when Redis is back');
my $sid2 = init_on($r[0]);
ok($sid2, 'a new session starts');
is(call_on($r[1], $sid2)->{status}, 200,
   '... and is served by another replica');

stop_instance($_, allow => qr/Redis/) for @r;

# --- fail=open: sessions served from shared memory while Redis is down

@r = replicas('open');
my $sid3 = init_on($r[0]);
$redis->kill;
sleep 2.2;
is(call_on($r[0], $sid3)->{status}, 200,
   'fail=open: the replica that has a copy serves the session');
$res = http('GET', '/ready', port => $r[0]{ports}{0});
is($res->{status}, 200, 'fail=open: readiness stays up');
like($res->{body}, qr/serving from shared memory/, '... and says how');
my $sid4 = init_on($r[1]);
ok($sid4, 'fail=open: a new session starts without Redis');
is(call_on($r[1], $sid4)->{status}, 200, '... and is served by its replica');
like(MCP::Test::_read_file("$r[1]{dir}/error.log"),
     qr/\[warn\].*Redis session store "cache" is unavailable.*fail=open/,
     'a warning says so');
$redis->start;

for my $t (@r) {
    my $log = MCP::Test::_read_file("$t->{dir}/error.log");
    my @ids = grep { $_ } ($sid, $sid2, $sid3, $sid4);
    ok(!grep({ index($log, $_) >= 0 } @ids), 'no session id in the error log');
}

stop_instance($_, allow => qr/Redis/) for @r;

done_testing();

sub init_body {
    return { jsonrpc => '2.0', id => 1, method => 'initialize',
             params => { protocolVersion => '2025-06-18', capabilities => {},
                         clientInfo => { name => 't', version => '1' } } };
}

sub init_on {
    my ($t) = @_;
    my $res = mcp_post(init_body(), -port => $t->{ports}{0});
    return $res->{headers}{'mcp-session-id'};
}

sub call_on {
    my ($t, $sid) = @_;
    return mcp_post({ jsonrpc => '2.0', id => 7, method => 'tools/list' },
                    -port => $t->{ports}{0}, 'Mcp-Session-Id' => $sid,
                    'MCP-Protocol-Version' => '2025-06-18');
}
