#!/usr/bin/perl
# mcp_health startup (a Kubernetes startupProbe): the checks of readiness,
# 503 while a dependency has not yet been reached (here a Redis upstream
# that is not up), 200 once the worker has been ready, and 200 from then
# on when the dependency goes away again, while readiness says 503 and
# names it; each answer lists its checks.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use MCP::Redis;
use MCP::Test;

my $redis = MCP::Redis->new;
my $rport = $redis->port;
$redis->stop;

my $conf = <<"EOF";
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    upstream cache { mcp_redis_server 127.0.0.1:$rport; }
    mcp_server s {
        tool get { description "Reads"; argument k string required "Key"; redis cache GET "{k}"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass s; }
        location = /health/ready   { mcp_health ready; }
        location = /health/startup { mcp_health startup; }
    }
}
EOF

start_nginx($conf);

sub probe {
    my ($path) = @_;
    my $r = http('GET', $path);
    return ($r->{status}, json_decode($r->{body} // '') || {});
}

my ($st, $j) = probe('/health/startup');
is($st, 503, 'startup: 503 while Redis was never reached');
my ($check) = grep { $_->{name} eq 'redis:cache' } @{ $j->{checks} || [] };
is($check && $check->{status}, 'fail', '... naming redis:cache as failing');
ok($check && length($check->{detail} // ''), '... with why');

$redis->start;

my $ok = 0;
for (1 .. 100) {
    ($st) = probe('/health/startup');
    if ($st == 200) { $ok = 1; last }
    sleep 0.1;
}
ok($ok, 'startup: 200 once Redis answers');

$redis->kill;

my $failed = 0;
for (1 .. 100) {
    modern_post('tools/call', { name => 'get', arguments => { k => 'x' } });
    my ($rs) = probe('/health/ready');
    if ($rs == 503) { $failed = 1; last }
    sleep 0.1;
}
ok($failed, 'Redis gone: readiness 503');
($st, $j) = probe('/health/startup');
is($st, 200, '... but startup stays 200: the worker has started');
($check) = grep { $_->{name} eq 'redis:cache' } @{ $j->{checks} || [] };
is($check && $check->{status}, 'fail', '... and its answer still shows redis:cache failing');

stop_nginx(allow => qr/Redis|redis/);

done_testing();
