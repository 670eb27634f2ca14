#!/usr/bin/perl
# The official MCP TypeScript SDK client (@modelcontextprotocol/sdk, pinned
# in t/sdk/package.json, driven by t/sdk/auth-client.mjs) against an /mcp
# protected by mcp_auth_jwt, with its RFC 9728 metadata at
# /.well-known/oauth-protected-resource/mcp:
#
#   * with a valid token (Authorization: Bearer on every request) the SDK
#     runs a whole session: initialize, tools/list, tools/call of "hello";
#     a tool whose scope the token lacks is not listed, and calling it is
#     refused (403);
#   * with a token that fails (expired, for another audience) the SDK's
#     connect fails with 401;
#   * without a token the SDK's connect fails with 401, and its discovery
#     (by the path-inserted well-known URL, and by the resource_metadata URL
#     of WWW-Authenticate) finds the metadata: resource is the /mcp URL,
#     authorization_servers ["https://id.test"], and the SDK's own
#     checkResourceAllowed() takes it.
#
# The SDK is installed into t/sdk/node_modules when it is missing; nothing
# is skipped.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MCP::Auth;

my $sdk = "$FindBin::Bin/sdk";

# node and the SDK
my ($node) = grep { -x } map { "$_/node" } split /:/, $ENV{PATH} // '';
unless (ok($node, 'node is installed')) {
    diag('node is missing: scripts/install-deps.sh installs nodejs');
    done_testing();
    exit 1;
}

unless (-d "$sdk/node_modules/\@modelcontextprotocol/sdk") {
    diag('installing the SDK into t/sdk/node_modules');
    my $npm = 'npm install --no-audit --no-fund';
    my $out = `cd '$sdk' && $npm 2>&1`;
    ok($? == 0, "$npm") or diag($out);
}
my $pkg = json_decode(do {
    local $/;
    open my $fh, '<', "$sdk/node_modules/\@modelcontextprotocol/sdk/package.json"
        or die "the SDK is not installed\n";
    <$fh>;
});
is($pkg->{version}, '1.32.2', 'SDK version 1.32.2');

auth_keys();

start_nginx(<<'EOF', files => { 'keys.json' => jwks_json('rsa1') });
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server shop {
        name "shop";
        tool hello { description "Hello"; text "hi"; }
        tool admin_only { description "Admins only"; text "secret"; scope admin; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /mcp {
            mcp_pass shop;
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_file %%TESTDIR%%/keys.json;
            mcp_auth_jwt_issuer https://id.test;
            mcp_auth_jwt_audience http://127.0.0.1:%%PORT%%/mcp;
        }

        location = /.well-known/oauth-protected-resource/mcp {
            mcp_protected_resource shop authorization_servers=https://id.test;
        }
    }
}
EOF

my $port = port();
my $url = "http://127.0.0.1:$port/mcp";
my $meta_url = "http://127.0.0.1:$port/.well-known/oauth-protected-resource/mcp";

# runs auth-client.mjs; returns (exit code, the JSON line it printed, output)
sub client {
    my ($token, %env) = @_;
    my $envs = join ' ', map { "$_='$env{$_}'" } sort keys %env;
    my $tok = defined $token ? " '$token'" : '';
    my $out = `cd '$sdk' && $envs timeout 60 '$node' auth-client.mjs '$url'$tok 2>&1`;
    my $rc = $? >> 8;
    my $j;
    for my $line (split /\n/, $out) {
        my $v = json_decode($line);
        $j = $v if ref $v eq 'HASH';
    }
    return ($rc, $j || {}, $out);
}

my $token = make_token(claims => { aud => $url, sub => 'alice' });

# ---------------------------------------------------------------------------
# a whole session with a valid token

{
    my ($rc, $j, $out) = client($token, MCP_TOOL => 'hello');
    is($rc, 0, 'with a token: the SDK client finished without error')
        or diag($out);
    ok($j->{ok}, 'with a token: ok');
    is($j->{protocolVersion}, '2025-11-25', 'with a token: 2025-11-25');
    like($j->{sessionId} // '', qr/^[\x21-\x7e]{64}\z/, 'with a token: a session');
    is_deeply($j->{tools}, ['hello'],
              'with a token: tools/list has hello, not the admin tool');
    is($j->{tool}, 'hello', 'with a token: called hello');
    is_deeply($j->{result} && $j->{result}{content},
              [ { type => 'text', text => 'hi' } ], 'with a token: the text');
    ok(!($j->{result} && $j->{result}{isError}), 'with a token: not isError');
}

# a tool whose scope the token lacks
{
    my ($rc, $j, $out) = client($token, MCP_TOOL => 'admin_only');
    is($rc, 1, 'a tool of another scope: the client fails') or diag($out);
    is($j->{code}, 403, 'a tool of another scope: 403') or diag($out);
}

# with the scope it has, the tool is listed and answers
{
    my $admin = make_token(claims => { aud => $url, sub => 'root',
                                       scope => 'tools:read admin' });
    my ($rc, $j, $out) = client($admin, MCP_TOOL => 'admin_only');
    is($rc, 0, 'with the admin scope: the client finished') or diag($out);
    is_deeply($j->{tools}, [qw(hello admin_only)],
              'with the admin scope: both tools listed');
    is_deeply($j->{result} && $j->{result}{content},
              [ { type => 'text', text => 'secret' } ],
              'with the admin scope: the admin tool answers');
}

# tokens that fail
for my $case (['expired', evil_token('expired', claims => { aud => $url })],
              ['for another audience', make_token()],
              ['of another issuer', evil_token('wrong_issuer',
                                               claims => { aud => $url })])
{
    my ($what, $bad) = @$case;
    my ($rc, $j, $out) = client($bad, MCP_TOOL => 'hello');
    is($rc, 1, "a token $what: the client fails") or diag($out);
    is($j->{code}, 401, "a token $what: 401") or diag($out);
}

# ---------------------------------------------------------------------------
# no token: 401, and the SDK's discovery

my %want_meta = (
    resource => $url,
    authorization_servers => ['https://id.test'],
    bearer_methods_supported => ['header'],
    resource_name => 'shop',
    scopes_supported => ['admin'],
);

for my $how ('path', 'header') {
    my ($rc, $j, $out) = client(undef, $how eq 'header'
                                       ? (MCP_DISCOVERY => 'header') : ());
    is($rc, 0, "no token ($how): the client finished as expected")
        or diag($out);
    ok($j->{unauthorized}, "no token ($how): unauthorized");
    is($j->{connectError} && $j->{connectError}{code}, 401,
       "no token ($how): connect failed with 401");
    is($j->{status}, 401, "no token ($how): a plain POST is 401");
    like($j->{wwwAuthenticate} // '', qr/^Bearer realm="shop"/,
         "no token ($how): Bearer realm=\"shop\"");
    unlike($j->{wwwAuthenticate} // '', qr/error=/,
           "no token ($how): no error= without credentials");
    is($j->{resourceMetadataUrl}, $meta_url,
       "no token ($how): resource_metadata is the path-inserted URL");
    is($j->{wwwError}, undef, "no token ($how): the SDK reads no error");

    my $m = $j->{metadata} || {};
    for my $k (sort keys %want_meta) {
        is_deeply($m->{$k}, $want_meta{$k}, "no token ($how): metadata $k");
    }
    ok($j->{resourceAllowed}, "no token ($how): checkResourceAllowed")
        or diag($out);
    my $d = $j->{discovery} || [];
    is($d->[0] && $d->[0]{url}, $meta_url,
       "no token ($how): the first URL discovery fetched");
    is($d->[0] && $d->[0]{status}, 200, "no token ($how): ... answered 200");
    is(scalar @$d, 1, "no token ($how): one fetch was enough");
}

# the metadata as it is on the wire
{
    my $r = http('GET', '/.well-known/oauth-protected-resource/mcp');
    is($r->{status}, 200, 'metadata: 200');
    like($r->{headers}{'content-type'} // '', qr{^application/json},
         'metadata: application/json');
    my $m = json_decode($r->{body}) || {};
    is($m->{resource}, $url, 'metadata: resource from the request');
    $r = http('POST', '/.well-known/oauth-protected-resource/mcp', body => '{}');
    is($r->{status}, 405, 'metadata: POST is 405');
}

stop_nginx();
done_testing();
