#!/usr/bin/perl
# mcp_health live | ready: JSON answers for Kubernetes probes.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;

start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;
    mcp_session_zone sessions:1m;

    mcp_server full {
        name "full-test";
        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; }
        location = /health/live  { mcp_health live; }
        location = /health/ready { mcp_health ready; }
    }
}
EOF

for my $i (1 .. 3) {
    my $r = http('GET', '/health/live');
    is($r->{status}, 200, "live: 200 ($i)");
    like($r->{headers}{'content-type'} // '', qr{^application/json}, 'live: JSON');
    my $j = json_decode($r->{body});
    is(ref $j, 'HASH', 'live: an object');
    is($j && $j->{status}, 'ok', 'live: status ok');
}

my $r = http('GET', '/health/ready');
is($r->{status}, 200, 'ready: 200');
like($r->{headers}{'content-type'} // '', qr{^application/json}, 'ready: JSON');
my $j = json_decode($r->{body});
is($j && $j->{status}, 'ok', 'ready: status ok');
ok($j && (ref $j->{checks} eq 'ARRAY' || ref $j->{checks} eq 'HASH'),
   'ready: lists its checks');
like($r->{body}, qr/catalog|server/i, 'ready: mentions the catalogs');
like($r->{body}, qr/session|zone/i, 'ready: mentions the session zone');

$r = http('HEAD', '/health/live');
is($r->{status}, 200, 'HEAD live: 200');
is($r->{body}, '', 'HEAD: no body');

$r = http('POST', '/health/live', body => '{}',
          headers => { 'Content-Type' => 'application/json' });
ok($r->{status} == 405 || $r->{status} == 200, "POST live: 405 or 200 ($r->{status})");

# still fine after MCP traffic
my $sid = mcp_init('2025-11-25');
$r = http('GET', '/health/ready');
is($r->{status}, 200, 'ready after traffic');

stop_nginx();

# each store a location uses is checked by name; a zone no location uses is not
start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    mcp_session_zone unused_c:1m;

    mcp_server full {
        name "full-test";
        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp-a { mcp_pass full; mcp_session_zone zone_a:1m; }
        location = /mcp-b { mcp_pass full; mcp_session_zone zone_b:2m; }
        location = /mcp-a2 { mcp_pass full; mcp_session_zone zone_a:1m; }
        location = /health/ready { mcp_health ready; }
    }
}
EOF

$r = http('GET', '/health/ready');
is($r->{status}, 200, 'two stores: ready');
$j = json_decode($r->{body}) || {};
my %checks = map { $_->{name} => $_ } @{ $j->{checks} || [] };
for my $zone ('zone_a', 'zone_b') {
    my $c = $checks{qq(session store "$zone" (shm))};
    ok($c && $c->{status} eq 'ok', "the store of $zone is checked") or diag($r->{body});
    like($c && $c->{detail} // '', qr/^\d+ of \d+ pages free$/, "$zone: how much is free");
}
is(scalar(grep { /session store/ } keys %checks), 2, 'each store once');
ok(!grep({ /unused_c/ } keys %checks), 'a zone no location uses is not a check');
ok(!grep({ /^session_zone/ } keys %checks), 'no check is labelled session_zone any more');

stop_nginx();
done_testing();
