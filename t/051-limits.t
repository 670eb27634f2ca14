#!/usr/bin/perl
# Limits on the request body: client_max_body_size (413), JSON depth, member
# count and string length (-32700), invalid UTF-8 and duplicate keys.

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
        tool take {
            description "Takes anything";
            input_schema '{"type":"object"}';
            text "taken";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        client_max_body_size 1k;
        location = /mcp {
            mcp_pass full;
            mcp_json_max_depth 8;
            mcp_json_max_string 100;
            mcp_json_max_members 20;
        }
        location = /big {
            client_max_body_size 1m;
            mcp_pass full;
        }
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
ok($sid, 'session');
my @in = ('Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => $v);

sub call_body {
    my ($args_json) = @_;
    return '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":'
         . '{"name":"take","arguments":' . $args_json . '}}';
}

my $r = mcp_post(call_body('{"a":"' . ('x' x 50) . '"}'), @in);
ok($r->{json} && $r->{json}{result} && !$r->{json}{result}{isError},
   'a body within every limit works');

# client_max_body_size
$r = mcp_post(call_body('{"a":"' . ('x' x 2000) . '"}'), @in);
is($r->{status}, 413, 'body over client_max_body_size 1k: 413');

# depth: the envelope and params take 3 levels, arguments one more
$r = mcp_post(call_body('{"a":{"b":{"c":1}}}'), @in);
ok($r->{json} && $r->{json}{result}, 'depth 6 is fine (limit 8)');
$r = mcp_post(call_body('{"a":' . ('[' x 20) . (']' x 20) . '}'), @in);
is($r->{status}, 400, 'nesting 24 deep (limit 8): 400');
is(code($r), -32700, '... -32700');
$r = mcp_post(('[' x 200) . (']' x 200), @in);
is(code($r), -32700, 'a bare deep array: -32700');

# string length
$r = mcp_post(call_body('{"a":"' . ('y' x 101) . '"}'), @in);
is(code($r), -32700, 'string of 101 bytes (limit 100): -32700');
$r = mcp_post(call_body('{"' . ('k' x 101) . '":1}'), @in);
is(code($r), -32700, 'member name of 101 bytes: -32700');
$r = mcp_post(call_body('{"a":"' . ('y' x 100) . '"}'), @in);
ok($r->{json} && $r->{json}{result}, 'string of exactly 100 bytes is fine');

# members of one object / elements of one array
$r = mcp_post(call_body('{' . join(',', map { "\"k$_\":1" } 1 .. 25) . '}'), @in);
is(code($r), -32700, '25 members (limit 20): -32700');
$r = mcp_post(call_body('{"a":[' . join(',', (1) x 25) . ']}'), @in);
is(code($r), -32700, '25 array elements (limit 20): -32700');

# invalid UTF-8
for my $bad ("\xff\xfe", "\xc3\x28", "\xe2\x82", "\xed\xa0\x80", "\xc0\xaf") {
    (my $show = $bad) =~ s/(.)/sprintf '\\x%02x', ord $1/ges;
    $r = mcp_post(call_body('{"a":"' . $bad . '"}'), @in);
    is(code($r), -32700, "invalid UTF-8 $show: -32700");
}
$r = mcp_post(call_body("{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}"), @in);
ok($r->{json} && $r->{json}{result}, 'valid multi-byte UTF-8 is fine');
$r = mcp_post(call_body('{"a":"\\ud83d\\ude00 \\u00e9"}'), @in);
ok($r->{json} && $r->{json}{result}, 'escaped surrogate pair is fine');

# duplicate keys
$r = mcp_post('{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"ping"}', @in);
is(code($r), -32700, 'duplicate key in the envelope: -32700');
$r = mcp_post('{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}', @in);
is(code($r), -32700, 'duplicate method: -32700');
$r = mcp_post(call_body('{"a":1,"a":2}'), @in);
is(code($r), -32700, 'duplicate key in arguments: -32700');

# the defaults allow far more (location /big: 64 deep, 1m strings)
$r = mcp_post(call_body('{"a":' . ('[' x 40) . (']' x 40) . '}'), @in, -path => '/big');
ok($r->{json} && $r->{json}{result}, 'nesting 44 deep is fine with the default limit');
$r = mcp_post(call_body('{"a":"' . ('z' x 50000) . '"}'), @in, -path => '/big');
ok($r->{json} && $r->{json}{result}, 'a 50k string is fine with the default limit');
$r = mcp_post(call_body('{"a":' . ('[' x 70) . (']' x 70) . '}'), @in, -path => '/big');
is(code($r), -32700, 'nesting 74 deep is over the default 64');

# after all of it, everything still works
$r = legacy_post($sid, $v, 'ping', undef, id => 1);
is_deeply($r->{json} && $r->{json}{result}, {}, 'session fine after the limits');

stop_nginx();
done_testing();
