#!/usr/bin/perl
# What a request did, for access_log (docs/directives.md, "Variables"):
# $mcp_method, $mcp_entry, $mcp_request_id, $mcp_session,
# $mcp_protocol_version, $mcp_outcome, $mcp_client_name, $mcp_trace_id and
# $mcp_span_id in a `log_format ... escape=json`, with 2 workers: their
# exact values for 2026-07-28 stateless requests (a tool, a tool error, an
# unknown tool, an unknown method, invalid JSON, a prompt, a resource), a
# 2025-06-18 session (initialize, then calls; the session shown as the
# first 16 hex digits of the SHA-256 of its id, the id itself never in the
# access log nor the error log; the client's name the session's),
# 2025-03-26 batches (the variables describe the last request), and values
# the client chose cut to 128 bytes of printable ASCII.  W3C trace context:
# a valid traceparent header is continued, else the 2026 _meta.traceparent,
# the header winning over it; invalid ones (uppercase, all-zero ids,
# version ff, wrong lengths, version 00 with more fields, garbage) and
# none start a new random trace; a `pass` location receives exactly one
# traceparent, a span of its own in the request's trace, with the client's
# sampled flag.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep);

# the backend of the `echo` tool: answers with the request line and the
# headers it received, in the order received
my $bport = backend(sub {
    my ($s) = @_;
    my $q = backend_request($s) or return;
    backend_reply($s, 200, 'application/json',
                  json_encode({ path => $q->{path},
                                header_list => $q->{header_list} }));
});

my $conf = <<'EOF';
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    log_format obs escape=json '{"tag":"$http_x_tag","status":$status,'
        '"method":"$mcp_method","entry":"$mcp_entry",'
        '"request_id":"$mcp_request_id","session":"$mcp_session",'
        '"protocol_version":"$mcp_protocol_version","outcome":"$mcp_outcome",'
        '"client":"$mcp_client_name","trace_id":"$mcp_trace_id",'
        '"span_id":"$mcp_span_id"}';
    access_log %%TESTDIR%%/obs.log obs;

    mcp_server obs {
        name "observe-test"; version 1.0.0;

        tool hello { description "Says hello"; text "hello"; }
        tool failing { description "Always fails"; error "Something went wrong"; }
        tool echo { description "Tells what the location received"; pass /echo; }
        prompt greet { description "Greets"; message user "Hello"; }
        resource docs://readme { name readme; text "read me"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /mcp { mcp_pass obs; }
        location = /echo {
            internal;
            proxy_pass http://127.0.0.1:BACKEND_PORT/echo;
        }
    }
}
EOF
$conf =~ s/BACKEND_PORT/$bport/g;

start_nginx($conf);

my $access = testdir() . '/obs.log';

my $HEX32 = qr/^[0-9a-f]{32}$/;
my $HEX16 = qr/^[0-9a-f]{16}$/;

my $TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
my $PARENT = '00f067aa0ba902b7';
my $TP = "00-$TRACE-$PARENT-01";

# ---------------------------------------------------------------------------
# helpers

my $tags = 0;
sub tag { return 'req-' . ++$tags }

# the access log line of a tag, decoded, and its raw text (waited for: a
# worker writes its line once the answer is out)
sub logged {
    my ($tag) = @_;
    for (1 .. 100) {
        if (open my $fh, '<', $access) {
            while (my $l = <$fh>) {
                chomp $l;
                my $j = json_decode($l);
                if ($j && ref $j eq 'HASH' && ($j->{tag} // '') eq $tag) {
                    close $fh;
                    return wantarray ? ($j, $l) : $j;
                }
            }
            close $fh;
        }
        sleep 0.05;
    }
    fail("access log line of $tag");
    return wantarray ? ({}, '') : {};
}

sub access_log_text {
    open my $fh, '<', $access or return '';
    local $/;
    my $s = <$fh>;
    close $fh;
    return $s // '';
}

# a 2026-07-28 request tagged for the access log; returns (response, line)
sub modern {
    my ($method, $params, %o) = @_;
    my $tag = tag();
    my $r = modern_post($method, $params, %o,
                        headers => [ 'X-Tag' => $tag, @{ $o{headers} || [] } ]);
    return ($r, scalar logged($tag), $tag);
}

# a request in a session (headers Mcp-Session-Id, MCP-Protocol-Version)
sub in_session {
    my ($sid, $version, $body, @h) = @_;
    my $tag = tag();
    my $r = mcp_post($body, 'Mcp-Session-Id' => $sid,
                     ($version ne '2025-03-26' ? ('MCP-Protocol-Version' => $version) : ()),
                     'X-Tag' => $tag, @h);
    return ($r, scalar logged($tag), $tag);
}

# the fields of a log line that describe the request, to compare whole
sub fields {
    my ($l) = @_;
    return { map { $_ => $l->{$_} }
             qw(status method entry request_id session protocol_version
                outcome client) };
}

sub digest { return substr sha256_hex($_[0]), 0, 16 }

sub new_trace_ok {
    my ($l, $not, $name) = @_;
    my $t = $l->{trace_id} // '';
    like($t, $HEX32, "$name: a trace id of 32 lowercase hex digits");
    unlike($t, qr/^0+$/, "$name: ... not all zeros");
    isnt($t, lc $not, "$name: ... a new trace, not the one given") if defined $not;
    like($l->{span_id} // '', $HEX16, "$name: a span id of 16 hex digits");
}

# ---------------------------------------------------------------------------
# 2026-07-28, stateless

{
    my ($r, $l, $tag) = modern('tools/call', { name => 'hello', arguments => {} },
                               id => 7);
    is($r->{status}, 200, '2026 tools/call: 200');
    is_deeply(fields($l), {
        status => 200, method => 'tools/call', entry => 'hello',
        request_id => '7', session => '', protocol_version => '2026-07-28',
        outcome => 'ok', client => 'mcp-test',
    }, '2026 tools/call: the variables') or diag(explain($l));
    new_trace_ok($l, undef, '2026 tools/call');

    ($r, $l) = modern('tools/call', { name => 'hello', arguments => {} },
                      id => 'abc',
                      meta => { clientInfo => { name => 'another-client',
                                                version => '0.1' } });
    my $raw;
    ($l, $raw) = logged("req-$tags");
    is($l->{request_id}, '"abc"', '2026 string id: its JSON text, with the quotes');
    like($raw, qr/"request_id":"\\"abc\\""/,
         '2026 string id: ... escaped in the JSON log line');
    is($l->{client}, 'another-client',
       '2026: the client name from _meta io.modelcontextprotocol/clientInfo');
    is($l->{session}, '', '2026: no session');

    ($r, $l) = modern('tools/call', { name => 'failing', arguments => {} }, id => 8);
    ok($r->{json} && $r->{json}{result}{isError}, '2026 failing tool: isError')
        or diag($r->{body});
    is_deeply(fields($l), {
        status => $r->{status}, method => 'tools/call', entry => 'failing',
        request_id => '8', session => '', protocol_version => '2026-07-28',
        outcome => 'tool_error', client => 'mcp-test',
    }, '2026 tool error: outcome tool_error') or diag(explain($l));

    ($r, $l) = modern('tools/call', { name => 'no_such_tool', arguments => {} },
                      id => 9);
    is($r->{json} && $r->{json}{error} && $r->{json}{error}{code}, -32602,
       '2026 unknown tool: -32602') or diag($r->{body});
    is_deeply(fields($l), {
        status => $r->{status}, method => 'tools/call', entry => 'no_such_tool',
        request_id => '9', session => '', protocol_version => '2026-07-28',
        outcome => '-32602', client => 'mcp-test',
    }, '2026 unknown tool: outcome -32602, the entry as named')
        or diag(explain($l));

    ($r, $l) = modern('no/such/method', {}, id => 10);
    is($r->{json} && $r->{json}{error} && $r->{json}{error}{code}, -32601,
       '2026 unknown method: -32601') or diag($r->{body});
    is($l->{method}, 'no/such/method', '2026 unknown method: $mcp_method');
    is($l->{outcome}, '-32601', '2026 unknown method: outcome -32601');
    is($l->{entry}, '', '2026 unknown method: no entry');
    is($l->{request_id}, '10', '2026 unknown method: the id');
    is($l->{status}, $r->{status}, '2026 unknown method: $status as answered');

    ($r, $l) = modern('prompts/get', { name => 'greet' }, id => 11);
    is_deeply([ @$l{qw(method entry outcome)} ], [ 'prompts/get', 'greet', 'ok' ],
              '2026 prompts/get: method, entry, outcome');

    ($r, $l) = modern('resources/read', { uri => 'docs://readme' }, id => 12);
    is_deeply([ @$l{qw(method entry outcome)} ],
              [ 'resources/read', 'docs://readme', 'ok' ],
              '2026 resources/read: the entry is the uri');

    ($r, $l) = modern('tools/list', {}, id => 13);
    is_deeply([ @$l{qw(method entry request_id outcome)} ],
              [ 'tools/list', '', '13', 'ok' ], '2026 tools/list: no entry');

    # invalid JSON: answered -32700 before any dispatch; no method
    ($r, $l) = modern('tools/call', { name => 'hello' },
                      body => '{"jsonrpc":"2.0","id":14,"method":"tools/call",');
    is($r->{json} && $r->{json}{error} && $r->{json}{error}{code}, -32700,
       'invalid JSON: -32700') or diag($r->{body});
    is($l->{status}, $r->{status}, 'invalid JSON: $status as answered');
    is($l->{method}, '', 'invalid JSON: $mcp_method empty');
    is($l->{entry}, '', 'invalid JSON: $mcp_entry empty');
    is($l->{request_id}, '', 'invalid JSON: $mcp_request_id empty');
    is($l->{outcome}, '-32700',
       'invalid JSON: $mcp_outcome is the error answered, -32700')
        or diag(explain($l));

    # a body that is JSON but no message: answered -32600, also before dispatch
    ($r, $l) = modern('tools/call', { name => 'hello' }, body => '5');
    my $code = $r->{json} && $r->{json}{error} && $r->{json}{error}{code};
    is($code, -32600, 'a JSON number as the body: -32600') or diag($r->{body});
    is($l->{method}, '', 'a JSON number as the body: $mcp_method empty');
    is($l->{outcome}, '-32600',
       'a JSON number as the body: $mcp_outcome is the error answered, -32600')
        or diag(explain($l));
}

# ---------------------------------------------------------------------------
# client-chosen values: at most 128 bytes, non-printable bytes as "?"

{
    my ($r, $l) = modern('tools/call', { name => 'hello', arguments => {} },
                         meta => { clientInfo => { name => "a\x{1}b",
                                                   version => '1' } });
    is($r->{status}, 200, 'a client name with a control character: 200');
    is($l->{client}, 'a?b', 'a control character in the client name shows as ?');

    ($r, $l) = modern('tools/call', { name => 'hello', arguments => {} },
                      meta => { clientInfo => { name => 'n' x 300,
                                                version => '1' } });
    is($l->{client}, 'n' x 128, 'a 300-character client name: its first 128');

    ($r, $l) = modern('tools/call', { name => 'hello', arguments => {} },
                      meta => { clientInfo => { name => "Gr\x{fc}\x{df}e",
                                                version => '1' } });
    is($l->{client}, 'Gr????e', 'UTF-8 bytes of a client name show as ?');

    my $raw;
    ($r, $l) = modern('tools/call', { name => 'hello', arguments => {} },
                      id => 'i' x 300);
    ($l, $raw) = logged("req-$tags");
    is($r->{json} && $r->{json}{id}, 'i' x 300, 'a 300-character id: answered whole');
    is($l->{request_id}, '"' . ('i' x 127),
       'a 300-character string id: the first 128 bytes of its JSON text');
    like($raw, qr/"request_id":"\\"i{127}"/, '... escaped in the JSON log line');

    ($r, $l) = modern('tools/call', { name => 't' x 300, arguments => {} });
    is($l->{entry}, 't' x 128, 'a 300-character tool name: its first 128 bytes');
    is($l->{outcome}, '-32602', '... an unknown tool');

    ($r, $l) = modern('tools/call', { name => "x\x{7}\x{7f}y", arguments => {} });
    is($l->{entry}, 'x??y', 'control characters in a tool name show as ?');
}

# ---------------------------------------------------------------------------
# 2025-06-18: a session

my @sids;
{
    my $v = '2025-06-18';
    my $tag = tag();
    my $init = mcp_post({ jsonrpc => '2.0', id => 1, method => 'initialize',
                          params => { protocolVersion => $v, capabilities => {},
                                      clientInfo => { name => 'obs-client',
                                                      version => '2.0' } } },
                        'X-Tag' => $tag);
    my $sid = $init->{headers}{'mcp-session-id'};
    ok($sid, "$v: initialize gives a session") or diag($init->{raw});
    $sid //= '';
    push @sids, $sid;
    my $l = logged($tag);
    is_deeply(fields($l), {
        status => 200, method => 'initialize', entry => '', request_id => '1',
        session => digest($sid), protocol_version => $v, outcome => 'ok',
        client => 'obs-client',
    }, "$v initialize: the variables, the session as its digest")
        or diag(explain($l));
    like($l->{session}, $HEX16, "$v initialize: \$mcp_session is 16 hex digits");
    new_trace_ok($l, undef, "$v initialize");

    my ($r);
    ($r, $l) = in_session($sid, $v, { jsonrpc => '2.0',
                                      method => 'notifications/initialized' });
    is($r->{status}, 202, "$v notifications/initialized: 202");
    is($l->{method}, 'notifications/initialized',
       "$v notifications/initialized: \$mcp_method");
    is($l->{request_id}, '', "$v notifications/initialized: no id");
    is($l->{session}, digest($sid), "$v notifications/initialized: the session");

    ($r, $l) = in_session($sid, $v, { jsonrpc => '2.0', id => 2,
                                      method => 'tools/call',
                                      params => { name => 'hello', arguments => {} } });
    is_deeply(fields($l), {
        status => 200, method => 'tools/call', entry => 'hello', request_id => '2',
        session => digest($sid), protocol_version => $v, outcome => 'ok',
        client => 'obs-client',
    }, "$v tools/call in the session: the same session, the session's client")
        or diag(explain($l));

    ($r, $l) = in_session($sid, $v, { jsonrpc => '2.0', id => 3,
                                      method => 'tools/call',
                                      params => { name => 'failing', arguments => {} } });
    is($l->{outcome}, 'tool_error', "$v failing tool: tool_error");

    ($r, $l) = in_session($sid, $v, { jsonrpc => '2.0', id => 4,
                                      method => 'tools/call',
                                      params => { name => 'hello', arguments => {},
                                                  _meta => { 'io.modelcontextprotocol/clientInfo'
                                                             => { name => 'not-the-session',
                                                                  version => '1' } } } });
    is($r->{status}, 200, "$v tools/call with a _meta clientInfo: 200");
    is($l->{client}, 'obs-client',
       "$v: the client name is the session's, not a request's _meta")
        or diag(explain($l));

    # a client name with a control character, 300 bytes long, in a session
    $tag = tag();
    $init = mcp_post({ jsonrpc => '2.0', id => 1, method => 'initialize',
                       params => { protocolVersion => $v, capabilities => {},
                                   clientInfo => { name => "\x{1}" . ('s' x 299),
                                                   version => '2.0' } } },
                     'X-Tag' => $tag);
    my $sid2 = $init->{headers}{'mcp-session-id'} // '';
    push @sids, $sid2;
    $l = logged($tag);
    is($l->{client}, '?' . ('s' x 127),
       "$v initialize: a long client name with a control character, cut and made safe");
    ($r, $l) = in_session($sid2, $v, { jsonrpc => '2.0', id => 2,
                                       method => 'tools/call',
                                       params => { name => 'hello', arguments => {} } });
    is($l->{client}, '?' . ('s' x 127), "$v: ... the same in a later request");
    is($l->{session}, digest($sid2), "$v: ... and that session's digest");
    isnt(digest($sid2), digest($sid), "$v: two sessions, two digests");

    # a request naming the session ends it; that is logged too
    my $del = http('DELETE', '/mcp', headers => [ 'Mcp-Session-Id' => $sid2,
                                                  'MCP-Protocol-Version' => $v,
                                                  'X-Tag' => 'delete' ]);
    ok($del->{status} >= 200 && $del->{status} < 300, "$v DELETE is 2xx")
        or diag($del->{raw});

    # the ended session is unknown now: its error is the outcome
    ($r, $l) = in_session($sid2, $v, { jsonrpc => '2.0', id => 5,
                                       method => 'tools/call',
                                       params => { name => 'hello', arguments => {} } });
    is($r->{status}, 404, "$v: a request in the ended session is 404");
    my $code = $r->{json} && $r->{json}{error} && $r->{json}{error}{code};
    ok(defined $code, "$v: ... with a JSON-RPC error") or diag($r->{body});
    is($l->{outcome}, $code // 'none',
       "$v: ... \$mcp_outcome is the error answered") or diag(explain($l));
}

# ---------------------------------------------------------------------------
# 2025-03-26 batches: the variables describe the last request

{
    my $v = '2025-03-26';
    my $sid = mcp_init($v);
    ok($sid, "$v: session");
    $sid //= '';
    push @sids, $sid;

    my ($r, $l) = in_session($sid, $v, [
        { jsonrpc => '2.0', id => 31, method => 'tools/call',
          params => { name => 'failing', arguments => {} } },
        { jsonrpc => '2.0', id => 32, method => 'tools/call',
          params => { name => 'no_such_tool', arguments => {} } },
        { jsonrpc => '2.0', id => 'b-last', method => 'prompts/get',
          params => { name => 'greet' } },
    ]);
    is($r->{status}, 200, "$v batch: 200");
    is(ref $r->{json} eq 'ARRAY' && scalar @{ $r->{json} }, 3, "$v batch: 3 answers")
        or diag($r->{body});
    is_deeply(fields($l), {
        status => 200, method => 'prompts/get', entry => 'greet',
        request_id => '"b-last"', session => digest($sid), protocol_version => $v,
        outcome => 'ok', client => 'mcp-test',
    }, "$v batch: the last request's variables") or diag(explain($l));

    ($r, $l) = in_session($sid, $v, [
        { jsonrpc => '2.0', id => 41, method => 'prompts/get',
          params => { name => 'greet' } },
        { jsonrpc => '2.0', id => 42, method => 'no/such/method', params => {} },
    ]);
    is_deeply([ @$l{qw(method entry request_id outcome)} ],
              [ 'no/such/method', '', '42', '-32601' ],
              "$v batch ending in an unknown method: its -32601, no entry")
        or diag(explain($l));

    ($r, $l) = in_session($sid, $v, [
        { jsonrpc => '2.0', id => 50, method => 'ping' },
        { jsonrpc => '2.0', id => 51, method => 'tools/call',
          params => { name => 'failing', arguments => {} } },
    ]);
    is_deeply([ @$l{qw(method entry request_id outcome)} ],
              [ 'tools/call', 'failing', '51', 'tool_error' ],
              "$v batch ending in a tool error: tool_error") or diag(explain($l));

    # a notification is not a request: the last request is the call before it
    ($r, $l) = in_session($sid, $v, [
        { jsonrpc => '2.0', id => 61, method => 'tools/call',
          params => { name => 'failing', arguments => {} } },
        { jsonrpc => '2.0', method => 'notifications/cancelled',
          params => { requestId => 99 } },
    ]);
    is($r->{status}, 200, "$v batch with a trailing notification: 200");
    is_deeply([ @$l{qw(method entry request_id outcome)} ],
              [ 'tools/call', 'failing', '61', 'tool_error' ],
              "$v batch with a trailing notification: its last request's variables")
        or diag(explain($l));
}

# ---------------------------------------------------------------------------
# W3C trace context

{
    # a valid traceparent header is continued, in either era
    my ($r, $l) = modern('tools/call', { name => 'hello', arguments => {} },
                         headers => [ traceparent => $TP ]);
    is($l->{trace_id}, $TRACE, 'traceparent header: its trace is continued');
    like($l->{span_id}, $HEX16, 'traceparent header: a span id of 16 hex digits');
    isnt($l->{span_id}, $PARENT, "traceparent header: the request's own span");

    ($r, $l) = in_session($sids[0], '2025-06-18',
                          { jsonrpc => '2.0', id => 70, method => 'tools/call',
                            params => { name => 'hello', arguments => {} } },
                          traceparent => "00-$TRACE-$PARENT-00");
    is($l->{trace_id}, $TRACE, '2025-06-18 session: the traceparent header is continued');
    isnt($l->{span_id}, $PARENT, "2025-06-18 session: ... with the request's own span");

    # a later version may carry more fields
    ($r, $l) = modern('tools/call', { name => 'hello', arguments => {} },
                      headers => [ traceparent => "cc-$TRACE-$PARENT-01-what-the-future" ]);
    is($l->{trace_id}, $TRACE, 'a later traceparent version with more fields is continued');

    # 2026: params._meta.traceparent without the header
    my $trace2 = 'a' x 16 . '0123456789abcdef';
    my $msg = modern_body('tools/call', { name => 'hello', arguments => {} });
    $msg->{params}{_meta}{traceparent} = "00-$trace2-1111111111111111-01";
    ($r, $l) = modern('tools/call', { name => 'hello' }, body => $msg);
    is($r->{status}, 200, '2026 _meta.traceparent: 200') or diag($r->{body});
    is($l->{trace_id}, $trace2, '2026 _meta.traceparent is continued');
    isnt($l->{span_id}, '1111111111111111', "2026 _meta.traceparent: the request's own span");

    # both: the header wins
    $msg = modern_body('tools/call', { name => 'hello', arguments => {} });
    $msg->{params}{_meta}{traceparent} = "00-$trace2-1111111111111111-01";
    ($r, $l) = modern('tools/call', { name => 'hello' }, body => $msg,
                      headers => [ traceparent => $TP ]);
    is($l->{trace_id}, $TRACE, 'header and _meta: the header wins');

    # invalid ones begin a new trace
    my $T = $TRACE;
    my $P = $PARENT;
    my @bad = (
        [ 'uppercase hex',          '00-' . uc($T) . '-' . uc($P) . '-01' ],
        [ 'uppercase trace id',     '00-' . uc($T) . "-$P-01" ],
        [ 'all-zero trace id',      '00-' . ('0' x 32) . "-$P-01" ],
        [ 'all-zero parent id',     "00-$T-" . ('0' x 16) . '-01' ],
        [ 'version ff',             "ff-$T-$P-01" ],
        [ 'trace id of 31 digits',  '00-' . substr($T, 1) . "-$P-01" ],
        [ 'trace id of 33 digits',  "00-${T}a-$P-01" ],
        [ 'parent id of 15 digits', "00-$T-" . substr($P, 1) . '-01' ],
        [ 'flags of 1 digit',       "00-$T-$P-1" ],
        [ 'flags of 3 digits',      "00-$T-$P-011" ],
        [ 'version 00 with more fields', "00-$T-$P-01-extra" ],
        [ 'version 00 with a trailing dash', "00-$T-$P-01-" ],
        [ 'a later version, more without a dash', "cc-$T-$P-01x" ],
        [ 'version of 1 digit',     "0-$T-$P-01" ],
        [ 'non-hex version',        "zz-$T-$P-01" ],
        [ 'non-hex trace id',       '00-' . ('g' x 32) . "-$P-01" ],
        [ 'underscores',            "00_${T}_${P}_01" ],
        [ 'garbage',                'hello, world' ],
        [ 'garbage of the right length', 'x' x 55 ],
    );
    for my $b (@bad) {
        my ($what, $tp) = @$b;
        ($r, $l) = modern('tools/call', { name => 'hello', arguments => {} },
                          headers => [ traceparent => $tp ]);
        is($r->{status}, 200, "invalid traceparent header ($what): still answered");
        new_trace_ok($l, $T, "invalid traceparent header ($what)");
        unlike($l->{trace_id}, qr/^0+$/, "invalid traceparent ($what): not the zero id");

        $msg = modern_body('tools/call', { name => 'hello', arguments => {} });
        $msg->{params}{_meta}{traceparent} = $tp;
        ($r, $l) = modern('tools/call', { name => 'hello' }, body => $msg);
        new_trace_ok($l, $T, "invalid _meta.traceparent ($what)");
    }

    # none: a new random trace each time
    my %traces;
    my %spans;
    for my $i (1 .. 6) {
        ($r, $l) = modern('tools/call', { name => 'hello', arguments => {} });
        new_trace_ok($l, undef, "no traceparent, request $i");
        $traces{ $l->{trace_id} // '' }++;
        $spans{ $l->{span_id} // '' }++;
    }
    is(scalar keys %traces, 6, 'no traceparent: every request a trace of its own');
    is(scalar keys %spans, 6, 'no traceparent: every request a span of its own');
}

# ---------------------------------------------------------------------------
# a pass location receives the call's own span of the request's trace

sub traceparents_received {
    my ($r) = @_;
    my $s = $r->{json} && ref $r->{json}{result} eq 'HASH'
          ? $r->{json}{result}{structuredContent} : undef;
    return undef unless ref $s eq 'HASH' && ref $s->{header_list} eq 'ARRAY';
    return [ map { $_->[1] } grep { lc $_->[0] eq 'traceparent' } @{ $s->{header_list} } ];
}

sub pass_ok {
    my ($r, $l, $flags, $name, %o) = @_;
    is($r->{status}, 200, "$name: 200");
    is($l->{outcome}, 'ok', "$name: outcome ok") or diag($r->{body});
    is($l->{entry}, 'echo', "$name: entry echo");
    my $tps = traceparents_received($r) || [];
    is(scalar @$tps, 1, "$name: the location receives exactly one traceparent")
        or diag(explain($tps));
    my $tp = $tps->[0] // '';
    my ($v, $trace, $span, $fl) =
        $tp =~ /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
    ok(defined $v, "$name: traceparent is well-formed") or diag($tp);
    is($v, '00', "$name: version 00");
    is($trace, $l->{trace_id}, "$name: the request's trace id");
    is($trace, $o{trace}, "$name: ... which is the client's") if $o{trace};
    unlike($span // '', qr/^0+$/, "$name: a span id not all zeros");
    isnt($span, $l->{span_id}, "$name: a span other than the request's");
    isnt($span, $o{parent}, "$name: not the client's parent id") if $o{parent};
    is($fl, $flags, "$name: flags $flags");
    return $span;
}

{
    my ($r, $l) = modern('tools/call', { name => 'echo', arguments => {} },
                         headers => [ traceparent => $TP ]);
    my $s1 = pass_ok($r, $l, '01', '2026 pass, sampled traceparent',
                     trace => $TRACE, parent => $PARENT);

    ($r, $l) = modern('tools/call', { name => 'echo', arguments => {} },
                      headers => [ traceparent => "00-$TRACE-$PARENT-00" ]);
    my $s2 = pass_ok($r, $l, '00', '2026 pass, traceparent not sampled',
                     trace => $TRACE, parent => $PARENT);
    isnt($s1, $s2, 'two calls of one trace: two spans');

    ($r, $l) = modern('tools/call', { name => 'echo', arguments => {} });
    pass_ok($r, $l, '00', '2026 pass without traceparent: a new trace');

    my $trace2 = 'b' x 16 . 'fedcba9876543210';
    my $msg = modern_body('tools/call', { name => 'echo', arguments => {} });
    $msg->{params}{_meta}{traceparent} = "00-$trace2-2222222222222222-01";
    ($r, $l) = modern('tools/call', { name => 'echo' }, body => $msg);
    pass_ok($r, $l, '01', '2026 pass with _meta.traceparent',
            trace => $trace2, parent => '2222222222222222');

    # two traceparent headers from the client: still one, the module's
    ($r, $l) = modern('tools/call', { name => 'echo', arguments => {} },
                      headers => [ traceparent => $TP,
                                   traceparent => "00-$trace2-2222222222222222-01" ]);
    my $tps = traceparents_received($r) || [];
    is(scalar @$tps, 1, 'two client traceparent headers: the location receives one')
        or diag(explain($tps));
    ok(!grep({ $_ eq $TP || /-2222222222222222-/ } @$tps),
       "... and not a client's as it was");

    # an invalid one: the new trace goes to the location
    ($r, $l) = modern('tools/call', { name => 'echo', arguments => {} },
                      headers => [ traceparent => "00-$TRACE-$PARENT-01-extra" ]);
    pass_ok($r, $l, '00', '2026 pass with an invalid traceparent: the new trace');
    isnt($l->{trace_id}, $TRACE, '... not the invalid one');

    ($r, $l) = in_session($sids[0], '2025-06-18',
                          { jsonrpc => '2.0', id => 80, method => 'tools/call',
                            params => { name => 'echo', arguments => {} } },
                          traceparent => $TP);
    pass_ok($r, $l, '01', '2025-06-18 pass, sampled traceparent',
            trace => $TRACE, parent => $PARENT);
}

# ---------------------------------------------------------------------------
# tracestate: passed on, as it came, with the trace it belongs to; dropped
# whole when invalid or without a continued traceparent

sub tracestates_received {
    my ($r) = @_;
    my $s = $r->{json} && ref $r->{json}{result} eq 'HASH'
          ? $r->{json}{result}{structuredContent} : undef;
    return [ 'no header list' ] unless ref $s eq 'HASH' && ref $s->{header_list} eq 'ARRAY';
    return [ map { $_->[1] } grep { lc $_->[0] eq 'tracestate' } @{ $s->{header_list} } ];
}

{
    my $TS = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';
    my ($r, $l) = modern('tools/call', { name => 'echo', arguments => {} },
                         headers => [ traceparent => $TP, tracestate => $TS ]);
    is($l->{trace_id}, $TRACE, 'tracestate: the trace is continued');
    is_deeply(tracestates_received($r), [ $TS ],
              'tracestate with a valid traceparent: the location receives it as it came');

    ($r, $l) = modern('tools/call', { name => 'echo', arguments => {} },
                      headers => [ traceparent => $TP, tracestate => 'a=1',
                                   tracestate => ' b@x=2 , ,c=3 ' ]);
    is_deeply(tracestates_received($r), [ 'a=1,b@x=2 , ,c=3' ],
              'two tracestate headers: one list, joined by a comma (each trimmed, as HTTP does)');

    ($r, $l) = modern('tools/call', { name => 'echo', arguments => {} },
                      headers => [ tracestate => $TS ]);
    is($r->{status}, 200, 'tracestate without traceparent: 200');
    is_deeply(tracestates_received($r), [],
              'tracestate without traceparent: not passed on (a new trace)');

    ($r, $l) = modern('tools/call', { name => 'echo', arguments => {} },
                      headers => [ traceparent => "00-$TRACE-$PARENT-01-extra",
                                   tracestate => $TS ]);
    is_deeply(tracestates_received($r), [],
              'tracestate with an invalid traceparent: not passed on');

    my %bad = (
        'an uppercase key'       => 'Congo=1',
        'a key starting with _'  => '_x=1',
        'two @ in a key'         => 'a@b@c=1',
        'a key ending in @'      => 'a@=1',
        'an = in a value'        => 'a=b=c',
        'an empty value'         => 'a=',
        'no =',                  => 'abc',
        'a control character'    => "a=b\x01c",
        'a byte past 0x7e'       => "a=b\x{e9}",
        '33 members'             => join(',', map { "k$_=v" } 1 .. 33),
        'more than 512 bytes'    => join(',', map { "k$_=" . ('v' x 60) } 1 .. 9),
        'a 257-byte value'       => 'a=' . ('v' x 257),
        'a 257-byte key'         => ('k' x 257) . '=v',
    );
    for my $what (sort keys %bad) {
        ($r, $l) = modern('tools/call', { name => 'echo', arguments => {} },
                          headers => [ traceparent => $TP, tracestate => $bad{$what} ]);
        is($r->{status}, 200, "invalid tracestate ($what): 200");
        is($l->{trace_id}, $TRACE, "invalid tracestate ($what): the trace is still continued");
        is_deeply(tracestates_received($r), [],
                  "invalid tracestate ($what): dropped whole");
    }

    ($r, $l) = modern('tools/call', { name => 'echo', arguments => {} },
                      headers => [ traceparent => $TP,
                                   tracestate => join(',', map { "k$_=v" } 1 .. 32) ]);
    is_deeply(tracestates_received($r), [ join(',', map { "k$_=v" } 1 .. 32) ],
              'tracestate of 32 members: passed on');

    # 2026: params._meta.tracestate goes with _meta.traceparent
    my $trace3 = 'c' x 32;
    my $msg = modern_body('tools/call', { name => 'echo', arguments => {} });
    $msg->{params}{_meta}{traceparent} = "00-$trace3-3333333333333333-01";
    $msg->{params}{_meta}{tracestate} = 'vendor=meta';
    ($r, $l) = modern('tools/call', { name => 'echo' }, body => $msg);
    is($l->{trace_id}, $trace3, '_meta.traceparent with tracestate: continued');
    is_deeply(tracestates_received($r), [ 'vendor=meta' ],
              '_meta.tracestate: passed on');

    $msg->{params}{_meta}{tracestate} = "vendor=meta\r\nX-Injected: 1";
    ($r, $l) = modern('tools/call', { name => 'echo' }, body => $msg);
    is($r->{status}, 200, '_meta.tracestate with CR LF: 200');
    is_deeply(tracestates_received($r), [],
              '_meta.tracestate with CR LF: dropped');
    my $s = $r->{json}{result}{structuredContent} // {};
    ok(!grep({ lc $_->[0] eq 'x-injected' } @{ $s->{header_list} || [] }),
       '... and no header made of it');

    $msg->{params}{_meta}{tracestate} = { vendor => 'x' };
    ($r, $l) = modern('tools/call', { name => 'echo' }, body => $msg);
    is_deeply(tracestates_received($r), [],
              '_meta.tracestate not a string: dropped');

    # the header's traceparent wins, and its tracestate with it
    $msg->{params}{_meta}{tracestate} = 'vendor=meta';
    ($r, $l) = modern('tools/call', { name => 'echo' }, body => $msg,
                      headers => [ traceparent => $TP, tracestate => 'vendor=header' ]);
    is($l->{trace_id}, $TRACE, 'header and _meta: the header\'s trace');
    is_deeply(tracestates_received($r), [ 'vendor=header' ],
              'header and _meta: the header\'s tracestate');

    $msg->{params}{_meta}{traceparent} = "00-$trace3-3333333333333333-01";
    ($r, $l) = modern('tools/call', { name => 'echo' }, body => $msg,
                      headers => [ tracestate => 'vendor=header' ]);
    is($l->{trace_id}, $trace3, 'a tracestate header with _meta.traceparent: _meta\'s trace');
    is_deeply(tracestates_received($r), [ 'vendor=meta' ],
              '... and _meta\'s tracestate, not the header\'s');
}

# ---------------------------------------------------------------------------
# the session id itself is never written

{
    my $log = access_log_text();
    my $err = error_log_text();
    ok(length $log > 0, 'the access log has lines');
    for my $sid (grep { length } @sids) {
        ok(index($log, $sid) < 0, 'the access log never shows a session id');
        ok(index($err, $sid) < 0, 'the error log (info) never shows a session id');
        ok(index($log, digest($sid)) >= 0, "... but the access log shows its digest");
    }
}

stop_nginx();

done_testing();
