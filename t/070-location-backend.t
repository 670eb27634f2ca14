#!/usr/bin/perl
# Tools backed by nginx locations (`pass /uri;`, docs/BACKENDS.md): a real
# HTTP service written below in Perl sits behind proxy_pass; every kind of
# answer becomes a CallToolResult, every failure a tool error, in both eras.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use Encode qw(decode_utf8);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use MIME::Base64 qw(decode_base64);
use POSIX ();
use Time::HiRes qw(time sleep);

my $png = png_1x1();
my $wav = wav_tiny();
my $blob = join '', map { chr } 0 .. 255;
my $text = "plain answer: Gr\xc3\xbc\xc3\x9fe aus dem Backend\n";    # UTF-8

# ---------------------------------------------------------------------------
# the backend: a small HTTP/1.1 server, one forked child per connection

my $work = tempdir("070-backend-XXXXXX", TMPDIR => 1, CLEANUP => 1);
my $calls_log = "$work/calls.log";    # one line per request: its path

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
    my ($method, $path, $body) = @$q{qw(method path body)};
    my %h = %{ $q->{headers} };
    my @list = @{ $q->{header_list} };

    if (open my $fh, '>>', $calls_log) {
        syswrite $fh, "$path\n";
        close $fh;
    }

    if ($path eq '/echo') {
        reply($s, 200, 'application/json',
              json_encode({ method => $method, path => $path, headers => \%h,
                            header_list => \@list, body => $body,
                            json => json_decode($body) }));
    } elsif ($path eq '/json') {
        reply($s, 200, 'application/json; charset=utf-8',
              '{"order":42,"status":"shipped","items":["a","b"]}');
    } elsif ($path eq '/array') {
        reply($s, 200, 'application/json', '[1,2,3]');
    } elsif ($path eq '/vendor') {
        reply($s, 200, 'application/vnd.example+json', '{"vendor":true}');
    } elsif ($path eq '/calltool') {
        reply($s, 200, 'application/json',
              '{"content":[{"type":"text","text":"from the backend"},'
              . '{"type":"resource_link","uri":"demo://x","name":"x"}],'
              . '"structuredContent":{"x":1},"_meta":{"example.com/k":"v"}}');
    } elsif ($path eq '/calltool_error') {
        reply($s, 200, 'application/json',
              '{"content":[{"type":"text","text":"backend says no"}],"isError":true}');
    } elsif ($path eq '/text') {
        reply($s, 200, 'text/plain; charset=utf-8', $text);
    } elsif ($path eq '/xml') {
        reply($s, 200, 'application/xml', '<order id="42"/>');
    } elsif ($path eq '/notype') {
        reply($s, 200, undef, 'no type at all');
    } elsif ($path eq '/png') {
        reply($s, 200, 'image/png', $png);
    } elsif ($path eq '/wav') {
        reply($s, 200, 'audio/wav', $wav);
    } elsif ($path eq '/binary') {
        reply($s, 200, 'application/octet-stream', $blob);
    } elsif ($path eq '/404') {
        reply($s, 404, 'text/plain', 'no such order');
    } elsif ($path eq '/500') {
        reply($s, 500, 'text/plain', 'database exploded');
    } elsif ($path eq '/500html') {
        reply($s, 500, 'text/html', '<html><body>oops</body></html>');
    } elsif ($path eq '/500long') {
        reply($s, 500, 'text/plain', 'x' x 2000);
    } elsif ($path eq '/503') {
        reply($s, 503, 'text/plain', 'come back later');
    } elsif ($path eq '/slow') {
        sleep 3;
        reply($s, 200, 'text/plain', 'too late');
    } elsif ($path eq '/big/json') {
        reply($s, 200, 'application/json',
              '{"data":"' . ('y' x 8000) . '"}');
    } elsif ($path eq '/big/ok') {
        reply($s, 200, 'application/json', '{"data":"' . ('z' x 300) . '"}');
    } elsif ($path eq '/204') {
        reply($s, 204, undef, '');
    } elsif ($path eq '/201') {
        reply($s, 201, 'application/json', '{"created":true}');
    } elsif ($path eq '/302') {
        reply($s, 302, 'text/plain', 'elsewhere');
    } elsif ($path eq '/emptyjson') {
        reply($s, 200, 'application/json', '');
    } elsif ($path eq '/badjson') {
        reply($s, 200, 'application/json', '{"oops": [1, 2');
    } elsif ($path eq '/input_required') {
        reply($s, 200, 'application/json',
              '{"resultType":"input_required","inputRequests":{"who":'
              . '{"method":"elicitation/create","params":{"mode":"form",'
              . '"message":"Who are you?","requestedSchema":{"type":"object",'
              . '"properties":{"name":{"type":"string"}},"required":["name"]}}}},'
              . '"requestState":"state-1"}');
    } else {
        reply($s, 404, 'text/plain', "unknown path $path");
    }
}

my $bport = backend(\&serve_one);


# a port nobody listens on
my $closed_port = closed_port();

# ---------------------------------------------------------------------------

my $conf = <<'EOF';
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 1024; }
http {
    access_log off;
    types { application/json json; text/plain txt; image/png png; }
    default_type application/octet-stream;

    mcp_server backends {
        name "backend-test"; version 1.0.0;

        tool echo {
            description "Tells what the backend received";
            argument q string required "A query";
            argument n integer "A number";
            pass /b/echo;
        }
        tool json_obj { description "JSON object"; pass /b/json; }
        tool json_array { description "JSON array"; pass /b/array; }
        tool vendor_json { description "+json type"; pass /b/vendor; }
        tool calltool { description "A CallToolResult"; pass /b/calltool; }
        tool calltool_error { description "isError"; pass /b/calltool_error; }
        tool plain { description "text/plain"; pass /b/text; }
        tool xml { description "XML"; pass /b/xml; }
        tool notype { description "no Content-Type"; pass /b/notype; }
        tool picture { description "image/png"; pass /b/png; }
        tool sound { description "audio/wav"; pass /b/wav; }
        tool blob { description "octet-stream"; pass /b/binary; }
        tool missing { description "404"; pass /b/404; }
        tool broken { description "500"; pass /b/500; }
        tool broken_html { description "500 HTML"; pass /b/500html; }
        tool broken_long { description "500 long"; pass /b/500long; }
        tool busy { description "503"; pass /b/503; }
        tool refused { description "nobody listens"; pass /refused; }
        tool slow { description "too slow"; pass /slow; }
        tool big { description "too big"; pass /big/json max_size=1k; }
        tool big_ok { description "fits"; pass /big/ok max_size=1k; }
        tool big_default { description "fits 1m"; pass /big/json; }
        tool badjson { description "invalid JSON"; pass /b/badjson; }
        tool needs_input { description "input_required"; pass /b/input_required; }
        tool static_file { description "a file"; pass /files/data.json; }
        tool static_png { description "a picture file"; pass /files/pixel.png; }
        tool local { description "nginx itself"; pass /local; }
        tool nowhere { description "no location"; pass /no/such/location; }
        tool plain_static { description "static"; text "static answer"; }
        tool no_content { description "204"; pass /b/204; }
        tool created { description "201"; pass /b/201; }
        tool moved { description "302"; pass /b/302; }
        tool emptyjson { description "empty JSON body"; pass /b/emptyjson; }
        tool itself { description "the MCP endpoint as a backend"; pass /mcp; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /mcp { mcp_pass backends; }

        location /b/ {
            internal;
            proxy_pass http://127.0.0.1:BACKEND_PORT/;
        }
        location = /refused {
            internal;
            proxy_pass http://127.0.0.1:CLOSED_PORT/x;
        }
        location = /slow {
            internal;
            proxy_read_timeout 1s;
            proxy_pass http://127.0.0.1:BACKEND_PORT/slow;
        }
        location /big/ {
            internal;
            proxy_pass http://127.0.0.1:BACKEND_PORT;
        }
        location /files/ {
            internal;
            root html;
            error_page 405 =200 $uri;
        }
        location = /local {
            internal;
            default_type application/json;
            return 200 '{"got":$request_body,"tool":"$http_x_mcp_tool"}';
        }
        location = /no/such/location/x { return 204; }
    }
}
EOF
$conf =~ s/BACKEND_PORT/$bport/g;
$conf =~ s/CLOSED_PORT/$closed_port/g;

my %files = (
    'html/files/data.json' => '{"from":"a file","n":1}',
    'html/files/pixel.png' => $png,
);

start_nginx($conf, files => \%files);

my $session_version = '2025-11-25';
my $sid = mcp_init($session_version);
ok($sid, "$session_version: session");

{
    my $r = legacy_post($sid, $session_version, 'tools/list', {});
    my ($echo) = grep { $_->{name} eq 'echo' } @{ $r->{json}{result}{tools} || [] };
    is_deeply($echo && $echo->{inputSchema}{required}, ['q'],
              'tools/list: a pass tool is listed with its inputSchema');
    ok(!grep({ /pass|\/b\/echo/ } keys %{ $echo || {} }),
       'tools/list: the pass URI is not published');
}

# one call in each era; returns the whole response
sub call {
    my ($era, $name, $args, %o) = @_;
    my %p = (name => $name);
    $p{arguments} = $args if defined $args;
    if ($era eq 'modern') {
        return modern_post('tools/call', \%p,
                           (exists $o{id} ? (id => $o{id}) : ()),
                           ($o{caps} ? (caps => $o{caps}) : ()),
                           headers => $o{headers} || []);
    }
    my $v = $o{version} // $session_version;
    my $s = $o{sid} // $sid;
    return legacy_post($s, $v, 'tools/call', \%p,
                       (exists $o{id} ? (id => $o{id}) : ()),
                       headers => $o{headers} || []);
}

sub result {
    my ($r) = @_;
    return $r->{json} && ref $r->{json}{result} eq 'HASH' ? $r->{json}{result} : {};
}

sub tool_error_is {
    my ($r, $want, $name) = @_;
    my $res = result($r);
    is($r->{status}, 200, "$name: HTTP 200 to the client");
    ok($res->{isError}, "$name: isError") or diag($r->{body});
    my $t = $res->{content} && $res->{content}[0] && $res->{content}[0]{text};
    if (ref $want) { like($t, $want, "$name: text") }
    else { is($t, $want, "$name: text") }
}

for my $era ('legacy', 'modern') {
    my $E = $era eq 'legacy' ? $session_version : MODERN;
    my $modern = $era eq 'modern';

    # --- the request the backend receives -------------------------------

    my $before = backend_calls();
    my $r = call($era, 'echo', { q => 'hello', n => 3 }, id => 7,
                 headers => [ traceparent =>
                                '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
                              'X-Client-Thing' => 'kept',
                              Authorization => 'Bearer t0ken',
                              'X-API-Key' => 'k3y',
                              'X-MCP-Subject' => 'forged' ]);
    my $res = result($r);
    is($r->{status}, 200, "$E echo: 200");
    ok(!$res->{isError}, "$E echo: not an error") or diag($r->{body});
    my $seen = $res->{structuredContent} || {};
    my $h = $seen->{headers} || {};
    is(backend_calls(), $before + 1, "$E echo: the backend was called once");
    is($seen->{method}, 'POST', "$E echo: POST");
    is($seen->{path}, '/echo', "$E echo: the location's URI, rewritten by proxy_pass");
    is_deeply($seen->{json}, { name => 'echo', arguments => { q => 'hello', n => 3 } },
              "$E echo: body is {name, arguments}");
    like($h->{'content-type'} // '', qr{^application/json}, "$E echo: Content-Type");
    is($h->{'content-length'}, length($seen->{body} // ''),
       "$E echo: Content-Length is the body's length");
    is(scalar(grep { lc $_->[0] eq 'content-length' } @{ $seen->{header_list} || [] }),
       1, "$E echo: one Content-Length");
    ok(!defined $h->{'transfer-encoding'}, "$E echo: no Transfer-Encoding");
    is($h->{'x-mcp-tool'}, 'echo', "$E echo: X-MCP-Tool");
    is($h->{'x-mcp-request-id'}, '7', "$E echo: X-MCP-Request-Id of an integer id");
    like($h->{traceparent}, qr/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/,
         "$E echo: traceparent: the client's trace, sampled");
    isnt(($h->{traceparent} // '') =~ /-([0-9a-f]{16})-/ ? $1 : '', '00f067aa0ba902b7',
         "$E echo: ... with the call's own span id");
    is($h->{'x-client-thing'}, 'kept', "$E echo: client headers passed");
    # MCP authorization: the client's credentials never pass (no token
    # passthrough), nor a caller it names itself (t/103 has mcp_auth_forward)
    ok(!defined $h->{authorization}, "$E echo: no Authorization passed");
    ok(!defined $h->{'x-api-key'}, "$E echo: no X-API-Key passed");
    ok(!defined $h->{'x-mcp-subject'}, "$E echo: no X-MCP-Subject without a caller");
    my @mcp = grep { /^mcp-/ } keys %$h;
    is_deeply(\@mcp, [], "$E echo: no Mcp-* header reaches the backend");
    if ($modern) {
        ok(!defined $h->{'x-mcp-session-id'}, "$E echo: no X-MCP-Session-Id");
    } else {
        is($h->{'x-mcp-session-id'}, $sid, "$E echo: X-MCP-Session-Id");
    }
    my $txt = $res->{content} && $res->{content}[0];
    is($txt && $txt->{type}, 'text', "$E echo: a text item");
    is_deeply(json_decode($txt && $txt->{text} // ''), $seen,
              "$E echo: the text item is the same JSON");
    if ($modern) {
        is($res->{resultType}, 'complete', "$E echo: resultType complete");
    }

    $r = call($era, 'echo', { q => 'x' }, id => 'abc-7');
    $h = result($r)->{structuredContent}{headers} || {};
    is($h->{'x-mcp-request-id'}, '"abc-7"',
       "$E echo: X-MCP-Request-Id of a string id is its JSON text");
    is($r->{json}{id}, 'abc-7', "$E echo: the response keeps the id");
    is_deeply(result($r)->{structuredContent}{json}{arguments}, { q => 'x' },
              "$E echo: optional arguments left out stay out");

    # validation happens before the backend
    $before = backend_calls();
    $r = call($era, 'echo', { q => 5 });
    ok(result($r)->{isError}
       || ($r->{json}{error} && $r->{json}{error}{code} == -32602),
       "$E: invalid arguments are refused") or diag($r->{body});
    $r = call($era, 'echo', {});
    ok(result($r)->{isError}
       || ($r->{json}{error} && $r->{json}{error}{code} == -32602),
       "$E: missing required argument is refused") or diag($r->{body});
    $r = call($era, 'echo', { q => 'a', extra => 1 });
    ok(result($r)->{isError}
       || ($r->{json}{error} && $r->{json}{error}{code} == -32602),
       "$E: unknown argument is refused") or diag($r->{body});
    is(backend_calls(), $before, "$E: the backend was not called for invalid arguments");

    # --- JSON ------------------------------------------------------------

    $r = call($era, 'json_obj', {});
    $res = result($r);
    my $want = { order => 42, status => 'shipped', items => ['a', 'b'] };
    is_deeply($res->{structuredContent}, $want, "$E json: structuredContent");
    is($res->{content}[0]{type}, 'text', "$E json: text item");
    is_deeply(json_decode($res->{content}[0]{text}), $want, "$E json: text is the JSON");
    ok(!$res->{isError}, "$E json: not an error");

    $r = call($era, 'json_array', {});
    $res = result($r);
    is($res->{content}[0]{text}, '[1,2,3]', "$E array: text item");
    if ($modern) {
        is_deeply($res->{structuredContent}, [1, 2, 3],
                  "$E array: any JSON is structuredContent in 2026");
    } else {
        ok(!exists $res->{structuredContent},
           "$E array: no structuredContent (must be an object before 2026)");
    }

    $r = call($era, 'vendor_json', {});
    is_deeply(result($r)->{structuredContent}, { vendor => JSON::XS::true },
              "$E: a +json type is JSON");

    $r = call($era, 'calltool', {});
    $res = result($r);
    is_deeply($res->{content},
              [ { type => 'text', text => 'from the backend' },
                { type => 'resource_link', uri => 'demo://x', name => 'x' } ],
              "$E calltool: content passed through");
    is_deeply($res->{structuredContent}, { x => 1 }, "$E calltool: structuredContent");
    is($res->{_meta}{'example.com/k'}, 'v', "$E calltool: _meta passed through");
    my $metas = () = $r->{body} =~ /"_meta":/g;
    is($metas, 1, "$E calltool: one _meta member in the result");
    if ($modern) {
        ok($res->{_meta}{'io.modelcontextprotocol/serverInfo'},
           "$E calltool: serverInfo merged into the backend's _meta");
    }
    ok(!$res->{isError}, "$E calltool: not an error");
    is($res->{resultType}, 'complete', "$E calltool: resultType") if $modern;

    $r = call($era, 'calltool_error', {});
    $res = result($r);
    ok($res->{isError}, "$E calltool: isError passed through");
    is($res->{content}[0]{text}, 'backend says no', "$E calltool: error text");

    $r = call($era, 'badjson', {});
    tool_error_is($r, qr/^The tool's backend answered invalid JSON: /, "$E badjson");

    # --- input_required ---------------------------------------------------

    $r = call($era, 'needs_input', {}, caps => { elicitation => {} });
    $res = result($r);
    if ($modern) {
        is($res->{resultType}, 'input_required', "$E input_required: resultType");
        like($res->{requestState} // '', qr/^[A-Za-z0-9_-]{40,}$/,
             "$E input_required: requestState, sealed (t/037-mrtr.t)");
        is($res->{inputRequests}{who}{method}, 'elicitation/create',
           "$E input_required: inputRequests");
        ok(!exists $res->{ttlMs} && !exists $res->{cacheScope},
           "$E input_required: no caching hints");
        ok(!exists $res->{isError}, "$E input_required: not an error");
    } else {
        # the session declared no capability: nothing can be asked
        # (t/038-server-requests.t asks clients that declared them)
        tool_error_is($r, 'The tool needs to send elicitation/create to the '
                          . 'client, which did not declare the capability '
                          . '"elicitation" at initialize', "$E input_required");
        ok(!exists $res->{resultType}, "$E input_required: no resultType");
    }

    # --- text, media, binary ---------------------------------------------

    $r = call($era, 'plain', {});
    is_deeply(result($r)->{content}, [ { type => 'text', text => decode_utf8($text) } ],
              "$E text/plain: one text item, UTF-8 kept");
    ok(!exists result($r)->{structuredContent}, "$E text/plain: no structuredContent");

    $r = call($era, 'xml', {});
    is_deeply(result($r)->{content}, [ { type => 'text', text => '<order id="42"/>' } ],
              "$E application/xml: a text item");

    $r = call($era, 'notype', {});
    is_deeply(result($r)->{content}, [ { type => 'text', text => 'no type at all' } ],
              "$E no Content-Type: a text item");

    $r = call($era, 'picture', {});
    my $c = result($r)->{content}[0] || {};
    is($c->{type}, 'image', "$E image: image item");
    is($c->{mimeType}, 'image/png', "$E image: mimeType");
    ok(defined $c->{data} && decode_base64($c->{data}) eq $png,
       "$E image: base64 of the bytes sent");

    $r = call($era, 'sound', {});
    $c = result($r)->{content}[0] || {};
    is($c->{type}, 'audio', "$E audio: audio item");
    is($c->{mimeType}, 'audio/wav', "$E audio: mimeType");
    ok(defined $c->{data} && decode_base64($c->{data}) eq $wav,
       "$E audio: base64 of the bytes sent");

    $r = call($era, 'blob', {});
    $c = result($r)->{content}[0] || {};
    is($c->{type}, 'resource', "$E octet-stream: an embedded resource");
    is($c->{resource}{uri}, 'nginx:/b/binary', "$E octet-stream: uri");
    is($c->{resource}{mimeType}, 'application/octet-stream',
       "$E octet-stream: mimeType");
    ok(defined $c->{resource}{blob} && decode_base64($c->{resource}{blob}) eq $blob,
       "$E octet-stream: blob holds all 256 byte values");

    # --- HTTP errors and failures ------------------------------------------

    tool_error_is(call($era, 'missing', {}),
                  "The tool's backend answered HTTP 404: no such order", "$E 404");
    tool_error_is(call($era, 'broken', {}),
                  "The tool's backend answered HTTP 500: database exploded", "$E 500");
    tool_error_is(call($era, 'broken_html', {}),
                  "The tool's backend answered HTTP 500", "$E 500 with HTML");
    tool_error_is(call($era, 'broken_long', {}),
                  "The tool's backend answered HTTP 500: " . ('x' x 512),
                  "$E 500 with a long body: 512 bytes of it");
    tool_error_is(call($era, 'busy', {}),
                  "The tool's backend is unavailable (HTTP 503)", "$E 503");
    tool_error_is(call($era, 'refused', {}),
                  "The tool's backend is unreachable (HTTP 502)", "$E refused");
    tool_error_is(call($era, 'nowhere', {}),
                  "The tool's backend answered HTTP 404", "$E no such location");

    my $t0 = time;
    $r = call($era, 'slow', {});
    my $took = time - $t0;
    tool_error_is($r, "The tool's backend timed out (HTTP 504)", "$E timeout");
    ok($took >= 0.9 && $took < 2.9, "$E timeout: after proxy_read_timeout")
        or diag("took $took s");

    tool_error_is(call($era, 'big', {}),
                  "The tool's backend answered more than 1024 bytes",
                  "$E too big for max_size=1k");
    $r = call($era, 'big_ok', {});
    is(length(result($r)->{structuredContent}{data} // ''), 300,
       "$E an answer below max_size passes");
    $r = call($era, 'big_default', {});
    is(length(result($r)->{structuredContent}{data} // ''), 8000,
       "$E 8000 bytes fit in the default mcp_backend_max_size");

    # the workers are fine after all of that
    for my $i (1 .. 8) {
        $r = call($era, 'echo', { q => "after $i" });
        is(result($r)->{structuredContent}{json}{arguments}{q}, "after $i",
           "$E: call $i after the failures");
    }

    # --- nginx as the backend ----------------------------------------------

    $r = call($era, 'static_file', {});
    is_deeply(result($r)->{structuredContent}, { from => 'a file', n => 1 },
              "$E static file (error_page 405 =200 \$uri): its JSON");

    $r = call($era, 'static_png', {});
    $c = result($r)->{content}[0] || {};
    ok($c->{type} eq 'image' && decode_base64($c->{data} // '') eq $png,
       "$E static file: an image") or diag($r->{body});

    $r = call($era, 'local', { }, id => 99);
    is_deeply(result($r)->{structuredContent},
              { got => { name => 'local', arguments => {} }, tool => 'local' },
              "$E return with \$request_body: the call's body in memory");

    # the static tool still works beside them
    $r = call($era, 'plain_static', {});
    is_deeply(result($r)->{content}, [ { type => 'text', text => 'static answer' } ],
              "$E: a static tool");
}

# --- odd answers ---------------------------------------------------------------

for my $era ('legacy', 'modern') {
    my $E = $era eq 'legacy' ? $session_version : MODERN;

    my $r = call($era, 'created', {});
    is_deeply(result($r)->{structuredContent}, { created => JSON::XS::true },
              "$E: a 201 is a success");

    $r = call($era, 'no_content', {});
    is($r->{status}, 200, "$E 204: HTTP 200 to the client");
    ok(!result($r)->{isError}, "$E 204: a success") or diag($r->{body});
    is_deeply(result($r)->{content}, [ { type => 'text', text => '' } ],
              "$E 204: one empty text item") or diag($r->{body});

    tool_error_is(call($era, 'moved', {}),
                  "The tool's backend answered HTTP 302: elsewhere", "$E 302");
    tool_error_is(call($era, 'emptyjson', {}),
                  qr/^The tool's backend answered invalid JSON/, "$E empty JSON body");

    $r = call($era, 'itself', {});
    is($r->{status}, 200, "$E pass to the MCP endpoint itself: HTTP 200")
        or diag($r->{raw});
    ok(result($r)->{isError}, "$E pass to the MCP endpoint itself: a tool error")
        or diag($r->{body});
}

# several calls on one keep-alive connection
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!\n";
    my $ok = 0;
    for my $i (1 .. 5) {
        my $body = json_encode(modern_body('tools/call',
                                           { name => 'echo', arguments => { q => "ka$i" } },
                                           id => 800 + $i));
        print $s "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               . "Content-Type: application/json\r\n"
               . "Accept: application/json, text/event-stream\r\n"
               . "MCP-Protocol-Version: " . MODERN . "\r\n"
               . "Mcp-Method: tools/call\r\nMcp-Name: echo\r\n"
               . "Content-Length: " . length($body) . "\r\n\r\n$body";
        my $buf = '';
        my $t0 = time;
        my $resp;
        while (time - $t0 < 5) {
            my $n = sysread $s, $buf, 65536, length $buf;
            last unless $n;
            $resp = parse_http_response($buf);
            last if $resp->{complete} && defined $resp->{status};
        }
        my $j = $resp && json_decode($resp->{body} // '');
        $ok++ if $j && $j->{id} == 800 + $i
                 && $j->{result}{structuredContent}{json}{arguments}{q} eq "ka$i";
    }
    close $s;
    is($ok, 5, 'five calls in a row on one keep-alive connection');
}

# the client goes away while the backend works: nothing breaks
{
    my $body = json_encode(modern_body('tools/call', { name => 'slow', arguments => {} }));
    for (1 .. 3) {
        raw_send("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 . "Content-Type: application/json\r\n"
                 . "Accept: application/json, text/event-stream\r\n"
                 . "MCP-Protocol-Version: " . MODERN . "\r\n"
                 . "Mcp-Method: tools/call\r\nMcp-Name: slow\r\n"
                 . "Content-Length: " . length($body) . "\r\n\r\n$body",
                 timeout => 0.3);
    }
    sleep 1.5;
    my $r = call('modern', 'echo', { q => 'still here' });
    is(result($r)->{structuredContent}{json}{arguments}{q}, 'still here',
       'calls work after clients left during a backend call');
}

# --- other legacy revisions, and batches -------------------------------------

for my $v ('2025-03-26', '2025-06-18') {
    my $s = mcp_init($v);
    ok($s, "$v: session") or next;
    my $r = call('legacy', 'echo', { q => $v }, version => $v, sid => $s);
    my $seen = result($r)->{structuredContent} // json_decode(result($r)->{content}[0]{text} // '');
    is($seen && $seen->{json}{arguments}{q}, $v, "$v: a pass tool answers");
    is($seen && $seen->{headers}{'x-mcp-session-id'}, $s, "$v: X-MCP-Session-Id");

    $r = call('legacy', 'needs_input', {}, version => $v, sid => $s);
    ok(result($r)->{isError}, "$v: input_required is a tool error");
}

{
    my $v = '2025-03-26';
    my $s = mcp_init($v);
    my $before = backend_calls();
    my $r = mcp_post([ { jsonrpc => '2.0', id => 501, method => 'tools/call',
                         params => { name => 'echo', arguments => { q => 'b' } } },
                       { jsonrpc => '2.0', id => 502, method => 'tools/call',
                         params => { name => 'plain_static', arguments => {} } },
                       { jsonrpc => '2.0', id => 503, method => 'ping' } ],
                     'Mcp-Session-Id' => $s);
    is($r->{status}, 200, "$v batch: 200");
    my %by = map { $_->{id} => $_ } grep { ref eq 'HASH' } @{ ref $r->{json} eq 'ARRAY' ? $r->{json} : [] };
    is($by{501} && $by{501}{error} && $by{501}{error}{code}, -32602,
       "$v batch: a pass tool is -32602") or diag($r->{body});
    like($by{501} && $by{501}{error} && $by{501}{error}{message} // '',
         qr/cannot be called in a batch/, "$v batch: ... saying why");
    is_deeply($by{502} && $by{502}{result} && $by{502}{result}{content},
              [ { type => 'text', text => 'static answer' } ],
              "$v batch: the static tool in the same batch answers");
    ok($by{503} && $by{503}{result}, "$v batch: ping answers");
    is(backend_calls(), $before, "$v batch: the backend was not called");
}

# --- hundreds of concurrent calls over 4 workers -----------------------------

{
    my $log_mark = length error_log_text();
    my $calls_before = backend_calls();
    my ($procs, $each) = (30, 10);
    my $fails = "$work/fails";
    my $nport = port();
    my @kids;
    for my $k (1 .. $procs) {
        my $pid = fork;
        die "fork: $!\n" unless defined $pid;
        if ($pid == 0) {
            my @bad;
            for my $i (1 .. $each) {
                my $tag = "k$k-i$i";
                my $kind = ($k + $i) % 3;
                my $id = $i % 2 ? "s-$tag" : $k * 1000 + $i;
                my $r;
                if ($kind == 2) {
                    $r = modern_post('tools/call', { name => 'local', arguments => {} },
                                     id => $id, port => $nport);
                    my $got = result($r)->{structuredContent};
                    push @bad, "$tag local: $r->{status} " . ($r->{body} // '')
                        unless $got && $got->{tool} eq 'local'
                               && $r->{json}{id} eq $id;
                    next;
                }
                $r = modern_post('tools/call', { name => 'echo',
                                                 arguments => { q => $tag, n => $i + 0 } },
                                 id => $id, port => $nport);
                my $seen = result($r)->{structuredContent};
                my $want_id = $i % 2 ? "\"$id\"" : "$id";
                push @bad, "$tag echo: $r->{status} " . ($r->{body} // '')
                    unless $r->{status} == 200 && $seen
                           && $seen->{json}{arguments}{q} eq $tag
                           && $seen->{json}{arguments}{n} == $i
                           && $seen->{headers}{'x-mcp-request-id'} eq $want_id
                           && $r->{json}{id} eq $id;
            }
            if (@bad && open my $fh, '>>', $fails) {
                print $fh "$_\n" for @bad;
                close $fh;
            }
            POSIX::_exit(@bad ? 1 : 0);
        }
        push @kids, $pid;
    }
    my $failed = 0;
    for my $pid (@kids) {
        waitpid $pid, 0;
        $failed++ if $?;
    }
    is($failed, 0, "$procs clients x $each calls: every answer correct")
        or diag(do { local (@ARGV, $/) = ($fails); <> });
    my $echo_calls = 0;
    for my $k (1 .. $procs) {
        $echo_calls += grep { ($k + $_) % 3 != 2 } 1 .. $each;
    }
    is(backend_calls() - $calls_before, $echo_calls,
       "the backend got exactly the echo calls ($echo_calls)");
    my $new = substr error_log_text(), $log_mark;
    my @err = grep { /\[(?:error|alert|crit|emerg)\]/ } split /\n/, $new;
    is(scalar @err, 0, 'no errors logged during the concurrent calls')
        or diag(join "\n", @err[0 .. ($#err < 10 ? $#err : 9)]);
}

stop_nginx();

# --- configuration errors ------------------------------------------------------

sub tool_conf {
    my ($tool) = @_;
    return <<"EOF";
load_module %%MODULE%%;
events { }
http {
    access_log off;
    mcp_server demo {
$tool
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass demo; }
        location = /backend { return 200 '{}'; }
    }
}
EOF
}

nginx_t_ok(tool_conf('        tool t { description "d"; pass /backend; }'),
           name => 'a pass tool passes nginx -t');
nginx_t_ok(tool_conf('        tool t { description "d"; argument a string required; '
                     . 'annotations read_only; pass /backend; }'),
           name => 'pass beside arguments and annotations');
nginx_t_fails(tool_conf('        tool t { description "d"; pass /backend; text "x"; }'),
              qr/has both "pass" and a static result/,
              name => 'pass and text fail nginx -t');
nginx_t_fails(tool_conf("        tool t { description \"d\"; structured '{}'; pass /backend; }"),
              qr/has both "pass" and a static result/,
              name => 'pass and structured fail nginx -t');
nginx_t_fails(tool_conf('        tool t { description "d"; pass /backend; error "e"; }'),
              qr/has both "pass" and a static result/,
              name => 'pass and error fail nginx -t');
nginx_t_fails(tool_conf('        tool t { description "d"; pass backend; }'),
              qr/invalid pass "backend"/,
              name => 'a pass not starting with / fails nginx -t');
nginx_t_fails(tool_conf('        tool t { description "d"; pass http://127.0.0.1/; }'),
              qr/invalid pass/,
              name => 'a pass with a URL fails nginx -t');
nginx_t_fails(tool_conf('        tool t { description "d"; pass /a; pass /b; }'),
              qr/duplicate/,
              name => 'a duplicate pass fails nginx -t');
nginx_t_fails(tool_conf('        tool t { description "d"; pass; }'),
              qr/pass/,
              name => 'pass without a URI fails nginx -t');

done_testing();
