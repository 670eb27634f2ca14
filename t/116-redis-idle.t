#!/usr/bin/perl
# A Redis server that goes away while the worker's pooled connections to
# it are idle: readiness says 503 (naming the upstream and why) within a
# short bound, with no MCP call to find it out; once the server is back,
# readiness says 200 again by itself and calls work.  A server that closes
# idle clients but stays up (CLIENT KILL) leaves readiness at 200.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use MCP::Redis;
use MCP::Test;

my $redis = MCP::Redis->new;
my $rport = $redis->port;

my $conf = <<"EOF";
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    upstream cache { mcp_redis_server 127.0.0.1:$rport; mcp_redis_keepalive 4; }
    mcp_server s {
        name "redis-idle"; version 1.0.0;
        tool get { description "GET"; redis cache GET k; }
        tool block { description "BLPOP for 1 s"; redis cache BLPOP idle:q 1; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass s; }
        location = /ready { mcp_health ready; }
    }
}
EOF

start_nginx($conf);

sub call { return mcp_tool_call(MODERN, @_) }

sub ready {
    my $r = http('GET', '/ready');
    my $j = json_decode($r->{body} // '') || {};
    my ($c) = grep { $_->{name} eq 'redis:cache' } @{ $j->{checks} || [] };
    return ($r->{status}, $c ? $c->{detail} // '' : '');
}

# polls readiness (and nothing else) until it says $want: the seconds it
# took, or undef after $bound seconds, and the last detail
sub ready_within {
    my ($want, $bound) = @_;
    my $t0 = time;
    my ($st, $detail);
    while (time - $t0 < $bound) {
        ($st, $detail) = ready();
        return (time - $t0, $detail) if $st == $want;
        sleep 0.05;
    }
    return (undef, $detail);
}

sub lost_lines {
    my @l = grep { /of upstream "cache": connection lost/ }
            split /\n/, error_log_text();
    return scalar @l;
}

$redis->command('SET', 'k', 'v');

# three blocking calls at once: each has a connection of its own
my @kids;
for (1 .. 3) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        call('block', {}, headers => [ -timeout => 10 ]);
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
waitpid $_, 0 for @kids;
is(mcp_tool_text(call('get')), 'v', 'a call works');

my ($st, $detail) = ready();
is($st, 200, 'readiness: 200 with Redis up');
like($detail, qr/^[34] connection\(s\)$/, 'the pool keeps its idle connections')
    or diag($detail);

# --- the server dies while the connections are idle ---------------------------

$redis->kill;

my ($took, $why) = ready_within(503, 1.5);
ok(defined $took, sprintf 'Redis killed: readiness 503 without any call '
                          . '(after %.2f s)', $took // -1);
like($why, qr/^(?:connection lost|cannot connect)$/, '... saying why')
    or diag($why);
ok(lost_lines() >= 1, 'the lost idle connection is logged');

($st) = ready();
is($st, 503, 'readiness stays 503 while Redis is down');

# --- back again: readiness reconnects by itself --------------------------------

$redis->start;

($took) = ready_within(200, 5);
ok(defined $took, sprintf 'Redis restarted: readiness 200 again (after %.2f s)',
                          $took // -1);
$redis->command('SET', 'k', 'w');
is(mcp_tool_text(call('get')), 'w', '... and calls work again');

# --- a server that closes idle clients but stays up -----------------------------

my $lost = lost_lines();
$redis->command('CLIENT', 'KILL', 'TYPE', 'normal');
for (1 .. 40) { last if lost_lines() > $lost; sleep 0.05 }
ok(lost_lines() > $lost, 'CLIENT KILL: the closed idle connection is seen');

($took) = ready_within(200, 1);
ok(defined $took, 'CLIENT KILL: readiness 200, a connection made again');
($st, $detail) = ready();
like($detail, qr/^[1-4] connection\(s\)$/, '... with the connection back')
    or diag($detail);
is(mcp_tool_text(call('get')), 'w', '... and calls work');

stop_nginx(allow => qr/Redis|redis/);

done_testing();
