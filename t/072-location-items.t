#!/usr/bin/perl
# Resources, resource templates and prompts backed by nginx locations
# (`pass /uri;`), and what a 2026 retry of an input_required tool forwards:
# a real HTTP service below, behind proxy_pass, in both eras.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(time sleep);

my $png = png_1x1();
my $work = tempdir("072-backend-XXXXXX", TMPDIR => 1, CLEANUP => 1);
my $calls_log = "$work/calls.log";

sub backend_calls {
    open my $fh, '<', $calls_log or return 0;
    my @l = <$fh>;
    close $fh;
    return scalar @l;
}

sub reply { backend_reply(@_) }

sub serve_one {
    my ($s) = @_;
    my $q = backend_request($s) or return;
    my ($path, $body, %h) = ($q->{path}, $q->{body}, %{ $q->{headers} });
    if (open my $fh, '>>', $calls_log) { syswrite $fh, "$path\n"; close $fh; }

    my $echo = json_encode({ headers => \%h, json => json_decode($body) });
    my $json = json_decode($body) || {};

    if ($path eq '/res/text') {
        reply($s, 200, 'text/plain; charset=utf-8', "hello resource\n",
              'Cache-Control: public, max-age=60');
    } elsif ($path eq '/res/notype') {
        reply($s, 200, undef, '# Title', 'Cache-Control: no-store, max-age=100');
    } elsif ($path eq '/res/json') {
        reply($s, 200, 'application/json', '{"a":1}',
              'Cache-Control: private', 'Cache-Control: max-age=5');
    } elsif ($path eq '/res/png') {
        reply($s, 200, 'image/png', $png, 'Cache-Control: s-maxage=10');
    } elsif ($path eq '/res/echo') {
        reply($s, 200, 'application/json', $echo);
    } elsif ($path eq '/res/city') {
        my $city = $json->{arguments}{city} // '';
        if ($city eq 'atlantis') { reply($s, 404, 'text/plain', 'sunk') }
        elsif ($city eq 'bad') { reply($s, 400, 'text/plain', 'no such city name') }
        else { reply($s, 200, 'text/plain', "sunny in $city") }
    } elsif ($path eq '/res/500') {
        reply($s, 500, 'text/plain', 'disk on fire');
    } elsif ($path eq '/res/slow') {
        # answers late; notes when nginx closes the connection first
        my $sel = IO::Select->new($s);
        for (1 .. 40) {
            if ($sel->can_read(0.1)) {
                my $n = sysread $s, my $x, 1;
                if (!$n) {
                    open my $fh, '>', "$work/slow-closed"; close $fh;
                    return;
                }
            }
        }
        reply($s, 200, 'text/plain', 'too late');
    } elsif ($path eq '/prompt/obj') {
        reply($s, 200, 'application/json',
              '{"description":"from the backend","messages":[{"role":"user",'
              . '"content":{"type":"text","text":"about ' . ($json->{arguments}{topic} // '?')
              . '"}}],"_meta":{"example.com/k":"v"},"resultType":"ignored"}');
    } elsif ($path eq '/prompt/array') {
        reply($s, 200, 'application/json',
              '[{"role":"user","content":{"type":"text","text":"one"}},'
              . '{"role":"assistant","content":{"type":"text","text":"two"}}]');
    } elsif ($path eq '/prompt/text') {
        reply($s, 200, 'text/markdown', "Summarise *this*");
    } elsif ($path eq '/prompt/png') {
        reply($s, 200, 'image/png', $png);
    } elsif ($path eq '/prompt/echo') {
        reply($s, 200, 'application/json',
              json_encode([{ role => 'user', content => { type => 'text',
                                                          text => $echo } }]));
    } elsif ($path eq '/prompt/bad') {
        reply($s, 200, 'application/json', '{"x":1}');
    } elsif ($path eq '/prompt/badjson') {
        reply($s, 200, 'application/json', '{"x":');
    } elsif ($path eq '/prompt/binary') {
        reply($s, 200, 'application/octet-stream', "\x00\x01");
    } elsif ($path eq '/prompt/422') {
        reply($s, 422, 'text/plain', 'topic too vague');
    } elsif ($path eq '/tool/echo') {
        reply($s, 200, 'application/json', $echo);
    } else {
        reply($s, 404, 'text/plain', "unknown path $path");
    }
}

my $bport = backend(\&serve_one);

my $closed_port = closed_port();

my $conf = <<'EOF';
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 1024; }
http {
    access_log off;

    mcp_server s {
        resource "demo://text" { name text; pass /b/res/text; }
        resource "demo://typed" { name typed; mime_type text/markdown;
                                  pass /b/res/notype; }
        resource "demo://json" { name json; pass /b/res/json; }
        resource "demo://png" { name png; pass /b/res/png; }
        resource "demo://echo" { name echo; pass /b/res/echo; }
        resource "demo://broken" { name broken; pass /b/res/500; }
        resource "demo://gone" { name gone; pass /b/nothing-here; }
        resource "demo://slow" { name slow; pass /b/res/slow timeout=500ms; }
        resource "demo://static" { name static; text "not a backend"; }
        resource_template "weather://{city}/{day}" { name weather;
                                                     pass /b/res/echo; }
        resource_template "city://{city}" { name city; mime_type text/plain;
                                            pass /b/res/city; }

        prompt obj { description "d"; argument topic required; pass /b/prompt/obj; }
        prompt arr { description "fallback description"; pass /b/prompt/array; }
        prompt text { description "t"; pass /b/prompt/text; }
        prompt png { description "p"; pass /b/prompt/png; }
        prompt echo { description "e"; argument a required; argument b;
                      pass /b/prompt/echo; }
        prompt bad { description "b"; pass /b/prompt/bad; }
        prompt badjson { description "b"; pass /b/prompt/badjson; }
        prompt binary { description "b"; pass /b/prompt/binary; }
        prompt vague { description "v"; pass /b/prompt/422; }
        prompt refused { description "r"; pass /refused; }

        tool mrtr { description "echoes its call"; argument x integer;
                    pass /b/tool/echo; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass s; }
        location = /mcp-small { mcp_pass s; mcp_backend_max_size 10; }
        location /b/ {
            internal;
            proxy_pass http://127.0.0.1:BACKEND_PORT/;
        }
        location = /refused {
            internal;
            proxy_pass http://127.0.0.1:CLOSED_PORT/;
        }
    }
}
EOF
$conf =~ s/BACKEND_PORT/$bport/g;
$conf =~ s/CLOSED_PORT/$closed_port/g;

start_nginx($conf);

my $v = '2025-11-25';
my $sid = mcp_init($v);

sub legacy { return legacy_post($sid, $v, @_) }
sub modern { return modern_post(@_) }

sub read_both {
    my ($uri) = @_;
    return (legacy('resources/read', { uri => $uri })->{json},
            modern('resources/read', { uri => $uri })->{json});
}

# ---------------------------------------------------------------------------
# listed like any resource; mimeType only when configured, no size

{
    my $r = legacy('resources/list', {});
    my %by = map { $_->{uri} => $_ } @{ $r->{json}{result}{resources} };
    is_deeply($by{'demo://text'}, { uri => 'demo://text', name => 'text' },
              'list: a pass resource without mime_type');
    is($by{'demo://typed'}{mimeType}, 'text/markdown', 'list: its mime_type');
    ok(!exists $by{'demo://typed'}{size}, 'list: no size');
    $r = legacy('resources/templates/list', {});
    my %t = map { $_->{uriTemplate} => $_ }
            @{ $r->{json}{result}{resourceTemplates} };
    ok($t{'weather://{city}/{day}'}, 'list: a pass template');
}

# ---------------------------------------------------------------------------
# resources/read: the body becomes contents, typed by Content-Type

for my $case (
    [ 'demo://text', { uri => 'demo://text', mimeType => 'text/plain',
                       text => "hello resource\n" } ],
    [ 'demo://typed', { uri => 'demo://typed', mimeType => 'text/markdown',
                        text => '# Title' } ],
    [ 'demo://json', { uri => 'demo://json', mimeType => 'application/json',
                       text => '{"a":1}' } ],
    [ 'demo://png', { uri => 'demo://png', mimeType => 'image/png',
                      blob => b64($png) } ],
) {
    my ($uri, $want) = @$case;
    my ($l, $m) = read_both($uri);
    is_deeply($l->{result}{contents}, [ $want ], "read $uri: 2025 contents")
        or diag(json_encode($l));
    is_deeply($m->{result}{contents}, [ $want ], "read $uri: 2026 contents")
        or diag(json_encode($m));
    is($m->{result}{resultType}, 'complete', "read $uri: 2026 resultType");
}

# 2026 caching hints follow the answer's Cache-Control
for my $case ([ 'demo://text', 60000, 'public', 'max-age=60' ],
              [ 'demo://json', 5000, 'private', 'private, in two headers' ],
              [ 'demo://typed', 0, 'public', 'no-store wins' ],
              [ 'demo://png', 0, 'public', 'only s-maxage: none' ],
              [ 'demo://static', 300000, 'public', 'a static one: cache_ttl' ]) {
    my ($uri, $ttl, $scope, $why) = @$case;
    my $res = modern('resources/read', { uri => $uri })->{json}{result};
    is($res->{ttlMs}, $ttl, "caching $uri: ttlMs ($why)");
    is($res->{cacheScope}, $scope, "caching $uri: cacheScope");
}

is(decode_base64(modern('resources/read', { uri => 'demo://png' })
                 ->{json}{result}{contents}[0]{blob}), $png,
   'read: the blob is the image');

# what the backend receives
{
    my $r = legacy('resources/read', { uri => 'demo://echo' }, id => 'r-1');
    my $got = json_decode($r->{json}{result}{contents}[0]{text});
    is_deeply($got->{json}, { uri => 'demo://echo' }, 'backend: {"uri":..}');
    is($got->{headers}{'x-mcp-resource'}, 'demo://echo',
       'backend: X-MCP-Resource');
    is($got->{headers}{'x-mcp-request-id'}, '"r-1"', 'backend: the id');
    is($got->{headers}{'x-mcp-session-id'}, $sid, 'backend: the session');
    ok(!exists $got->{headers}{'x-mcp-tool'}, 'backend: no X-MCP-Tool');

    $r = modern('resources/read', { uri => 'weather://paris/monday' });
    $got = json_decode($r->{json}{result}{contents}[0]{text});
    is_deeply($got->{json}, { uri => 'weather://paris/monday',
                              arguments => { city => 'paris',
                                             day => 'monday' } },
              'backend: a template gets its variables as arguments');
    ok(!exists $got->{headers}{'x-mcp-session-id'},
       'backend: no session in 2026');

    $r = modern('resources/read', { uri => 'city://lyon' });
    is_deeply($r->{json}{result}{contents},
              [ { uri => 'city://lyon', mimeType => 'text/plain',
                  text => 'sunny in lyon' } ], 'template: contents');
}

# failures are JSON-RPC errors
{
    my ($l, $m) = read_both('city://atlantis');
    is($l->{error}{code}, -32002, '404: 2025 resource not found');
    is($l->{error}{data}{uri}, 'city://atlantis', '404: data.uri');
    is($m->{error}{code}, -32602, '404: 2026 -32602');

    ($l, $m) = read_both('demo://gone');
    is($l->{error}{code}, -32002, 'a missing backend path: not found');

    ($l, $m) = read_both('city://bad');
    is($l->{error}{code}, -32602, '400: invalid params');
    like($l->{error}{message}, qr/answered HTTP 400: no such city name/,
         '400: the backend\'s words');

    ($l, $m) = read_both('demo://broken');
    is($l->{error}{code}, -32603, '500: internal error');
    is($m->{error}{code}, -32603, '500: internal error in 2026');
    like($l->{error}{message},
         qr/^The resource's backend answered HTTP 500: disk on fire$/,
         '500: the message');
}

# timeout=: the call stops, the backend's connection is closed
{
    my $t0 = time;
    my $r = modern('resources/read', { uri => 'demo://slow' });
    my $took = time - $t0;
    is($r->{json}{error}{code}, -32603, 'timeout: an internal error');
    like($r->{json}{error}{message},
         qr/^The resource's backend did not answer within 500 ms$/,
         'timeout: says so');
    cmp_ok($took, '<', 2.5, 'timeout: answered before the backend would');
    my $t1 = time;
    sleep 0.1 until -e "$work/slow-closed" || time - $t1 > 3;
    ok(-e "$work/slow-closed", 'timeout: the backend connection was closed');
}

# mcp_backend_max_size of the MCP location caps the answer
{
    my $r = modern_post('resources/read', { uri => 'demo://text' },
                        path => '/mcp-small');
    is($r->{json}{error}{code}, -32603, 'mcp_backend_max_size: an error');
    is($r->{json}{error}{message},
       "The resource's backend answered more than 10 bytes",
       'mcp_backend_max_size: says so');
}

# subscribing to a pass resource does not call it
{
    my $before = backend_calls();
    my $r = legacy('resources/subscribe', { uri => 'demo://text' });
    is_deeply($r->{json}{result}, {}, 'subscribe: a pass resource exists');
    $r = legacy('resources/subscribe', { uri => 'weather://a/b' });
    is_deeply($r->{json}{result}, {}, 'subscribe: a pass template matches');
    is(backend_calls(), $before, 'subscribe: no backend call');
    is(legacy('resources/read', { uri => 'demo://static' })
       ->{json}{result}{contents}[0]{text}, 'not a backend',
       'a static resource beside them');
}

# ---------------------------------------------------------------------------
# prompts/get

{
    my $r = legacy('prompts/get', { name => 'obj',
                                    arguments => { topic => 'cats' } });
    my $res = $r->{json}{result};
    is($res->{description}, 'from the backend', 'prompt object: description');
    is_deeply($res->{messages}, [ { role => 'user', content =>
                                    { type => 'text', text => 'about cats' } } ],
              'prompt object: messages');
    is_deeply($res->{_meta}, { 'example.com/k' => 'v' },
              'prompt object: _meta passes (2025)');
    ok(!exists $res->{resultType}, 'prompt object: no resultType in 2025');

    $r = modern('prompts/get', { name => 'obj', arguments => { topic => 'd' } });
    $res = $r->{json}{result};
    is($res->{resultType}, 'complete', 'prompt 2026: resultType ours');
    is($res->{_meta}{'example.com/k'}, 'v', 'prompt 2026: _meta merged');
    ok($res->{_meta}{'io.modelcontextprotocol/serverInfo'},
       'prompt 2026: with serverInfo');

    $r = legacy('prompts/get', { name => 'arr' });
    is($r->{json}{result}{description}, 'fallback description',
       'prompt array: the configured description');
    is(scalar @{ $r->{json}{result}{messages} }, 2, 'prompt array: messages');

    $r = modern('prompts/get', { name => 'text' });
    is_deeply($r->{json}{result}{messages},
              [ { role => 'user', content => { type => 'text',
                                               text => 'Summarise *this*' } } ],
              'prompt text: one user message');

    $r = modern('prompts/get', { name => 'png' });
    is_deeply($r->{json}{result}{messages},
              [ { role => 'user', content => { type => 'image',
                                               data => b64($png),
                                               mimeType => 'image/png' } } ],
              'prompt image: one image message');

    $r = legacy('prompts/get', { name => 'echo', arguments => { a => 'x' } },
                id => 9);
    my $got = json_decode($r->{json}{result}{messages}[0]{content}{text});
    is_deeply($got->{json}, { name => 'echo', arguments => { a => 'x' } },
              'prompt backend: name and arguments');
    is($got->{headers}{'x-mcp-prompt'}, 'echo', 'prompt backend: X-MCP-Prompt');
    is($got->{headers}{'x-mcp-request-id'}, '9', 'prompt backend: the id');

    my $before = backend_calls();
    $r = legacy('prompts/get', { name => 'echo', arguments => { b => 'y' } });
    is($r->{json}{error}{code}, -32602, 'prompt: a missing argument');
    $r = legacy('prompts/get', { name => 'echo', arguments => { a => 1 } });
    is($r->{json}{error}{code}, -32602, 'prompt: a non-string argument');
    is(backend_calls(), $before, 'prompt: invalid arguments never reach it');

    for my $case ([ 'bad', -32603, qr/without a "messages" array/ ],
                  [ 'badjson', -32603, qr/invalid JSON/ ],
                  [ 'binary', -32603, qr/not a message/ ],
                  [ 'vague', -32602, qr/answered HTTP 422: topic too vague/ ],
                  [ 'refused', -32603, qr/unreachable \(HTTP 502\)/ ])
    {
        my ($name, $code, $re) = @$case;
        for my $r (legacy('prompts/get', { name => $name }),
                   modern('prompts/get', { name => $name })) {
            is($r->{json}{error}{code}, $code, "prompt $name: $code");
            like($r->{json}{error}{message} // '', $re, "prompt $name: why");
        }
    }
}

# ---------------------------------------------------------------------------
# a 2026 retry brings inputResponses and requestState to the backend

{
    my $resp = { who => { action => 'accept', content => { name => 'Ada' } } };
    my $r = modern('tools/call', { name => 'mrtr', arguments => { x => 1 },
                                   inputResponses => $resp });
    my $got = $r->{json}{result}{structuredContent}
        or diag(json_encode($r->{json}));
    is_deeply($got->{json}, { name => 'mrtr', arguments => { x => 1 },
                              inputResponses => $resp },
              'MRTR: the retry is forwarded');
    is($got->{headers}{'x-mcp-tool'}, 'mrtr', 'MRTR: X-MCP-Tool');

    # a state the module did not seal never reaches the backend (t/037)
    my $before = backend_calls();
    $r = modern('tools/call', { name => 'mrtr', arguments => { x => 1 },
                                inputResponses => $resp,
                                requestState => 'state-1' });
    is($r->{json}{error}{code}, -32602, 'MRTR: an unsealed requestState');
    is(backend_calls(), $before, 'MRTR: ... is refused before the backend');

    $r = modern('tools/call', { name => 'mrtr', requestState => 7 });
    is($r->{json}{error}{code}, -32602, 'MRTR: requestState must be a string');

    $r = legacy('tools/call', { name => 'mrtr', requestState => 's' });
    $got = $r->{json}{result}{structuredContent};
    is_deeply($got->{json}, { name => 'mrtr', arguments => {} },
              'MRTR: nothing of it in 2025 sessions');
}

# batches (2025-03-26): a pass resource or prompt cannot be in one
{
    my $old = mcp_init('2025-03-26');
    my $r = mcp_post([ { jsonrpc => '2.0', id => 1, method => 'resources/read',
                         params => { uri => 'demo://text' } },
                       { jsonrpc => '2.0', id => 2, method => 'prompts/get',
                         params => { name => 'arr' } },
                       { jsonrpc => '2.0', id => 3, method => 'ping' } ],
                     'Mcp-Session-Id' => $old);
    my %by = map { $_->{id} => $_ } @{ $r->{json} || [] };
    like($by{1}{error}{message} // '',
         qr/^resources\/read of "demo:\/\/text" cannot be called in a batch/,
         'batch: resources/read of a pass resource');
    like($by{2}{error}{message} // '', qr/cannot be called in a batch/,
         'batch: prompts/get of a pass prompt');
    is_deeply($by{3}{result}, {}, 'batch: ping answers');
}

stop_nginx();

# ---------------------------------------------------------------------------
# configuration errors

sub item_conf {
    my ($item) = @_;
    return <<"EOF";
load_module %%MODULE%%;
events { }
http {
    mcp_server s {
$item
    }
    server { listen 127.0.0.1:%%PORT%%; location = /mcp { mcp_pass s; } }
}
EOF
}

nginx_t_ok(item_conf('        resource "a://b" { pass /x timeout=2s max_size=64k; }'),
           name => 'resource with pass, timeout= and max_size= passes nginx -t');
nginx_t_fails(item_conf('        resource "a://b" { pass /x; text "t"; }'),
              qr/resource "a:\/\/b" has both "pass" and its content/,
              name => 'resource with pass and text fails');
nginx_t_fails(item_conf('        resource_template "a://{x}" { text "t"; pass /x; }'),
              qr/has both "pass" and its content/,
              name => 'template with pass and text fails');
nginx_t_fails(item_conf('        prompt p { description "d"; pass /x; message user "hi"; }'),
              qr/prompt "p" has both "pass" and messages/,
              name => 'prompt with pass and a message fails');
nginx_t_fails(item_conf('        prompt p { description "d"; pass /x; pass /y; }'),
              qr/duplicate "pass" in prompt "p"/,
              name => 'a second pass fails');
nginx_t_fails(item_conf('        tool t { description "d"; pass /x timeout=fast; }'),
              qr/invalid value "timeout=fast" of pass/,
              name => 'a bad timeout fails');
nginx_t_fails(item_conf('        tool t { description "d"; pass /x retries=2; }'),
              qr/invalid parameter "retries=2" of pass/,
              name => 'an unknown pass parameter fails');
nginx_t_fails(item_conf('        tool t { description "d"; pass /x max_size=0; }'),
              qr/invalid value "max_size=0" of pass/,
              name => 'max_size=0 fails');
nginx_t_fails(item_conf('        resource "a://b" { }'),
              qr/has no content: add "text", "file" or "pass"/,
              name => 'a resource without content fails');

done_testing();
