#!/usr/bin/perl
# 2026-07-28: the per-request _meta and the MCP-Protocol-Version, Mcp-Method
# and Mcp-Name headers; removed methods; GET and DELETE.  Every error echoes
# the request id.

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
        name "full-test"; version 2.3.4;
        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
        tool "dotted.name-1" { description "Odd name"; text "odd"; }
        resource docs://inline { name inline; text "Inline text"; }
        prompt greet { description "Greets"; message user "Hi"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; }
    }
}
EOF

sub err { my ($r) = @_; return $r->{json} && ref $r->{json}{error} eq 'HASH' ? $r->{json}{error} : {} }
sub res { my ($r) = @_; return $r->{json} && ref $r->{json}{result} eq 'HASH' ? $r->{json}{result} : {} }

my $n = 0;
my $r;

# an error: HTTP status, JSON-RPC code, the id echoed
sub is_error {
    my ($r, $status, $code, $what, $id) = @_;
    is($r->{status}, $status, "$what: HTTP $status");
    is(err($r)->{code}, $code, "$what: $code") or diag($r->{body});
    is($r->{json} && $r->{json}{id}, $id, "$what: id echoed") if defined $id;
    ok(!defined $r->{headers}{'mcp-session-id'}, "$what: no Mcp-Session-Id");
}

sub is_ok {
    my ($r, $what) = @_;
    is($r->{status}, 200, "$what: 200") or diag($r->{body});
    is(res($r)->{resultType}, 'complete', "$what: a result");
}

is_ok(modern_post('tools/list', {}), 'a well-formed request');

# _meta
my $id = 'm' . $n++;
is_error(modern_post('tools/list', {}, no_meta => 1, id => $id),
         400, -32602, 'no _meta', $id);
$id = 'm' . $n++;
is_error(modern_post('tools/list', {}, no_params => 1, id => $id),
         400, -32602, 'no params at all', $id);
$id = 'm' . $n++;
is_error(modern_post('tools/list', {}, meta => { protocolVersion => undef }, id => $id),
         400, -32602, '_meta without protocolVersion', $id);
$id = 'm' . $n++;
is_error(modern_post('tools/list', {}, meta => { clientCapabilities => undef }, id => $id),
         400, -32602, '_meta without clientCapabilities', $id);
is_ok(modern_post('tools/list', {}, meta => { clientInfo => undef }),
      '_meta without clientInfo');
$id = 'm' . $n++;
is_error(modern_post('tools/list', {}, meta => { clientCapabilities => 'none' }, id => $id),
         400, -32602, 'clientCapabilities not an object', $id);

# the per-request log level
is_ok(modern_post('tools/list', {}, meta => { logLevel => 'warning' }),
      '_meta logLevel warning');
$id = 'm' . $n++;
$r = modern_post('tools/list', {}, meta => { logLevel => 'verbose' }, id => $id);
is(err($r)->{code}, -32602, 'an unknown logLevel is -32602');
is($r->{json} && $r->{json}{id}, $id, '... id echoed');

# MCP-Protocol-Version
$id = 'v' . $n++;
is_error(modern_post('tools/list', {}, id => $id,
                     headers => [ 'MCP-Protocol-Version' => undef ]),
         400, -32020, 'MCP-Protocol-Version absent with 2026 _meta', $id);
$id = 'v' . $n++;
is_error(modern_post('tools/list', {}, id => $id, header_version => '2025-11-25'),
         400, -32020, 'header 2025-11-25, _meta 2026-07-28', $id);
$id = 'v' . $n++;
is_error(modern_post('tools/list', {}, id => $id, header_version => '2026-07-29'),
         400, -32020, 'header version differs from _meta', $id);

$id = 'v' . $n++;
$r = modern_post('tools/list', {}, id => $id, version => 'v999.0.0');
is_error($r, 400, -32022, 'unsupported version v999.0.0', $id);
my $data = err($r)->{data} || {};
is(ref $data->{supported}, 'ARRAY', '-32022 data.supported is an array');
is($data->{requested}, 'v999.0.0', '-32022 data.requested as sent');
my $disc = res(modern_post('server/discover', {}));
my %sv = map { $_ => 1 } @{ $disc->{supportedVersions} || [] };
ok(@{ $data->{supported} || [] } && !grep({ !$sv{$_} } @{ $data->{supported} || [] }),
   'every supported version is in server/discover supportedVersions');
ok(grep({ $_ eq '2026-07-28' } @{ $data->{supported} || [] }),
   'data.supported names 2026-07-28');

$id = 'v' . $n++;
is_error(modern_post('tools/list', {}, id => $id, version => '2027-01-01'),
         400, -32022, 'a future date version', $id);

# Mcp-Method
$id = 'h' . $n++;
is_error(modern_post('tools/list', {}, id => $id, headers => [ 'Mcp-Method' => undef ]),
         400, -32020, 'Mcp-Method missing', $id);
$id = 'h' . $n++;
is_error(modern_post('tools/list', {}, id => $id, headers => [ 'Mcp-Method' => 'prompts/list' ]),
         400, -32020, 'Mcp-Method mismatched', $id);
$id = 'h' . $n++;
is_error(modern_post('tools/list', {}, id => $id, headers => [ 'Mcp-Method' => 'TOOLS/LIST' ]),
         400, -32020, 'Mcp-Method in the wrong case', $id);
$id = 'h' . $n++;
is_error(modern_post('tools/list', {}, id => $id, headers => [ 'Mcp-Method' => '' ]),
         400, -32020, 'Mcp-Method empty', $id);
is_ok(modern_post('tools/list', {}, headers => [ 'Mcp-Method' => '  tools/list  ' ]),
      'Mcp-Method with surrounding spaces');

# Mcp-Name on the three methods that name something
for my $case ([ 'tools/call', { name => 'echo_hello', arguments => {} } ],
              [ 'prompts/get', { name => 'greet' } ],
              [ 'resources/read', { uri => 'docs://inline' } ])
{
    my ($m, $p) = @$case;
    my $value = $p->{name} // $p->{uri};

    is_ok(modern_post($m, $p), "$m with Mcp-Name");
    $id = 'n' . $n++;
    is_error(modern_post($m, $p, id => $id, headers => [ 'Mcp-Name' => undef ]),
             400, -32020, "$m: Mcp-Name missing", $id);
    $id = 'n' . $n++;
    is_error(modern_post($m, $p, id => $id, headers => [ 'Mcp-Name' => $value . 'x' ]),
             400, -32020, "$m: Mcp-Name mismatched", $id);
    $id = 'n' . $n++;
    is_error(modern_post($m, $p, id => $id, headers => [ 'Mcp-Name' => uc $value ]),
             400, -32020, "$m: Mcp-Name differs in case", $id);
    is_ok(modern_post($m, $p, headers => [ 'Mcp-Name' => "   $value \t" ]),
          "$m: Mcp-Name with surrounding spaces");
    is_ok(modern_post($m, $p, headers => [ 'Mcp-Name' => '=?base64?' . b64($value) . '?=' ]),
          "$m: base64-encoded Mcp-Name");
    $id = 'n' . $n++;
    is_error(modern_post($m, $p, id => $id,
                         headers => [ 'Mcp-Name' => '=?base64?' . b64($value . 'x') . '?=' ]),
             400, -32020, "$m: base64 Mcp-Name of another name", $id);
    $id = 'n' . $n++;
    is_error(modern_post($m, $p, id => $id, headers => [ 'Mcp-Name' => '=?base64?!!not*base64?=' ]),
             400, -32020, "$m: invalid base64 alphabet", $id);
    $id = 'n' . $n++;
    is_error(modern_post($m, $p, id => $id, headers => [ 'Mcp-Name' => '=?base64?ZWNob19oZWxsbw?=' ]),
             400, -32020, "$m: base64 with bad padding", $id);
}

# a value that merely looks like part of the sentinel is literal, and must
# then match literally
$id = 'n' . $n++;
is_error(modern_post('tools/call', { name => 'echo_hello' }, id => $id,
                     headers => [ 'Mcp-Name' => '=?base64?' . b64('echo_hello') ]),
         400, -32020, 'prefix without the ?= suffix is a literal (mismatch)', $id);

# a name in the body the header spells with its own odd characters
is_ok(modern_post('tools/call', { name => 'dotted.name-1' }), 'Mcp-Name with dots and dashes');

# header names are case-insensitive
is_ok(modern_post('tools/call', { name => 'echo_hello' },
                  headers => [ 'MCP-Protocol-Version' => undef, 'Mcp-Method' => undef,
                               'Mcp-Name' => undef,
                               'mcp-protocol-version' => MODERN,
                               'MCP-METHOD' => 'tools/call',
                               'mcp-name' => 'echo_hello' ]),
      'header names in other cases');

# methods that do not exist in 2026
for my $m (qw(initialize ping logging/setLevel resources/subscribe
              resources/unsubscribe no/such/method))
{
    my %p = ($m eq 'initialize')
          ? (protocolVersion => MODERN, capabilities => {},
             clientInfo => { name => 't', version => '0' })
          : ($m =~ /subscribe/) ? (uri => 'docs://inline')
          : ($m eq 'logging/setLevel') ? (level => 'info') : ();
    $id = 'x' . $n++;
    is_error(modern_post($m, \%p, id => $id), 404, -32601, "2026 $m", $id);
}

# notifications/initialized in 2026: not a request; never a session
{
    my $r = modern_post('notifications/initialized', {}, notification => 1);
    ok($r->{status} == 202 || $r->{status} == 404 || $r->{status} == 400,
       "2026 notifications/initialized: 202 or an error ($r->{status})");
    ok(!defined $r->{headers}{'mcp-session-id'}, '... no session');
}

# GET and DELETE are not part of the 2026 transport
for my $method (qw(GET DELETE)) {
    my $r = http($method, '/mcp', headers => {
        'MCP-Protocol-Version' => MODERN,
        Accept => 'application/json, text/event-stream' });
    is($r->{status}, 405, "$method with the 2026 header is 405");
    ok(!defined $r->{headers}{'mcp-session-id'}, "$method: no session id");
}

# the version header alone decides the era when _meta is missing: a
# non-legacy header value means 2026, which then lacks its _meta
$id = 'e' . $n++;
is_error(mcp_post({ jsonrpc => '2.0', id => $id, method => 'tools/list', params => {} },
                  'MCP-Protocol-Version' => MODERN, 'Mcp-Method' => 'tools/list'),
         400, -32602, '2026 header, no _meta', $id);

# requests in the same era on several workers do not depend on each other
for my $i (1 .. 6) {
    is_ok(modern_post('tools/call', { name => 'echo_hello' }), "stateless call $i");
}

stop_nginx();
done_testing();
