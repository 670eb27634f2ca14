#!/usr/bin/perl
# Writes t/unit/jwt_vectors.h: keys (made here with the openssl CLI) and
# tokens (signed with Crypt::JWT) for t/unit/jwt_test.c.  The output is
# committed; run this again only to change the vectors, and then the seeds
# of the fuzz target "jwt" (t/fuzz/fuzz_jwt.c), which use the same keys:
#
#   perl t/unit/jwt_vectors.pl --seeds t/fuzz/jwt > t/unit/jwt_vectors.h

use strict;
use warnings;
use File::Temp qw(tempdir);
use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use Crypt::PK::ECC;
use Crypt::PK::Ed25519;
use MIME::Base64 qw(encode_base64url);
use JSON::PP;
use MIME::Base64 qw(decode_base64url);
use Getopt::Long;

my $seeds;
GetOptions('seeds=s' => \$seeds) or die "usage: $0 [--seeds DIR]\n";

my $dir = tempdir(CLEANUP => 1);

sub public_pem {
    my ($name, @args) = @_;
    my $pem = `openssl pkey -in $dir/$name.pem -pubout @args`;
    die "openssl pkey $name" if $? or !$pem;
    return $pem;
}

sub openssl_key {
    my ($name, @args) = @_;
    system("openssl genpkey -out $dir/$name.pem @args 2>/dev/null") == 0
        or die "openssl genpkey $name";
    open(my $fh, '<', "$dir/$name.pem") or die;
    local $/;
    return scalar <$fh>;
}

my $rsa  = Crypt::PK::RSA->new(\openssl_key('rsa', '-algorithm', 'RSA',
                               '-pkeyopt', 'rsa_keygen_bits:2048'));
my $rsa2 = Crypt::PK::RSA->new(\openssl_key('rsa2', '-algorithm', 'RSA',
                               '-pkeyopt', 'rsa_keygen_bits:2048'));
my $weak = Crypt::PK::RSA->new(\openssl_key('weak', '-algorithm', 'RSA',
                               '-pkeyopt', 'rsa_keygen_bits:1024'));
my $ec256 = Crypt::PK::ECC->new(\openssl_key('ec256', '-algorithm', 'EC',
                                '-pkeyopt', 'ec_paramgen_curve:P-256',
                                '-pkeyopt', 'ec_param_enc:named_curve'));
my $ec384 = Crypt::PK::ECC->new(\openssl_key('ec384', '-algorithm', 'EC',
                                '-pkeyopt', 'ec_paramgen_curve:P-384',
                                '-pkeyopt', 'ec_param_enc:named_curve'));
my $ed = Crypt::PK::Ed25519->new(\openssl_key('ed', '-algorithm',
                                 'ED25519'));

my $secret = join('', map { chr(int(rand(256))) } 1 .. 32);

my $json = JSON::PP->new->canonical;

sub jwk {
    my ($key, $kid, %more) = @_;
    my $h = $json->decode($key->export_key_jwk('public'));
    $h->{kid} = $kid if defined $kid;
    $h->{$_} = $more{$_} for keys %more;
    return $h;
}

my $jwks = $json->encode({ keys => [
    jwk($rsa, 'rsa-1', use => 'sig'),
    jwk($rsa2, 'rsa-1'),
    jwk($ec256, 'ec-256', alg => 'ES256'),
    jwk($ec384, 'ec-384'),
    jwk($ed, 'ed-1', key_ops => ['verify']),
    { kty => 'oct', kid => 'hs-1', k => encode_base64url($secret) },
] });

my $claims = {
    iss => 'https://issuer.example',
    aud => 'https://mcp.example.com/mcp',
    sub => 'user-1',
    exp => 4102444800,
    iat => 1700000000,
};

sub token {
    my ($alg, $key, $kid) = @_;
    return encode_jwt(payload => $claims, alg => $alg, key => $key,
                      extra_headers => { defined $kid ? (kid => $kid) : (),
                                         typ => 'JWT' });
}

my %c;

$c{JWKS} = $jwks;
$c{RSA_PEM} = public_pem('rsa');
$c{PEM_TWO} = public_pem('rsa') . public_pem('ec256');
$c{ED_PEM} = public_pem('ed');
$c{RSA_PKCS1_PEM} = `openssl rsa -in $dir/rsa.pem -RSAPublicKey_out 2>/dev/null`;
die "openssl rsa" if $? or !$c{RSA_PKCS1_PEM};
$c{JWK_RSA1024} = $json->encode(jwk($weak, 'weak'));
$c{JWK_EC_ALG_RS256} = $json->encode(jwk($ec256, 'x', alg => 'RS256'));
$c{JWK_RSA_E_EVEN} = $json->encode(jwk($rsa, 'even', e => 'AQAA'));
$c{JWK_RSA_E_ONE} = $json->encode(jwk($rsa, 'one', e => 'AQ'));

for my $alg (qw(RS256 RS384 RS512 PS256 PS384 PS512)) {
    $c{"T_$alg"} = token($alg, $rsa, 'rsa-1');
}

$c{T_RS256_NOKID} = token('RS256', $rsa);
$c{T_RS256_ROTATED} = token('RS256', $rsa2, 'rsa-1');
$c{T_RS256_UNKNOWN_KID} = token('RS256', $rsa, 'rsa-9');
$c{T_RS256_WEAK} = token('RS256', $weak);
$c{T_ES256} = token('ES256', $ec256, 'ec-256');
$c{T_ES256_NOKID} = token('ES256', $ec256);
$c{T_ES384} = token('ES384', $ec384, 'ec-384');
$c{T_EDDSA} = token('EdDSA', $ed, 'ed-1');
$c{T_EDDSA_NOKID} = token('EdDSA', $ed);
$c{T_HS256} = token('HS256', $secret, 'hs-1');

# key confusion: the RSA public key's PEM text as an HMAC secret
$c{T_HS256_CONFUSED} = token('HS256', $c{RSA_PEM}, 'rsa-1');
$c{T_HS256_CONFUSED_NOKID} = token('HS256', $c{RSA_PEM});

# a payload changed after signing
{
    my ($h, $p, $s) = split /\./, $c{T_RS256};
    my %t = (%$claims, sub => 'admin');
    $c{T_RS256_TAMPERED} = join('.', $h, encode_base64url($json->encode(\%t)),
                                $s);
}

# the seeds of fuzz_jwt.c: a mode byte, a key set, 0x00, a token (or, in
# mode bit 0, the decoded header, payload and signature, 0x00 between)

sub seed {
    my ($name, $mode, $keys, $token, $raw) = @_;
    my $t = $token;
    $t = join("\0", map { decode_base64url($_) } split /\./, $token)
        if $raw;
    open(my $fh, '>:raw', "$seeds/$name") or die "$seeds/$name: $!";
    print $fh chr($mode), $keys, "\0", $t;
    close $fh;
}

if ($seeds) {
    -d $seeds or mkdir $seeds or die "$seeds: $!";
    unlink glob("$seeds/*");
    seed('rs256-fixed', 0x00, '', $c{T_RS256});
    seed('es256-jwks', 0x00, $c{JWKS}, $c{T_ES256});
    seed('hs256-fixed', 0x02, '', $c{T_HS256});
    seed('ps256-pem-iss-aud', 0xc0, $c{PEM_TWO}, $c{T_PS256});
    seed('eddsa-raw-jwks', 0x01, $c{JWKS}, $c{T_EDDSA}, 1);
    seed('rs256-raw-iss-aud', 0xc1, '', $c{T_RS256_NOKID}, 1);
    seed('es384-raw-leeway', 0x3d, '', $c{T_ES384}, 1);
    seed('ec-jwk-alg', 0x00, $c{JWK_EC_ALG_RS256}, $c{T_ES256_NOKID});
    seed('eddsa-pem', 0x00, $c{ED_PEM}, $c{T_EDDSA_NOKID});
    seed('hs256-confused', 0x02, $c{RSA_PEM}, $c{T_HS256_CONFUSED_NOKID});
    seed('rs256-pkcs1', 0x40, $c{RSA_PKCS1_PEM}, $c{T_RS256_TAMPERED});
    seed('rsa1024', 0x00, $c{JWK_RSA1024}, $c{T_RS256_WEAK});
}

print <<'END';

/*
 * Copyright (C) ngx_http_mcp_module authors
 */


/* generated by t/unit/jwt_vectors.pl: keys and tokens for jwt_test.c */

END

for my $name (sort keys %c) {
    my $v = $c{$name};
    my @chunks;
    $v =~ s/\\/\\\\/g;
    $v =~ s/"/\\"/g;
    $v =~ s/\n/\\n/g;
    while (length $v) {
        my $piece = substr($v, 0, 68);
        # never cut an escape in two
        chop $piece while $piece =~ /(?<!\\)(\\\\)*\\$/;
        substr($v, 0, length $piece, '');
        push @chunks, $piece;
    }
    print "#define JWT_V_$name \\\n";
    print join(" \\\n", map { "    \"$_\"" } @chunks), "\n\n";
}

print "#define JWT_V_SECRET_LEN  32\n";
