#!/usr/bin/perl
# Clients that stall, send half a request, or go away: nginx times them out
# or drops them, stays healthy, and logs nothing alarming.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);

start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    client_body_timeout 1s;
    client_header_timeout 1s;

    mcp_server full {
        name "full-test";
        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; }
    }
}
EOF

my $v = '2025-11-25';
my $sid = mcp_init($v);
ok($sid, 'session');

sub healthy {
    my ($what) = @_;
    my $r = legacy_post($sid, $v, 'ping', undef, id => 1);
    is_deeply($r->{json} && $r->{json}{result}, {}, "healthy after $what");
}

my $body = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}';
my $head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         . "Content-Type: application/json\r\n"
         . "Accept: application/json, text/event-stream\r\n"
         . "Mcp-Session-Id: $sid\r\nMCP-Protocol-Version: $v\r\n";

# headers and half the body, then nothing
{
    my $r = raw_send($head . "Content-Length: " . length($body) . "\r\n\r\n"
                     . substr($body, 0, 20), timeout => 6, until_close => 1);
    ok($r->{closed}, 'a stalled body: the connection is closed');
    ok(!defined $r->{status} || $r->{status} == 408,
       'with 408 or nothing (' . ($r->{status} // 'none') . ')');
    cmp_ok($r->{elapsed}, '<', 5, 'within a few seconds of client_body_timeout 1s');
    healthy('a stalled body');
}

# chunked body that stops mid-way
{
    my $r = raw_send($head . "Transfer-Encoding: chunked\r\n\r\n"
                     . sprintf('%x', length $body) . "\r\n" . substr($body, 0, 10),
                     timeout => 6, until_close => 1);
    ok($r->{closed}, 'a stalled chunked body: closed');
    healthy('a stalled chunked body');
}

# headers only, never finished
{
    my $r = raw_send("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl",
                     timeout => 6, until_close => 1);
    ok($r->{closed}, 'stalled headers: closed');
    healthy('stalled headers');
}

# a client that sends half the body and closes
{
    raw_send($head . "Content-Length: " . length($body) . "\r\n\r\n"
             . substr($body, 0, 20), no_read => 1);
    sleep 0.2;
    healthy('a client that left mid-body');
}

# a client that sends the whole request and leaves before the answer
{
    raw_send($head . "Content-Length: " . length($body) . "\r\n\r\n" . $body,
             no_read => 1);
    sleep 0.2;
    healthy('a client that left before the answer');
}

# a client that opens and closes immediately, many times
{
    for (1 .. 20) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                      Proto => 'tcp');
        close $s if $s;
    }
    sleep 0.2;
    healthy('connections opened and closed at once');
}

# a body longer than Content-Length says: the extra is the next request
{
    my $r = raw_send($head . "Content-Length: " . length($body) . "\r\n\r\n"
                     . $body . "GARBAGE\r\n\r\n", timeout => 5, until_close => 1);
    like($r->{raw}, qr{^HTTP/1\.1 200}, 'the declared body is answered');
    healthy('trailing garbage');
}

# a Content-Length that lies in the other direction is a stall (covered) and
# a negative or bogus one is a 400 from nginx itself
{
    my $r = raw_send($head . "Content-Length: -5\r\n\r\n", timeout => 5);
    is($r->{status}, 400, 'bogus Content-Length: 400');
    healthy('a bogus Content-Length');
}

# many requests at once on parallel connections
{
    my @socks;
    my $req = $head . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n" . $body;
    for (1 .. 30) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                      Proto => 'tcp') or next;
        syswrite $s, $req;
        push @socks, $s;
    }
    my $ok = 0;
    for my $s (@socks) {
        local $/;
        my $t0 = time;
        my $buf = '';
        while (time - $t0 < 5) {
            my $n = sysread $s, $buf, 65536, length $buf;
            last if !$n;
        }
        $ok++ if $buf =~ m{^HTTP/1\.1 200} && $buf =~ /echo_hello/;
        close $s;
    }
    is($ok, 30, '30 parallel requests answered');
}

healthy('everything');

stop_nginx();
done_testing();
