#!/usr/bin/perl
# JWT authentication in the access phase (mcp_auth_jwt, docs/SECURITY.md):
# every algorithm the module supports, with keys from files; every token of
# MCP::Auth's attack list refused with 401 and error="invalid_token", no
# crash, no hang; leeway, the cache of verified tokens and exp,
# mcp_auth_jwt_require, the challenge's resource_metadata, and the
# variables of the caller.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MCP::Auth;
use Time::HiRes qw(time sleep);

my $keys = auth_keys();
my $dir = "$FindBin::Bin/tmp/auth-keys";

my $jwks = jwks_json(qw(rsa1 ec256 ec384 ed1));
my $jwks_hs = jwks_json(qw(hs1 rsa1));

start_nginx(<<'EOF', files => { 'keys/jwks.json' => $jwks, 'keys/hs.json' => $jwks_hs });
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;
    large_client_header_buffers 4 64k;

    mcp_server shop {
        tool hello { description "Hello"; text "hi"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        mcp_auth_jwt_issuer https://id.test;
        mcp_auth_jwt_audience https://mcp.test/mcp;

        location = /mcp {
            mcp_pass shop;
            mcp_auth_jwt "shop";
            mcp_auth_jwt_key_file keys/jwks.json;
            mcp_tenant $mcp_claim_org;
            add_header X-Who "$mcp_auth_method|$mcp_subject|$mcp_tenant|$mcp_scopes|$mcp_claim_email_verified|$mcp_claim_n" always;
        }

        location = /leeway {
            mcp_pass shop;
            mcp_auth_jwt "shop";
            mcp_auth_jwt_key_file keys/jwks.json;
            mcp_auth_jwt_leeway 30s;
        }

        location = /hs {
            mcp_pass shop;
            mcp_auth_jwt "shop";
            mcp_auth_jwt_key_file keys/hs.json;
            mcp_auth_jwt_algorithms HS256 HS384 HS512 RS256;
        }

        location = /required {
            mcp_pass shop;
            mcp_auth_jwt "shop";
            mcp_auth_jwt_key_file keys/jwks.json;
            mcp_auth_jwt_require $mcp_claim_email_verified error=403;
        }

        location = /header {
            mcp_pass shop;
            mcp_auth_jwt "shop" token=$http_x_token;
            mcp_auth_jwt_key_file keys/jwks.json;
        }

        location = /plain {
            mcp_pass shop;
            mcp_auth_jwt_audience urn:mcp:test;
            mcp_auth_jwt "plain";
            mcp_auth_jwt_key_file keys/jwks.json;
        }
    }
}
EOF

my $port = port();

sub list {
    my ($path, $token, @h) = @_;
    return modern_post('tools/list', {}, path => $path,
                       headers => [ (defined $token
                                     ? (Authorization => "Bearer $token") : ()),
                                    @h ]);
}

sub challenge { return $_[0]{headers}{'www-authenticate'} // '' }

sub ok_list {
    my ($r, $name) = @_;
    is($r->{status}, 200, "$name: 200") or diag($r->{status}, ' ', challenge($r));
    is(mcp_result($r)->{tools}[0]{name}, 'hello', "$name: the tools");
}

sub refused {
    my ($r, $name, $error) = @_;
    is($r->{status}, 401, "$name: 401") or diag($r->{body});
    my $c = challenge($r);
    like($c, qr/^Bearer realm="shop"/, "$name: a Bearer challenge");
    if ($error) {
        like($c, qr/error="invalid_token"/, "$name: error=\"invalid_token\"");
    } else {
        unlike($c, qr/error=/, "$name: no error without credentials");
    }
}

# --- no credentials, the challenge ---------------------------------------

{
    my $r = list('/mcp');
    refused($r, 'no token', 0);
    like(challenge($r),
         qr{resource_metadata="https://mcp\.test/\.well-known/oauth-protected-resource/mcp"},
         'resource_metadata from the audience (RFC 9728 path-inserted form)');
    unlike($r->{body} // '', qr/"result"/, 'no MCP answer');

    $r = list('/plain');
    like(challenge($r),
         qr{resource_metadata="http://127\.0\.0\.1:$port/\.well-known/oauth-protected-resource/plain"},
         'resource_metadata from the request when the audience is no URL');

    $r = list('/mcp', undef, Authorization => 'Basic YWxpY2U6c2VjcmV0');
    refused($r, 'another scheme', 0);

    $r = list('/mcp', '');
    is($r->{status}, 401, 'an empty bearer token: 401');
}

# --- every algorithm ------------------------------------------------------

for my $alg (qw(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA)) {
    ok_list(list('/mcp', make_token(alg => $alg)), $alg);
}

ok_list(list('/mcp', make_token(kid => undef)), 'a token without kid');

refused(list('/mcp', make_token(alg => 'HS256')), 'HS256 where it is not listed', 1);
ok_list(list('/hs', make_token(alg => 'HS256')), 'HS256 with an oct key, listed');
# RFC 7518 section 3.2: a key at least as long as the hash; hs1 has 32 bytes
refused(list('/hs', make_token(alg => 'HS384')), 'HS384 with a 32-byte key', 1);
refused(list('/hs', make_token(alg => 'HS512')), 'HS512 with a 32-byte key', 1);
ok_list(list('/hs', make_token(alg => 'RS256')), 'RS256 beside an oct key');

# --- the attack list ------------------------------------------------------

my %where = (hs256_rsa_pem => '/hs');    # HMAC allowed, the RSA key there

for my $kind (evil_kinds()) {
    my %o = $kind eq 'deep_json' ? (depth => 600) : ();
    my $token = evil_token($kind, %o);
    my $path = $where{$kind} // '/mcp';
    my $t0 = time;
    my $r = list($path, $token);
    refused($r, "$kind at $path", 1);
    ok(time - $t0 < 5, "$kind: answered at once");
}

refused(list('/mcp', 'abc'), 'not a JWT', 1);
refused(list('/mcp', 'a.b'), 'two parts', 1);
refused(list('/mcp', 'a.b.c.d'), 'four parts', 1);
refused(list('/mcp', '..'), 'empty parts', 1);

{
    my $r = list('/mcp', evil_token('expired'));
    like(challenge($r), qr/error_description="[^"]+"/, 'error_description says why');
}

# a token for another server (audience), and one without exp
refused(list('/mcp', make_token(claims => { aud => 'https://other.test/mcp' })),
        'another audience', 1);
ok_list(list('/mcp', make_token(claims => { aud => [ 'x', 'https://mcp.test/mcp' ] })),
        'audience in an array');
ok_list(list('/mcp', make_token(claims => { aud => 'https://MCP.test/mcp/' })),
        'the canonical audience, leniently (host case, trailing slash)');
refused(list('/mcp', make_token(claims => { exp => undef })), 'no exp', 1);
refused(list('/mcp', make_token(claims => { iss => undef })), 'no issuer', 1);
refused(list('/mcp', make_token(claims => { sub => "a\nb" })), 'a sub with a newline', 1);
refused(list('/mcp', make_token(claims => { sub => 42 })), 'a sub that is no string', 1);
refused(list('/mcp', make_token(claims => { sub => undef })),
        'no sub (sessions are bound to it)', 1);
refused(list('/mcp', make_token(claims => { sub => '' })), 'an empty sub', 1);

# the weak key is refused when loaded: a token it signs finds no key
refused(list('/mcp', make_token(kid => 'weak', alg => 'RS256', key => $keys->{weak}{private})),
        'a token of an unknown (weak) key', 1);

# --- leeway ---------------------------------------------------------------

{
    my $now = time;
    my $late = make_token(claims => { exp => int($now) - 10 });
    refused(list('/mcp', $late), 'expired 10 s ago, no leeway', 1);
    ok_list(list('/leeway', $late), 'expired 10 s ago, 30 s of leeway');
    refused(list('/leeway', make_token(claims => { exp => int($now) - 60 })),
            'expired 60 s ago, 30 s of leeway', 1);
    ok_list(list('/leeway', make_token(claims => { nbf => int($now) + 10 })),
            'valid in 10 s, 30 s of leeway');
    refused(list('/leeway', make_token(claims => { nbf => int($now) + 60 })),
            'valid in 60 s, 30 s of leeway', 1);
    refused(list('/leeway', make_token(claims => { iat => int($now) + 600 })),
            'issued in 10 minutes', 1);
}

# --- the cache: a repeated token, and its exp -----------------------------

{
    my $t = make_token(claims => { exp => int(time) + 2 });
    ok_list(list('/mcp', $t), 'a short-lived token') for 1 .. 3;
    sleep 3.2;
    refused(list('/mcp', $t), 'the same token once expired (cached before)', 1);

    # verified for one location is not verified for another
    my $other = make_token(claims => { aud => 'urn:mcp:test' });
    ok_list(list('/plain', $other), 'a token for /plain');
    refused(list('/mcp', $other), '... is refused at /mcp, cached or not', 1);
    ok_list(list('/plain', $other), '... and still good at /plain');
}

# --- token=$variable ------------------------------------------------------

{
    my $t = make_token();
    ok_list(list('/header', undef, 'X-Token' => $t), 'the token from token=$http_x_token');
    refused(list('/header', $t), 'Authorization is not read with token=', 0);
}

# --- mcp_auth_jwt_require -------------------------------------------------

{
    ok_list(list('/required', make_token(claims => { email_verified => \1 })),
            'require: true passes');
    for my $v ([ 'false', \0 ], [ '0', 0 ], [ 'empty', '' ], [ 'missing', undef ]) {
        my $r = list('/required', make_token(claims => { email_verified => $v->[1] }));
        is($r->{status}, 403, "require: $v->[0] is 403 (error=403)");
    }
}

# --- the caller in variables ----------------------------------------------

{
    my $r = list('/mcp', make_token(claims => { sub => 'alice', org => 'acme',
                                                 scope => 'tools:read orders:write',
                                                 email_verified => \1, n => 42 }));
    is($r->{headers}{'x-who'}, 'jwt|alice|acme|tools:read orders:write|true|42',
       '$mcp_auth_method, $mcp_subject, $mcp_tenant, $mcp_scopes, $mcp_claim_*');

    $r = list('/mcp', make_token(claims => { scope => undef, scp => [ 'a', 'b c' ] }));
    like($r->{headers}{'x-who'}, qr/^jwt\|alice\|\|a b c\|/, 'scp as an array');

    $r = list('/mcp', make_token(claims => { scope => "ok bad\"one \x01 fine" }));
    like($r->{headers}{'x-who'}, qr/^jwt\|alice\|\|ok fine\|/,
         'scope tokens with quotes or control characters are dropped');

    $r = list('/mcp', make_token(claims => { org => "acme\r\nX-Evil: 1",
                                              n => "1\nX" }));
    like($r->{headers}{'x-who'} // '', qr/^jwt\|alice\|\|/,
         'a tenant claim with CR LF: no tenant ($mcp_claim_org reads empty)');
    $r = list('/mcp', make_token(claims => { n => "1\r\nX-Evil: 1",
                                              Email_Verified => \1,
                                              email_verified => \0 }));
    like($r->{headers}{'x-who'} // '', qr/^jwt\|alice\|\|tools:read\|false\|$/,
         'a claim with CR LF reads empty; the exact name wins over another case');

    $r = list('/mcp');
    is($r->{headers}{'x-who'}, '|||||', 'nothing for a refused caller');
}

# --- sessions of the 2025 revisions: the token on every request -----------

{
    my $t = make_token();
    my $sid = mcp_init('2025-11-25', headers => [ Authorization => "Bearer $t" ]);
    ok($sid, 'a session with a token');
    my $r = legacy_post($sid, '2025-11-25', 'tools/list', {});
    is($r->{status}, 401, 'the session without the token: 401');
    $r = legacy_post($sid, '2025-11-25', 'tools/list', {},
                     headers => [ Authorization => "Bearer $t" ]);
    is($r->{status}, 200, 'the session with the token: 200');
}

# no token and no key ever in the error log (info level is on)
{
    my $log = error_log_text() // '';
    my $t = make_token();
    my ($h, $p, $s) = split /\./, $t;
    unlike($log, qr/\Q$s\E/, 'no signature in the error log');
    unlike($log, qr/eyJ/, 'nothing base64url-JSON-like (a token part) in the error log');
    like($log, qr/mcp auth: refused with 401: expired/, 'refusals say why, at info');
}

stop_nginx();

done_testing();
