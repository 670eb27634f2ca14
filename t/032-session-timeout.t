#!/usr/bin/perl
# mcp_session_timeout: an idle session is gone (404); use keeps it alive.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use Time::HiRes qw(sleep);

start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server full {
        name "full-test";
        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; mcp_session_timeout 1s; }
    }
}
EOF

my $v = '2025-06-18';

my $idle = mcp_init($v);
my $busy = mcp_init($v);
ok($idle && $busy, 'two sessions');

my $r = legacy_post($idle, $v, 'ping', undef, id => 1);
is_deeply($r->{json} && $r->{json}{result}, {}, 'fresh session works');

# the busy one is used every 0.4 s for 2 s
for (1 .. 5) {
    sleep 0.4;
    $r = legacy_post($busy, $v, 'ping', undef, id => 1);
}
is_deeply($r->{json} && $r->{json}{result}, {}, 'a session in use stays alive past the timeout');

$r = legacy_post($idle, $v, 'ping', undef, id => 1);
is($r->{status}, 404, 'a session idle for 2 s (timeout 1s) is 404');

$r = legacy_post($idle, $v, 'tools/list', {});
is($r->{status}, 404, '... and stays gone');

sleep 1.5;
$r = legacy_post($busy, $v, 'ping', undef, id => 1);
is($r->{status}, 404, 'the busy one expires once idle');

# a new initialize works after expiry
my $again = mcp_init($v);
$r = legacy_post($again, $v, 'ping', undef, id => 1);
is_deeply($r->{json} && $r->{json}{result}, {}, 'a new session after expiry works');

stop_nginx();
done_testing();
