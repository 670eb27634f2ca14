#!/usr/bin/perl
# Bad input on the MCP endpoint: invalid JSON, bad envelopes, wrong
# Content-Type and Accept, unknown methods.  Precise errors, no crash.

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

sub code {
    my ($r) = @_;
    return $r->{json} && ref $r->{json} eq 'HASH' && ref $r->{json}{error} eq 'HASH'
         ? $r->{json}{error}{code} : undef;
}

my $v = '2025-11-25';
my $sid = mcp_init($v);
ok($sid, 'a session for the in-session cases');
my @in = ('Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => $v);

# not JSON
for my $body ('{', '{"jsonrpc":"2.0",', 'nope', "{\"a\":1}}", '{"a":1} {"b":2}',
              "\x00\x01", '{"a":tru}', "{'a':1}", '[1,]')
{
    (my $show = $body) =~ s/([^\x20-\x7e])/sprintf '\\x%02x', ord $1/ge;
    for my $ctx ([ 'no session', () ], [ 'in session', @in ]) {
        my ($what, @h) = @$ctx;
        my $r = mcp_post($body, @h);
        is($r->{status}, 400, "invalid JSON '$show' ($what): 400");
        is(code($r), -32700, "invalid JSON '$show' ($what): -32700");
    }
}

my $r = mcp_post('', @in);
ok($r->{status} == 400 && (code($r) // -32700) == -32700, 'empty body: 400 (-32700)');

# valid JSON, not a message
for my $body ('42', '"x"', 'null', 'true', '3.5') {
    for my $ctx ([ 'no session', () ], [ 'in session', @in ]) {
        my ($what, @h) = @$ctx;
        $r = mcp_post($body, @h);
        is($r->{status}, 400, "non-object $body ($what): 400");
        is(code($r), -32600, "non-object $body ($what): -32600");
    }
}

# bad envelopes
for my $case (
    [ 'jsonrpc 1.0',           { jsonrpc => '1.0', id => 1, method => 'ping' } ],
    [ 'jsonrpc missing',       { id => 1, method => 'ping' } ],
    [ 'jsonrpc a number',      { jsonrpc => 2.0, id => 1, method => 'ping' } ],
    [ 'method a number',       { jsonrpc => '2.0', id => 1, method => 5 } ],
    [ 'method null',           { jsonrpc => '2.0', id => 1, method => undef } ],
    [ 'id null',               { jsonrpc => '2.0', id => undef, method => 'ping' } ],
    [ 'id an object',          { jsonrpc => '2.0', id => { a => 1 }, method => 'ping' } ],
    [ 'id an array',           { jsonrpc => '2.0', id => [1], method => 'ping' } ],
    [ 'id a boolean',          { jsonrpc => '2.0', id => JSON::XS::true, method => 'ping' } ],
    [ 'no method, no result',  { jsonrpc => '2.0', id => 1 } ],
  )
{
    my ($what, $msg) = @$case;
    $r = mcp_post($msg, @in);
    is(code($r), -32600, "$what: -32600") or diag($r->{body});
    ok($r->{status} == 400 || $r->{status} == 200, "$what: 400 (or 200 with the error)");
}

# params that are not structured: invalid request or invalid params
$r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'tools/list', params => 7 }, @in);
ok((code($r) // 0) == -32600 || (code($r) // 0) == -32602, 'params a number: -32600 or -32602');

# the session is still fine after all that
$r = legacy_post($sid, $v, 'ping', undef, id => 1);
is_deeply($r->{json} && $r->{json}{result}, {}, 'session survives bad input');

# unknown method in a session
$r = legacy_post($sid, $v, 'tools/destroy', {}, id => 'u');
is(code($r), -32601, 'unknown method: -32601');
is($r->{json} && $r->{json}{id}, 'u', '... id echoed');

# Content-Type
for my $ct ('text/plain', 'application/x-www-form-urlencoded', 'application/jsonx',
            'multipart/form-data; boundary=x')
{
    $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' }, @in, 'Content-Type' => $ct);
    is($r->{status}, 415, "Content-Type $ct: 415");
}
$r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' }, @in, 'Content-Type' => undef);
is($r->{status}, 415, 'no Content-Type: 415');
$r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' }, @in,
              'Content-Type' => 'application/json; charset=utf-8');
is_deeply($r->{json} && $r->{json}{result}, {}, 'application/json; charset=utf-8 is fine');
$r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' }, @in,
              'Content-Type' => 'Application/JSON');
is_deeply($r->{json} && $r->{json}{result}, {}, 'media type is case-insensitive');

# Accept
for my $acc ('text/html', 'image/png', 'application/xml') {
    $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' }, @in, Accept => $acc);
    is($r->{status}, 406, "Accept: $acc is 406");
}
for my $acc ('application/json, text/event-stream', 'application/json',
             'text/event-stream', '*/*', 'application/*, text/*')
{
    $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' }, @in, Accept => $acc);
    ok($r->{status} == 200 || $r->{status} == 406,
       "Accept: $acc is served or 406 ($r->{status})");
}
$r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' }, @in,
              Accept => 'application/json, text/event-stream');
is($r->{status}, 200, 'Accept with both types: 200');

# other HTTP methods
for my $m (qw(PUT PATCH)) {
    $r = http($m, '/mcp', headers => { 'Content-Type' => 'application/json', @in },
              body => '{}');
    ok($r->{status} == 405 || $r->{status} == 501, "$m is 405 ($r->{status})");
}
$r = http('GET', '/mcp', headers => { Accept => 'text/event-stream' });
is($r->{status}, 400, 'GET without a session: 400 (the stream is a session\'s)');

# responses from the client to requests the server never sent
$r = mcp_post({ jsonrpc => '2.0', id => 12345, result => {} }, @in);
ok($r->{status} == 202 || ($r->{status} >= 400 && $r->{status} < 500),
   "a stray client response: 202 or 4xx ($r->{status})");

# after all of it, everything still works
$r = legacy_post($sid, $v, 'tools/list', {}, id => 9);
is(scalar @{ $r->{json} && $r->{json}{result} && $r->{json}{result}{tools} || [] }, 1,
   'tools/list still fine');

stop_nginx();
done_testing();
