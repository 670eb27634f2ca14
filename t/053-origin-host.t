#!/usr/bin/perl
# DNS rebinding protection: foreign Origin and Host get 403; loopback names
# and configured mcp_allowed_origins / mcp_allowed_hosts are allowed.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;

start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server full {
        name "full-test";
        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; }
        location = /open {
            mcp_pass full;
            mcp_allowed_origins https://app.example.com http://evil.example.com;
            mcp_allowed_hosts mcp.example.com evil.example.com;
        }
        location = /any {
            mcp_pass full;
            mcp_allowed_origins *;
            mcp_allowed_hosts *;
        }
    }
}
EOF

my $p = port();

sub init {
    my (@h) = @_;
    return mcp_post({
        jsonrpc => '2.0', id => 1, method => 'initialize',
        params => { protocolVersion => '2025-11-25', capabilities => {},
                    clientInfo => { name => 't', version => '0' } },
    }, @h);
}

sub disc {
    my (@h) = @_;
    return modern_post('server/discover', {}, headers => \@h);
}

# defaults: loopback only
for my $host ("127.0.0.1:$p", "localhost:$p", "[::1]:$p", 'localhost', '127.0.0.1',
              "LOCALHOST:$p")
{
    is(init(Host => $host)->{status}, 200, "Host $host allowed");
}
for my $host ('evil.example.com', "evil.example.com:$p", 'mcp.example.com',
              '127.0.0.1.evil.com', 'localhost.evil.com', '10.0.0.1')
{
    my $r = init(Host => $host);
    is($r->{status}, 403, "Host $host: 403");
    ok(!defined $r->{headers}{'mcp-session-id'}, "Host $host: no session");
}

for my $origin ("http://127.0.0.1:$p", "http://localhost:$p", 'http://localhost',
                "https://localhost:8443", "http://[::1]:$p")
{
    is(init(Origin => $origin)->{status}, 200, "Origin $origin allowed");
}
for my $origin ('http://evil.example.com', 'https://app.example.com', 'null',
                'http://localhost.evil.com', "http://127.0.0.1.evil.com:$p",
                'http://evil.example.com:80')
{
    is(init(Origin => $origin)->{status}, 403, "Origin $origin: 403");
}

# the conformance probe: both foreign
is(init(Host => 'evil.example.com', Origin => 'http://evil.example.com')->{status}, 403,
   'foreign Host and Origin together: 403');

# 2026 requests get the same checks
is(disc(Origin => 'http://evil.example.com')->{status}, 403, '2026 foreign Origin: 403');
is(disc(Host => 'evil.example.com')->{status}, 403, '2026 foreign Host: 403');
is(disc()->{status}, 200, '2026 loopback: 200');

# a legacy session cannot be used from a foreign origin either
{
    my $sid = mcp_init('2025-11-25');
    my $r = legacy_post($sid, '2025-11-25', 'ping', undef,
                        headers => [ Origin => 'http://evil.example.com' ]);
    is($r->{status}, 403, 'in-session request from a foreign Origin: 403');
    $r = http('DELETE', '/mcp', headers => { 'Mcp-Session-Id' => $sid,
                                            Origin => 'http://evil.example.com' });
    is($r->{status}, 403, 'DELETE from a foreign Origin: 403');
    $r = legacy_post($sid, '2025-11-25', 'ping', undef, id => 1);
    is_deeply($r->{json} && $r->{json}{result}, {}, '... the session is untouched');
}

# configured names
for my $h ([ Host => 'mcp.example.com' ], [ Host => "evil.example.com:$p" ],
           [ Origin => 'https://app.example.com' ], [ Origin => 'http://evil.example.com' ],
           [ Host => 'evil.example.com', Origin => 'http://evil.example.com' ])
{
    my $r = init(@$h, -path => '/open');
    is($r->{status}, 200, "/open: @$h allowed");
}
is(init(Origin => 'https://other.example.com', -path => '/open')->{status}, 403,
   '/open: an unlisted origin is still 403');
is(init(Host => 'other.example.com', -path => '/open')->{status}, 403,
   '/open: an unlisted host is still 403');
is(init(Origin => 'http://app.example.com', -path => '/open')->{status}, 403,
   '/open: the scheme is part of the origin');

# loopback names stay allowed next to the listed ones (docs/directives.md)
is(init(Host => 'localhost', -path => '/open')->{status}, 200,
   '/open: loopback Host still allowed');
is(init(Origin => "http://localhost:$p", -path => '/open')->{status}, 200,
   '/open: loopback Origin still allowed');
is(init(Origin => 'HTTPS://APP.EXAMPLE.COM', -path => '/open')->{status}, 200,
   '/open: origins compare case-insensitively');
is(init(Origin => 'https://app.example.com:8443', -path => '/open')->{status}, 403,
   '/open: a listed origin with another port is not the same origin');

# * allows anything
is(init(Host => 'anything.example', Origin => 'https://whatever.example', -path => '/any')->{status},
   200, '/any: * allows every Host and Origin');

stop_nginx();
done_testing();
