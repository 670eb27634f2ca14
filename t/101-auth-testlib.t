#!/usr/bin/perl
# MCP::Auth on its own, no nginx: its keys are what they claim to be, its
# JWK set holds the public halves, every good token verifies with Crypt::JWT
# against the public key, and every evil token fails a strict verification
# for its one fault while passing once that one check is left out (or the
# fault undone).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use Digest::SHA qw(sha256_hex);
use JSON::XS;
use Crypt::JWT qw(decode_jwt);
use MCP::Auth;

my $base = "$FindBin::Bin/tmp";
make_path($base);
my $dir = tempdir('101-auth-testlib-XXXXXX', DIR => $base, CLEANUP => 0);

# ---------------------------------------------------------------------------
# keys

my $k = auth_keys($dir);
is_deeply([ sort keys %$k ], [qw(ec256 ec384 ed1 hs1 rsa1 rsa2 weak)], 'kids');

my %bits = (rsa1 => 2048, rsa2 => 2048, weak => 1024);
for my $kid (sort keys %bits) {
    is($k->{$kid}{private}->size * 8, $bits{$kid}, "$kid: $bits{$kid} bits");
    ok($k->{$kid}{private}->is_private && !$k->{$kid}{public}->is_private,
       "$kid: private and public objects");
}
isnt($k->{rsa1}{jwk}{n}, $k->{rsa2}{jwk}{n}, 'rsa1 and rsa2 differ');
is($k->{ec256}{public}->key2hash->{curve_name}, 'secp256r1', 'ec256: P-256');
is($k->{ec384}{public}->key2hash->{curve_name}, 'secp384r1', 'ec384: P-384');
is($k->{ed1}{jwk}{crv}, 'Ed25519', 'ed1: Ed25519');
is(length $k->{hs1}{secret}, 32, 'hs1: 32 bytes');
is(-s $k->{hs1}{secret_file}, 32, 'hs1: the secret file');

# the PEM files are what openssl (and so nginx) reads: SPKI, named curves
for my $kid (qw(rsa1 rsa2 weak ec256 ec384 ed1)) {
    my $pub = $k->{$kid}{public_pem};
    like($k->{$kid}{public_pem_text}, qr/\A-----BEGIN PUBLIC KEY-----\n/,
         "$kid: SPKI PEM");
    my $out = `openssl pkey -pubin -in '$pub' -noout -text 2>&1`;
    is($?, 0, "$kid: openssl reads the public key") or diag($out);
    like($out, qr/NIST CURVE: P-(256|384)/, "$kid: a named curve")
        if $kid =~ /^ec/;
    $out = `openssl pkey -in '$k->{$kid}{private_pem}' -noout 2>&1`;
    is($?, 0, "$kid: openssl reads the private key") or diag($out);
}

# made once: another process finds the files and leaves them alone
my %before = map { $_ => -M $_ } glob("$dir/*.pem $dir/*.secret");
my $out = `$^X -I'$FindBin::Bin/lib' -MMCP::Auth -e 'auth_keys(shift)' '$dir' 2>&1`;
is($?, 0, 'auth_keys again in another process') or diag($out);
is_deeply({ map { $_ => -M $_ } keys %before }, \%before, '... keeps the files');
is(scalar keys %before, 13, '... 6 key pairs and a secret');

# ---------------------------------------------------------------------------
# JWK set

my $json = JSON::XS->new;
my $set = eval { $json->decode(jwks_json(qw(rsa1 rsa2 weak ec256 ec384 ed1 hs1))) };
ok($set && ref $set->{keys} eq 'ARRAY' && @{ $set->{keys} } == 7,
   'jwks_json: valid JSON, 7 keys');
my %jwk = map { $_->{kid} => $_ } @{ $set->{keys} || [] };
my %members = (RSA => [qw(e kid kty n use)], EC => [qw(crv kid kty use x y)],
               OKP => [qw(crv kid kty use x)], oct => [qw(k kid kty use)]);
for my $kid (sort keys %jwk) {
    my $j = $jwk{$kid};
    is($j->{kty}, $k->{$kid}{kty}, "jwk $kid: kty $j->{kty}");
    is($j->{use}, 'sig', "jwk $kid: use sig");
    is_deeply([ sort keys %$j ], $members{ $j->{kty} },
              "jwk $kid: public members only, no alg");
}
is($jwk{ec384}{crv}, 'P-384', 'jwk ec384: crv P-384');
is(unb64url($jwk{hs1}{k}), $k->{hs1}{secret}, 'jwk hs1: k is the secret');
unlike(jwks_json('rsa1'), qr/=/, 'base64url without padding');

$set = $json->decode(jwks_json({ kid => 'rsa1', alg => 'RS256' },
                               { key => 'rsa1', kid => 'alias', use => undef }));
is($set->{keys}[0]{alg}, 'RS256', 'jwks_json: alg when asked');
is($set->{keys}[1]{kid}, 'alias', 'jwks_json: another kid for a key');
ok(!exists $set->{keys}[1]{use} && $set->{keys}[1]{n} eq $jwk{rsa1}{n},
   'jwks_json: a member removed');

my $path = write_jwks("$dir/jwks.json", 'rsa1');
is_deeply($json->decode(do { local (@ARGV, $/) = $path; <> }),
          $json->decode(jwks_json('rsa1')), 'write_jwks');

# ---------------------------------------------------------------------------
# good tokens

my $jwks = jwks_json(qw(rsa1 rsa2 weak ec256 ec384 ed1 hs1));
my @algs = qw(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA
              HS256 HS384 HS512);

# what a careful verifier would do; dies with the reason
sub strict {
    my ($t, %o) = @_;
    return decode_jwt(token => $t, kid_keys => $jwks, accepted_alg => \@algs,
                      verify_iss => 'https://id.test',
                      verify_aud => 'https://mcp.test/mcp',
                      verify_exp => 1, decode_payload => 1,   # nbf when present
                      decode_header => 1, %o);
}

sub fails {
    my ($t, $why, $name, %o) = @_;
    my @r = eval { strict($t, %o) };
    like($@, $why, $name);
}

sub passes {
    my ($t, $name, %o) = @_;
    my ($h, $p) = eval { strict($t, %o) };
    ok($p, $name) or diag($@);
    return ($h, $p);
}

# each alg against the key of its kid, from the public key object and from
# the JWK set
my %kid_of = (ES256 => 'ec256', ES384 => 'ec384', EdDSA => 'ed1');
for my $alg (@algs) {
    my $kid = $kid_of{$alg} // ($alg =~ /^HS/ ? 'hs1' : 'rsa1');
    my $t = make_token(alg => $alg);
    like($t, qr/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\z/,
         "$alg: compact base64url");
    my ($h, $p) = passes($t, "$alg: verifies by kid from the JWK set");
    is($h->{kid}, $kid, "$alg: kid $kid");
    my $key = $alg =~ /^HS/ ? $k->{hs1}{secret} : $k->{$kid}{public};
    ok(eval { decode_jwt(token => $t, key => $key) }, "$alg: verifies with the key");
    fails($t, qr/invalid signature/, "$alg: not with rsa2's key",
          kid_keys => undef, key => $k->{rsa2}{public})
        if $alg =~ /^(RS|PS)/;
}

my ($h, $p) = passes(make_token(), 'defaults');
is($h->{alg}, 'RS256', 'default alg RS256');
is($h->{typ}, 'JWT', 'typ JWT');
is_deeply([ sort keys %$p ], [qw(aud exp iat iss scope sub)], 'default claims');
is($p->{sub}, 'alice', 'sub alice');
is($p->{scope}, 'tools:read', 'scope tools:read');
ok($p->{exp} - time > 590 && $p->{exp} - $p->{iat} == 600, 'exp now+600, iat now');

($h, $p) = passes(make_token(kid => 'rsa2', claims => { scope => 'a b', exp => undef },
                             header => { typ => 'at+jwt' }),
                  'rsa2, claims, header', verify_exp => 0);
is($h->{kid}, 'rsa2', 'kid rsa2');
is($h->{typ}, 'at+jwt', 'typ over');
is($p->{scope}, 'a b', 'a claim over');
ok(!exists $p->{exp}, 'a claim removed');
fails(make_token(kid => 'rsa2', key => $k->{rsa1}{private}), qr/invalid signature/,
      'key over kid: rsa1 signs for kid rsa2');
passes(make_token(kid => 'weak'), 'the weak key verifies (the module must refuse it)');

($h) = passes(make_token(kid => undef), 'no kid', kid_keys => undef,
              key => $k->{rsa1}{public});
ok(!exists $h->{kid}, 'no kid header');
fails(make_token(kid => undef), qr/kid_keys lookup failed/,
      'no kid: no JWK set lookup');

my ($ht, $pt, $st) = jwt_parts(raw_token('{"alg":"RS256","kid":"rsa1"}',
                                         '{"sub":"x"}'));
is($ht, '{"alg":"RS256","kid":"rsa1"}', 'raw_token: the header bytes');
is($pt, '{"sub":"x"}', 'raw_token: the payload bytes');
ok($k->{rsa1}{public}->verify_message($st, b64url($ht) . '.'
                                            . b64url($pt), 'SHA256', 'v1.5'),
   'raw_token: signed');

# ---------------------------------------------------------------------------
# evil tokens: each fails for its own reason, and passes without that check

is_deeply([ evil_kinds() ], [ sort qw(alg_none hs256_rsa_pem expired not_yet_valid
    wrong_issuer wrong_audience bad_signature unknown_kid huge b64_star b64_equals
    b64_padding header_not_json payload_not_json deep_json duplicate_claim crit_exp
    es256_der) ], 'evil_kinds');

# the bytes a token's signature is over: "HEADER.PAYLOAD"
sub signed_part { return join '.', (split /\./, $_[0])[0, 1] }

my $strict_b64 = qr/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\z/;
my %checked;
my $t;

# alg none
$t = evil_token('alg_none');
$checked{alg_none}++;
like($t, qr/\.\z/, 'alg_none: empty signature');
($ht) = jwt_parts($t);
is($ht, '{"alg":"none"}', 'alg_none: header {"alg":"none"}');
fails($t, qr/alg 'none' not allowed/, 'alg_none: refused');
($h, $p) = passes($t, 'alg_none: accepted when none is allowed',
                  allow_none => 1, accepted_alg => 'none');
is($p->{sub}, 'alice', 'alg_none: the usual claims');
($ht) = jwt_parts(evil_token('alg_none', alg => 'None', header => { kid => 'rsa1' }));
is($ht, '{"alg":"None","kid":"rsa1"}', 'alg_none: spelling and header members');

# HS256 keyed with the RSA public key's PEM text
$t = evil_token('hs256_rsa_pem');
$checked{hs256_rsa_pem}++;
($h) = passes($t, 'hs256_rsa_pem: a real HS256 token keyed with the PEM text',
              kid_keys => undef, key => $k->{rsa1}{public_pem_text});
is("$h->{alg} $h->{kid}", 'HS256 rsa1', 'hs256_rsa_pem: alg HS256, kid rsa1');
fails($t, qr/key type 'RSA' cannot be used with alg 'HS256'/,
      'hs256_rsa_pem: refused by kid from the JWK set');
fails($t, qr/not in accepted_alg/, 'hs256_rsa_pem: refused when only RS256 is allowed',
      accepted_alg => ['RS256']);

# claims
$t = evil_token('expired');
$checked{expired}++;
fails($t, qr/exp claim check failed/, 'expired: refused');
passes($t, 'expired: otherwise fine', verify_exp => 0);
fails($t, qr/exp claim check failed/, 'expired: beyond a leeway of 5 minutes',
      leeway => 300);

$t = evil_token('not_yet_valid');
$checked{not_yet_valid}++;
fails($t, qr/nbf claim check failed/, 'not_yet_valid: refused');
passes($t, 'not_yet_valid: otherwise fine', verify_nbf => 0);

$t = evil_token('wrong_issuer');
$checked{wrong_issuer}++;
fails($t, qr/iss claim .*check failed/, 'wrong_issuer: refused');
passes($t, 'wrong_issuer: otherwise fine', verify_iss => undef);

$t = evil_token('wrong_audience');
$checked{wrong_audience}++;
fails($t, qr/aud claim .*check failed/, 'wrong_audience: refused');
passes($t, 'wrong_audience: otherwise fine', verify_aud => undef);

# the signature
for my $alg (qw(RS256 ES256 EdDSA HS256)) {
    $t = evil_token('bad_signature', alg => $alg);
    fails($t, qr/invalid signature/, "bad_signature $alg: refused");
    passes($t, "bad_signature $alg: otherwise fine", ignore_signature => 1);
    is(length((jwt_parts($t))[2]), length((jwt_parts(make_token(alg => $alg)))[2]),
       "bad_signature $alg: the same length");
}
$checked{bad_signature}++;

$t = evil_token('unknown_kid');
$checked{unknown_kid}++;
is((decode_jwt(token => $t, key => $k->{rsa1}{public}, decode_header => 1))[0]{kid},
   'nokid', 'unknown_kid: kid nokid, signed by rsa1');
fails($t, qr/kid_keys lookup failed/, 'unknown_kid: refused');

# size
$t = evil_token('huge');
$checked{huge}++;
is(length $t, 16384, 'huge: 16384 characters');
passes($t, 'huge: otherwise fine');
for my $size (16383, 16385, 16386, 20000) {
    $t = evil_token('huge', size => $size);
    is(length $t, $size, "huge: $size characters");
    passes($t, "huge $size: otherwise fine");
}
is(length evil_token('huge', alg => 'ES256', size => 9000), 9000, 'huge: ES256 too');

# base64url
for my $part (qw(header payload signature)) {
    for my $kind (qw(b64_star b64_equals b64_padding)) {
        $t = evil_token($kind, part => $part);
        $checked{$kind}++;
        unlike($t, $strict_b64, "$kind $part: not base64url");
        (my $fixed = $t) =~ tr/*=//d;
        passes($fixed, "$kind $part: fine without the bad character");
        # Crypt::JWT allows '=' at the end of a part: it cannot see padding
        if ($kind eq 'b64_padding') {
            like($t, qr/[^=]=+(\.|\z)/, "$kind $part: '=' at the end of $part");
            is(length((split /\./, $t, -1)[{ header => 0, payload => 1,
                                              signature => 2 }->{$part}]) % 4,
               0, "$kind $part: padded to a multiple of 4");
        } else {
            fails($t, qr/invalid token format/, "$kind $part: refused");
        }
    }
}

# JSON
# the payload as it is: no claims can be checked
my @raw = (decode_payload => 0, verify_exp => 0, verify_iss => undef,
            verify_aud => undef);
$t = evil_token('header_not_json');
$checked{header_not_json}++;
($ht, $pt, $st) = jwt_parts($t);
ok(!eval { JSON::XS->new->decode($ht) }, 'header_not_json: not JSON');
like($ht, qr/^\{"alg":"RS256","kid":"rsa1","typ":"JWT"\z/,
     'header_not_json: the header less "}"');
ok($k->{rsa1}{public}->verify_message($st, signed_part($t), 'SHA256', 'v1.5'),
   'header_not_json: correctly signed');
fails($t, qr/invalid header part/, 'header_not_json: refused');

$t = evil_token('payload_not_json');
$checked{payload_not_json}++;
fails($t, qr/payload not a valid JSON/, 'payload_not_json: refused');
($h, $p) = passes($t, 'payload_not_json: signature fine', @raw);
ok(eval { JSON::XS->new->decode("$p}") }, 'payload_not_json: JSON with the "}"');

$t = evil_token('deep_json');
$checked{deep_json}++;
ok(length($t) > 26000 && length($t) < 28000,
   'deep_json: about 27 KB (' . length($t) . ')');
fails($t, qr/payload not a valid JSON/, 'deep_json: refused by a depth-limited parser');
($h, $p) = passes($t, 'deep_json: signature fine', @raw);
my $deep = eval { JSON::XS->new->max_depth(20000)->decode($p) };
ok($deep && $deep->{sub} eq 'alice' && ref $deep->{deep} eq 'ARRAY',
   'deep_json: valid JSON to a deep parser');
like($p, qr/"deep":\[{10000}\]{10000}/, 'deep_json: 10000 deep');
like((jwt_parts(evil_token('deep_json', depth => 600)))[1],
     qr/"deep":\[{600}\]{600}[,}]/,
     'deep_json: depth 600');

$t = evil_token('duplicate_claim');
$checked{duplicate_claim}++;
(undef, $pt) = jwt_parts($t);
like($pt, qr/^\{"sub":"a","sub":"b","aud":/,
     'duplicate_claim: {"sub":"a","sub":"b",...}');
($h, $p) = passes($t, 'duplicate_claim: correctly signed (Crypt::JWT takes the last)');
is($p->{sub}, 'b', 'duplicate_claim: sub b');
(undef, $pt) = jwt_parts(evil_token('duplicate_claim', claim => 'scope',
                                    values => ['tools:read', 'admin']));
like($pt, qr/"scope":"tools:read","scope":"admin"/, 'duplicate_claim: claim, values');
unlike($pt, qr/"scope":.*"scope":.*"scope":/, 'duplicate_claim: no third');

# crit: Crypt::JWT does not look at it, a verifier must
$t = evil_token('crit_exp');
$checked{crit_exp}++;
($h) = passes($t, 'crit_exp: otherwise fine');
is_deeply($h->{crit}, ['exp'], 'crit_exp: crit ["exp"]');

# ES256 with a DER signature
$t = evil_token('es256_der');
$checked{es256_der}++;
($ht, $pt, $st) = jwt_parts($t);
ok(length($st) >= 68 && length($st) <= 72 && substr($st, 0, 1) eq "\x30",
   'es256_der: a DER SEQUENCE, not 64 bytes');
ok($k->{ec256}{public}->verify_message($st, signed_part($t), 'SHA256'),
   'es256_der: a valid DER signature');
fails($t, qr/invalid signature/, 'es256_der: refused');

is_deeply([ sort keys %checked ], [ evil_kinds() ], 'every evil kind checked');

# ---------------------------------------------------------------------------
# API keys

my $key = random_api_key();
like($key, qr/^mk_[A-Za-z0-9_-]{43}\z/, 'random_api_key');
isnt(random_api_key(), $key, 'random_api_key: another one');
$path = api_keys_file("$dir/api-keys", [$key, 'alice', 'tools:read tools:call', 'acme'],
                      ['second', 'bob', ['a', 'b'], undef],
                      ['third', 'carol', undef, undef]);
my @lines = split /\n/, do { local (@ARGV, $/) = $path; <> };
is_deeply(\@lines, [
    'sha256:' . sha256_hex($key)
        . ' subject=alice scopes="tools:read tools:call" tenant=acme',
    'sha256:' . sha256_hex('second') . ' subject=bob scopes="a b"',
    'sha256:' . sha256_hex('third') . ' subject=carol',
], 'api_keys_file');
like($lines[0], qr/^sha256:[0-9a-f]{64} /, 'lowercase hex');

remove_tree($dir) if Test::More->builder->is_passing;
done_testing();
