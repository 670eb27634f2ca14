#!/usr/bin/perl
# Input the hostile review sent that the module mishandled: chunked request
# bodies (a sanitizer-build worker died on their empty last buffer), escaped
# lone surrogates (rewritten by yajl instead of refused), 2025-03-26 batches
# that built answers ~139 times their size, an unknown MCP-Protocol-Version
# on a session request, and Accept headers matched by substring.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use Encode qw(encode_utf8);

start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server full {
        name "hardening-test";
        tool echo_hello {
            description "Says hello, at some length: a tools/list page of this catalog is a few hundred bytes";
            argument who string "Whom to greet";
            text "Hello from nginx";
        }
        tool second { description "Another tool"; text "two"; }
        resource docs://big { name big; text "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; }
        location = /small {
            mcp_pass full;
            mcp_batch_max_response_size 2k;
        }
    }
}
EOF

sub code {
    my ($r) = @_;
    return $r->{json} && ref $r->{json} eq 'HASH' && ref $r->{json}{error} eq 'HASH'
         ? $r->{json}{error}{code} : undef;
}

sub message {
    my ($r) = @_;
    return $r->{json} && ref $r->{json} eq 'HASH' && ref $r->{json}{error} eq 'HASH'
         ? $r->{json}{error}{message} // '' : '';
}

# --- 1. chunked request bodies ----------------------------------------------
# nginx ends a chunked body with an empty buffer whose pos is NULL; copying
# from it was undefined behaviour that the UBSan build turned into a dead
# worker.  This file runs under the sanitizer stage too.

sub chunked_post {
    my ($body, $chunk, @h) = @_;
    my $req = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:" . port() . "\r\n"
            . "Connection: close\r\nContent-Type: application/json\r\n"
            . "Accept: application/json, text/event-stream\r\n"
            . join('', map { "$_\r\n" } @h)
            . "Transfer-Encoding: chunked\r\n\r\n";
    for (my $i = 0; $i < length $body; $i += $chunk) {
        my $part = substr($body, $i, $chunk);
        $req .= sprintf("%x\r\n%s\r\n", length $part, $part);
    }
    $req .= "0\r\n\r\n";
    my $r = raw_send($req);
    $r->{json} = json_decode($r->{body} // '');
    return $r;
}

{
    my $init = json_encode({ jsonrpc => '2.0', id => 1, method => 'initialize',
                             params => { protocolVersion => '2025-11-25',
                                         capabilities => {},
                                         clientInfo => { name => 't', version => '1' } } });
    for my $chunk (length($init), 7, 1) {
        my $r = chunked_post($init, $chunk);
        is($r->{status}, 200, "chunked initialize in chunks of $chunk bytes: 200");
        ok($r->{json} && $r->{json}{result} && $r->{json}{result}{protocolVersion},
           "chunked initialize in chunks of $chunk bytes: answered") or diag($r->{raw});
    }

    my $sid = mcp_init('2025-11-25');
    my $call = json_encode({ jsonrpc => '2.0', id => 2, method => 'tools/call',
                             params => { name => 'echo_hello', arguments => { who => 'x' } } });
    my $r = chunked_post($call, 5, "Mcp-Session-Id: $sid", 'MCP-Protocol-Version: 2025-11-25');
    is($r->{json} && $r->{json}{result} && $r->{json}{result}{content}[0]{text},
       'Hello from nginx', 'chunked tools/call in a session: answered');

    my $m = modern_body('tools/list', {});
    $r = chunked_post(json_encode($m), 3, 'MCP-Protocol-Version: 2026-07-28',
                      'Mcp-Method: tools/list');
    ok($r->{json} && $r->{json}{result} && ref $r->{json}{result}{tools} eq 'ARRAY',
       'chunked 2026 tools/list: answered') or diag($r->{raw});

    $r = chunked_post('', 1);
    is($r->{status}, 400, 'a chunked empty body: 400');
    is(code($r), -32700, 'a chunked empty body: -32700');
}

# --- 2. escaped lone surrogates ---------------------------------------------
# yajl decodes "\ud800" into "?" and "\ud800\u0041" into a made-up
# character: the id or arguments would change on the way through.

{
    my $sid = mcp_init('2025-11-25');
    my @in = ('Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => '2025-11-25');

    for my $case ([ 'a lone high surrogate id', '"\ud800"' ],
                  [ 'a high surrogate inside an id', '"a\ud800b"' ],
                  [ 'a high surrogate before a non-surrogate escape', '"\ud800\u0041"' ],
                  [ 'two high surrogates', '"\ud800\ud800"' ],
                  [ 'a lone low surrogate', '"\udc00"' ],
                  [ 'a pair then a lone low surrogate', '"\ud83d\ude00\udc00"' ])
    {
        my ($what, $id) = @$case;
        my $r = mcp_post('{"jsonrpc":"2.0","id":' . $id . ',"method":"ping"}', @in);
        is($r->{status}, 400, "$what: 400");
        is(code($r), -32700, "$what: -32700");
        like(message($r) . ' ' . json_encode($r->{json}{error}{data} // ''),
             qr/surrogate/, "$what: says why");
    }

    my $r = mcp_post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":'
                     . '{"name":"echo_hello","arguments":{"who":"x\ud800y"}}}', @in);
    is(code($r), -32700, 'a lone surrogate in arguments: -32700');

    $r = mcp_post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":'
                  . '{"name":"echo_hello","arguments":{"\udbff":"x"}}}', @in);
    is(code($r), -32700, 'a lone surrogate in a member name: -32700');

    # a proper pair, and an escaped backslash before "ud800", pass unchanged
    $r = mcp_post('{"jsonrpc":"2.0","id":"\ud83d\ude00-\\\\ud800","method":"ping"}', @in);
    is($r->{status}, 200, 'a surrogate pair and an escaped backslash: 200');
    is($r->{json} && $r->{json}{id}, "\x{1f600}-\\ud800",
       'a surrogate pair and an escaped backslash: the id comes back unchanged');

    # 2026: the same rule
    my $m = modern_body('ping', {});
    my $body = json_encode($m);
    $body =~ s/"id":\d+/"id":"\\ud800"/ or die;
    $r = mcp_post($body, 'MCP-Protocol-Version' => '2026-07-28', 'Mcp-Method' => 'ping');
    is(code($r), -32700, '2026: a lone surrogate id: -32700');
}

# --- 3. batch amplification -------------------------------------------------

{
    my $sid = mcp_init('2025-03-26');
    my @in = ('Mcp-Session-Id' => $sid);

    # 9,999 tools/list in ~500 KB would have built ~70 MB of answers
    my $batch = '[' . join(',', map { qq({"jsonrpc":"2.0","id":$_,"method":"tools/list"}) }
                                    1 .. 9999) . ']';
    my $r = mcp_post($batch, @in, -timeout => 60);
    is($r->{status}, 400, 'a batch whose answers pass 1m: 400');
    ok($r->{json} && ref $r->{json} eq 'HASH', 'a batch whose answers pass 1m: one error object');
    is(code($r), -32600, 'a batch whose answers pass 1m: -32600');
    like(message($r), qr/exceed 1048576 bytes \(mcp_batch_max_response_size\)/,
         'a batch whose answers pass 1m: says the limit');
    ok(length($r->{body} // '') < 1024, 'a batch whose answers pass 1m: a short answer')
        or diag(length $r->{body});

    # within the limit, batches answer as before
    $r = mcp_post('[' . join(',', map { qq({"jsonrpc":"2.0","id":$_,"method":"tools/list"}) }
                                  1 .. 20) . ']', @in);
    is($r->{status}, 200, 'a batch of 20 tools/list: 200');
    is(ref $r->{json} eq 'ARRAY' ? scalar @{ $r->{json} } : -1, 20,
       'a batch of 20 tools/list: 20 answers');

    # the directive, per location
    $r = mcp_post('[' . join(',', map { qq({"jsonrpc":"2.0","id":$_,"method":"tools/list"}) }
                                  1 .. 10) . ']', @in, -path => '/small');
    is(code($r), -32600, 'mcp_batch_max_response_size 2k: ten tools/list are refused');
    like(message($r), qr/exceed 2048 bytes/, 'mcp_batch_max_response_size 2k: says 2048');

    $r = mcp_post('[{"jsonrpc":"2.0","id":1,"method":"ping"},'
                  . '{"jsonrpc":"2.0","id":2,"method":"tools/list"}]', @in, -path => '/small');
    is(ref $r->{json} eq 'ARRAY' ? scalar @{ $r->{json} } : -1, 2,
       'mcp_batch_max_response_size 2k: a small batch is answered');

    # notifications answer nothing and count nothing
    $r = mcp_post('[' . join(',', map { qq({"jsonrpc":"2.0","method":"notifications/x$_"}) }
                                  1 .. 5000) . ']', @in, -path => '/small');
    is($r->{status}, 202, 'a batch of 5,000 notifications: 202');

    # the session still works after all of it
    $r = legacy_post($sid, '2025-03-26', 'ping', {});
    ok($r->{json} && $r->{json}{result}, 'the session answers after the refused batches');
}

# --- 4. an unknown MCP-Protocol-Version on a session request ----------------

{
    my $sid = mcp_init('2025-06-18');
    for my $v ('junk', '2099-01-01', '') {
        my $r = legacy_post($sid, $v, 'tools/list', {});
        is($r->{status}, 400, "a session request with MCP-Protocol-Version '$v': 400");
        like(message($r), qr/MCP-Protocol-Version/,
             "... '$v': the error is about the header")
            or diag($r->{body});
        unlike(message($r), qr/_meta/, "... '$v': not about params._meta");
    }
    my $r = legacy_post($sid, '2025-11-25', 'tools/list', {});
    like(message($r), qr/does not match the session/,
         'a known but different version: does not match the session');
    $r = legacy_post($sid, '2025-06-18', 'tools/list', {});
    ok($r->{json} && $r->{json}{result}, 'the right version: answered');

    # without a session, an unknown version is still a 2026 matter
    $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'tools/list', params => {} },
                  'MCP-Protocol-Version' => 'junk');
    is($r->{status}, 400, 'no session, unknown version: 400');
}

# --- 5. Accept by media ranges ----------------------------------------------

{
    my $ping = { jsonrpc => '2.0', id => 1, method => 'initialize',
                 params => { protocolVersion => '2025-11-25', capabilities => {},
                             clientInfo => { name => 't', version => '1' } } };
    for my $case (
        [ 'application/jsonx',                                    406 ],
        [ 'text/event-streams',                                   406 ],
        [ 'application/json-seq',                                 406 ],
        [ 'text/html, image/*',                                   406 ],
        [ '*/*;q=0',                                              406 ],
        [ 'application/json;q=0',                                 406 ],
        [ 'application/json; q=0.000, text/event-stream;q=0',     406 ],
        [ 'application/json;q=0, */*',                            'sse' ],
        [ 'application/json;q=0, text/event-stream',              'sse' ],
        [ 'text/*;q=0.5, application/json;q=0',                   'sse' ],
        [ 'text/event-stream, application/*;q=0',                 'sse' ],
        [ 'application/json; q=0.001',                            'json' ],
        [ 'application/*',                                        'json' ],
        [ '*/*',                                                  'json' ],
        [ 'APPLICATION/JSON',                                     'json' ],
        [ 'text/html, application/json;charset="a,b";q=1',        'json' ],
        [ 'application/json;q=1.0, text/event-stream;q=0',        'json' ],
      )
    {
        my ($accept, $want) = @$case;
        my $r = mcp_post($ping, Accept => $accept);
        my $ct = $r->{headers}{'content-type'} // '';
        if ($want eq '406') {
            is($r->{status}, 406, "Accept: $accept: 406");
        } elsif ($want eq 'sse') {
            ok($r->{status} == 200 && $ct =~ m{^text/event-stream},
               "Accept: $accept: an event stream") or diag("$r->{status} $ct");
        } else {
            ok($r->{status} == 200 && $ct =~ m{^application/json},
               "Accept: $accept: JSON") or diag("$r->{status} $ct");
        }
    }
}

stop_nginx();

nginx_t_fails(<<'EOF', qr/invalid value "lots" in "mcp_batch_max_response_size"|"mcp_batch_max_response_size" directive invalid value/);
load_module %%MODULE%%;
events { }
http {
    mcp_batch_max_response_size lots;
}
EOF

done_testing();
