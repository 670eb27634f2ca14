#!/usr/bin/perl
# The harness itself: HTTP parsing, SSE, fixtures, placeholders and the
# nginx runner (with a configuration that does not need the module).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;

# HTTP response parsing
{
    my $r = parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                . "X-A: 1\r\nx-a: 2\r\n\r\nhello");
    is($r->{status}, 200, 'status');
    is($r->{body}, 'hello', 'Content-Length body');
    is($r->{headers}{'x-a'}, '1, 2', 'repeated headers joined');
    ok($r->{complete}, 'complete');

    $r = parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             . "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n");
    is($r->{body}, 'abcdefg', 'chunked body');
    ok($r->{complete}, 'chunked complete');

    $r = parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    ok(!$r->{complete}, 'unfinished chunked body is not complete');

    $r = parse_http_response("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
    is($r->{body}, '', 'empty body');
}

# SSE
{
    my @m = sse_messages("event: message\ndata: {\"a\":1}\n\n: keep-alive\n\n"
                         . "id: 7\r\ndata: {\"b\":2}\r\n\r\n");
    is_deeply(\@m, [ { a => 1 }, { b => 2 } ], 'SSE data lines decoded');
}

# fixtures
like(png_1x1(), qr/^\x89PNG\r\n\x1a\n/, 'PNG signature');
like(wav_tiny(), qr/^RIFF....WAVEfmt /s, 'WAV header');

# modern_body
{
    my $b = modern_body('tools/call', { name => 'x' }, id => 5,
                        meta => { clientInfo => undef, logLevel => 'info' });
    is($b->{id}, 5, 'modern_body id');
    is($b->{params}{name}, 'x', 'params kept');
    my $m = $b->{params}{_meta};
    is($m->{'io.modelcontextprotocol/protocolVersion'}, MODERN, 'protocolVersion');
    is_deeply($m->{'io.modelcontextprotocol/clientCapabilities'}, {}, 'clientCapabilities');
    ok(!exists $m->{'io.modelcontextprotocol/clientInfo'}, 'meta key removed');
    is($m->{'io.modelcontextprotocol/logLevel'}, 'info', 'meta key added');
}

# the runner, without the module
start_nginx(<<'EOF');
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /dir { return 200 "%%TESTDIR%%"; }
        location = /echo { return 200 "$http_x_test|$request_method"; }
        location = /chunked { chunked_transfer_encoding on; return 200 "x"; }
    }
    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / { return 204; }
    }
}
EOF

cmp_ok(port(), '>=', 20000, 'port >= 20000');
cmp_ok(port(1), '>=', 20000, 'second port >= 20000');
isnt(port(), port(1), 'two different ports');
my $r = http('GET', '/dir');
is($r->{body}, testdir(), '%%TESTDIR%% is the prefix');
ok(-f testdir() . '/nginx.conf', 'nginx.conf written');
$r = http('POST', '/echo', headers => { 'X-Test' => 'yes' }, body => 'abc');
is($r->{body}, 'yes|POST', 'headers sent');
$r = http('GET', '/', port => port(1));
is($r->{status}, 204, 'second server');
$r = raw_send("GET /dir HTTP/1.0\r\n\r\n");
is($r->{status}, 200, 'raw_send');
like(error_log_text(), qr/\[notice\]/, 'error.log at info level');

stop_nginx();
done_testing();
