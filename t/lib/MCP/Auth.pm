package MCP::Auth;

# Keys, tokens and API-key files for the authentication tests: JWTs that
# are right, and JWTs that are wrong in exactly one way.  No nginx here;
# load MCP::Test for that.
#
#   use MCP::Auth;
#
#   my $k = auth_keys($dir);   # key pairs made once into $dir (default
#                              # t/tmp/auth-keys), reused by later runs
#   $k->{rsa1}{public_pem};    # path of a PEM public key (SPKI)
#   $k->{hs1}{secret};         # the raw HMAC secret (32 bytes)
#
#   write_jwks("$dir/jwks.json", 'rsa1', 'ec256');     # public keys only
#   my $t = make_token(alg => 'ES256', claims => { scope => 'tools:call' });
#   my $e = evil_token('expired');                     # see %EVIL below
#
#   api_keys_file("$dir/keys", [$key, 'alice', 'tools:read', 'acme']);
#
# Keys (kid => what), each with its alg for make_token's default:
#
#   rsa1   RSA 2048, RS256 (also RS384, RS512, PS256, PS384, PS512)
#   rsa2   RSA 2048, a second key for rotation
#   weak   RSA 1024, too small
#   ec256  EC P-256, ES256
#   ec384  EC P-384, ES384
#   ed1    Ed25519, EdDSA
#   hs1    32 random bytes, HS256 (also HS384, HS512)
#
# auth_keys() returns { kid => {...} } with, for every kid: kid, kty ("RSA",
# "EC", "OKP", "oct"), alg, jwk (the public JWK: kty, kid, use "sig" and the
# key members; no alg); for the key pairs also private and public (Crypt::PK
# objects, usable as encode_jwt/decode_jwt keys), private_pem and
# public_pem (paths: PKCS#8 and SPKI PEM, made by the openssl CLI, named
# curves) and public_pem_text; for hs1 secret (the bytes) and secret_file
# (a file holding just those bytes).  The keys are made by openssl under a
# lock on $dir/.lock, so test files running at the same time share them.
#
# Exported:
#
#   auth_keys($dir)                 as above; later calls return the same;
#                                   the other subs use the keys of the
#                                   last call (call it first)
#   jwks_json(@kids)                a JWK set (text) of the public keys: each
#                                   argument is a kid, or a hashref
#                                   { key => KID, alg => 'RS256', ... }: the
#                                   JWK of KID (default: the hashref's kid)
#                                   with the other members set over it, an
#                                   undef value removing one (use => undef)
#   write_jwks($path, @kids)        jwks_json into a file; returns $path
#   make_token(%opt)                a signed JWT (compact), see below
#   raw_token($header_text, $payload_text, %opt)
#                                   a JWT of exactly these header and payload
#                                   bytes, signed per alg/kid/key as in
#                                   make_token (alg "none": no signature)
#   evil_token($kind, %opt)         a JWT with one fault, see %EVIL below
#   evil_kinds()                    the names of all the kinds
#   jwt_parts($token)               (header bytes, payload bytes, signature
#                                   bytes) decoded from a compact JWT
#   b64url($bytes), unb64url($text) base64url without padding, and back
#   api_keys_file($path, [$key, $subject, $scopes, $tenant], ...)
#                                   one line per key, returns $path:
#                 sha256:HEX subject=NAME scopes="a b" tenant=T
#                                   (HEX: lowercase hex SHA-256 of the key;
#                                   scopes a string or an arrayref; scopes=
#                                   and tenant= left out when undef)
#   random_api_key()                "mk_" and 43 base64url characters
#
# make_token(%opt):
#
#   alg      default RS256
#   kid      default the kid of the alg's key (table above); undef: no kid
#            header; a kid auth_keys does not know: the alg's default key
#            signs
#   key      the signing key (a Crypt::PK object or the HMAC secret bytes);
#            default the kid's key
#   claims   hashref over the defaults: iss "https://id.test", aud
#            "https://mcp.test/mcp", sub "alice", exp now+600, iat now,
#            scope "tools:read"; an undef value removes the claim
#   header   hashref of more header members (typ is "JWT" unless given;
#            an undef value removes a member)
#
# Every evil token starts from what make_token(%opt) would make and changes
# one thing, so that one check is what rejects it; the same %opt as for
# make_token apply, and a few of the kind's own (details at %EVIL):
#
#   alg_none          header {"alg":"none"}, empty signature (alg, header)
#   hs256_rsa_pem     HS256, kid rsa1, HMAC key = rsa1's public PEM text
#   expired           exp an hour ago
#   not_yet_valid     nbf an hour ahead
#   wrong_issuer      iss https://evil.test
#   wrong_audience    aud https://other.test/mcp
#   bad_signature     one bit of the signature flipped
#   unknown_kid       kid "nokid" (kid)
#   huge              exactly 16384 characters (size)
#   b64_star          a '*' inside the payload (part: header, signature)
#   b64_equals        a '=' inside the payload (part)
#   b64_padding       '=' padding after the payload (part)
#   header_not_json   the header's JSON without its final "}", signed
#   payload_not_json  the payload's JSON without its final "}", signed
#   deep_json         a claim of 10000 nested arrays (depth), signed
#   duplicate_claim   {"sub":"a","sub":"b",...} signed (claim, values)
#   crit_exp          header crit: ["exp"]
#   es256_der         ES256 with a DER signature instead of r||s
#
# Token sizes matter to nginx: "huge" (16 KB) and "deep_json" (about 27 KB)
# need large_client_header_buffers above the default 8k, or nginx answers
# 400 (Request Header Or Cookie Too Large) before the module sees them.
#
# Written for this project; uses Perl core modules, JSON::XS, Crypt::JWT
# and CryptX (Debian's libcrypt-jwt-perl), and the openssl command.

use strict;
use warnings;

use Exporter qw(import);
use Carp qw(croak);
use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use Fcntl qw(:flock);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use MIME::Base64 qw(encode_base64url decode_base64url);
use JSON::XS;
use Crypt::JWT qw(encode_jwt);
use Crypt::PK::RSA;
use Crypt::PK::ECC;
use Crypt::PK::Ed25519;
use Crypt::Mac::HMAC qw(hmac);
use Crypt::PRNG qw(random_bytes);

our @EXPORT = qw(
    auth_keys jwks_json write_jwks
    make_token raw_token evil_token evil_kinds jwt_parts b64url unb64url
    api_keys_file random_api_key
);

my $TOP = abs_path(File::Spec->catdir(dirname(__FILE__), '..', '..', '..'));

# canonical: the same claims give the same bytes, so sizes are predictable
my $JSON = JSON::XS->new->utf8->canonical->allow_nonref;

# the keys: kid => [kty, alg, openssl genpkey arguments]
my %SPEC = (
    rsa1  => ['RSA', 'RS256', '-algorithm RSA -pkeyopt rsa_keygen_bits:2048'],
    rsa2  => ['RSA', 'RS256', '-algorithm RSA -pkeyopt rsa_keygen_bits:2048'],
    weak  => ['RSA', 'RS256', '-algorithm RSA -pkeyopt rsa_keygen_bits:1024'],
    ec256 => ['EC', 'ES256', '-algorithm EC -pkeyopt ec_paramgen_curve:P-256'
                             . ' -pkeyopt ec_param_enc:named_curve'],
    ec384 => ['EC', 'ES384', '-algorithm EC -pkeyopt ec_paramgen_curve:P-384'
                             . ' -pkeyopt ec_param_enc:named_curve'],
    ed1   => ['OKP', 'EdDSA', '-algorithm ED25519'],
    hs1   => ['oct', 'HS256'],
);

my %CLASS = (RSA => 'Crypt::PK::RSA', EC => 'Crypt::PK::ECC',
             OKP => 'Crypt::PK::Ed25519');

# the kid whose key make_token uses for an alg
sub _default_kid {
    my ($alg) = @_;
    return 'rsa1'  if $alg =~ /^(RS|PS)(256|384|512)$/;
    return 'ec256' if $alg eq 'ES256';
    return 'ec384' if $alg eq 'ES384';
    return 'ed1'   if $alg eq 'EdDSA';
    return 'hs1'   if $alg =~ /^HS(256|384|512)$/;
    croak "MCP::Auth: no key for alg $alg";
}

my %loaded;                   # dir => the hashref auth_keys returned
my $KEYS;                     # the last one: what the other subs use

sub b64url { return encode_base64url($_[0]) }

sub unb64url { return decode_base64url($_[0]) }

sub _read {
    my ($path) = @_;
    open my $fh, '<:raw', $path or croak "MCP::Auth: $path: $!";
    local $/;
    my $s = <$fh>;
    close $fh;
    return $s;
}

# writes a file whole or not at all: a temporary name, then rename
sub _write {
    my ($path, $content, $mode) = @_;
    my $tmp = "$path.tmp$$";
    open my $fh, '>:raw', $tmp or croak "MCP::Auth: $tmp: $!";
    print $fh $content;
    close $fh or croak "MCP::Auth: $tmp: $!";
    chmod $mode, $tmp if defined $mode;
    rename $tmp, $path or croak "MCP::Auth: $path: $!";
}

sub _openssl {
    my ($args) = @_;
    my $out = `openssl $args 2>&1`;
    croak "MCP::Auth: openssl $args: $out" if $?;
}

# ---------------------------------------------------------------------------
# keys

sub auth_keys {
    my ($dir) = @_;
    $dir //= "$TOP/t/tmp/auth-keys";
    $dir = File::Spec->rel2abs($dir);
    return $KEYS = $loaded{$dir} if $loaded{$dir};

    make_path($dir);
    # nginx workers may run as nobody and read the key files
    chmod 0755, $dir;

    # one maker at a time; whoever comes second finds the files there
    open my $lock, '>', "$dir/.lock" or croak "MCP::Auth: $dir/.lock: $!";
    flock $lock, LOCK_EX or croak "MCP::Auth: flock: $!";

    my %keys;
    for my $kid (sort keys %SPEC) {
        my ($kty, $alg, $gen) = @{ $SPEC{$kid} };
        my $k = { kid => $kid, kty => $kty, alg => $alg };

        if ($kty eq 'oct') {
            my $file = "$dir/$kid.secret";
            _write($file, random_bytes(32), 0644) unless -s $file;
            $k->{secret} = _read($file);
            $k->{secret_file} = $file;
            croak "MCP::Auth: $file is not 32 bytes"
                unless length $k->{secret} == 32;
            $k->{jwk} = { kty => 'oct', kid => $kid, use => 'sig',
                          k => b64url($k->{secret}) };

        } else {
            my $priv = "$dir/$kid.key.pem";
            my $pub = "$dir/$kid.pub.pem";
            unless (-s $priv) {
                _openssl("genpkey $gen -out '$priv.tmp$$'");
                chmod 0644, "$priv.tmp$$";
                rename "$priv.tmp$$", $priv or croak "MCP::Auth: $priv: $!";
                unlink $pub;
            }
            unless (-s $pub) {
                _openssl("pkey -in '$priv' -pubout -out '$pub.tmp$$'");
                chmod 0644, "$pub.tmp$$";
                rename "$pub.tmp$$", $pub or croak "MCP::Auth: $pub: $!";
            }
            my $class = $CLASS{$kty};
            $k->{private} = $class->new($priv);
            $k->{public} = $class->new($pub);
            $k->{private_pem} = $priv;
            $k->{public_pem} = $pub;
            $k->{public_pem_text} = _read($pub);
            $k->{jwk} = { %{ $k->{public}->export_key_jwk('public', 1) },
                          kid => $kid, use => 'sig' };
        }
        $keys{$kid} = $k;
    }

    close $lock;
    return $KEYS = $loaded{$dir} = \%keys;
}

sub _keys {
    return $KEYS || croak 'MCP::Auth: call auth_keys() first';
}

# the JWK of each argument: a kid or { key => KID, member => value, ... }
sub jwks_json {
    my (@kids) = @_;
    my $keys = _keys();
    my @set;
    for my $a (@kids) {
        my %over = ref $a ? %$a : (kid => $a);
        my $from = delete $over{key} // $over{kid};
        my $k = $keys->{$from} or croak "MCP::Auth: no key $from";
        my %jwk = %{ $k->{jwk} };
        for (keys %over) {
            if (defined $over{$_}) { $jwk{$_} = $over{$_} }
            else { delete $jwk{$_} }
        }
        push @set, \%jwk;
    }
    return $JSON->encode({ keys => \@set });
}

sub write_jwks {
    my ($path, @kids) = @_;
    make_path(dirname($path));
    _write($path, jwks_json(@kids), 0644);
    return $path;
}

# ---------------------------------------------------------------------------
# tokens

# the claims of a token: the defaults with opt{claims} over them
sub _claims {
    my (%opt) = @_;
    my $now = time;
    my %c = (iss => 'https://id.test', aud => 'https://mcp.test/mcp',
             sub => 'alice', exp => $now + 600, iat => $now,
             scope => 'tools:read');
    my $over = $opt{claims} || {};
    for (keys %$over) {
        if (defined $over->{$_}) { $c{$_} = $over->{$_} }
        else { delete $c{$_} }
    }
    return \%c;
}

# (alg, header without alg, signing key) from make_token's options
sub _signing {
    my (%opt) = @_;
    my $keys = _keys();
    my $alg = $opt{alg} // 'RS256';
    my $kid = exists $opt{kid} ? $opt{kid} : _default_kid($alg);

    my %h = (typ => 'JWT');
    $h{kid} = $kid if defined $kid;
    my $more = $opt{header} || {};
    for (keys %$more) {
        if (defined $more->{$_}) { $h{$_} = $more->{$_} }
        else { delete $h{$_} }
    }

    my $key = $opt{key};
    if (!defined $key && $alg ne 'none') {
        my $k = defined $kid && $keys->{$kid} ? $keys->{$kid}
                                              : $keys->{ _default_kid($alg) };
        $key = $k->{kty} eq 'oct' ? $k->{secret} : $k->{private};
    }
    return ($alg, \%h, $key);
}

sub make_token {
    my (%opt) = @_;
    my ($alg, $header, $key) = _signing(%opt);
    return encode_jwt(payload => _claims(%opt), alg => $alg, key => $key,
                      extra_headers => $header, allow_none => 1);
}

# the JWS signature of $data (bytes, not yet base64url)
sub _sign {
    my ($alg, $key, $data) = @_;
    return '' if $alg eq 'none';
    return hmac("SHA$1", $key, $data) if $alg =~ /^HS(256|384|512)$/;
    return $key->sign_message($data, "SHA$1", 'v1.5')
        if $alg =~ /^RS(256|384|512)$/;
    return $key->sign_message($data, "SHA$1", 'pss', $1 / 8)
        if $alg =~ /^PS(256|384|512)$/;
    return $key->sign_message_rfc7518($data, "SHA$1")
        if $alg =~ /^ES(256|384|512)$/;
    return $key->sign_message($data) if $alg eq 'EdDSA';
    croak "MCP::Auth: cannot sign with alg $alg";
}

sub raw_token {
    my ($header_text, $payload_text, %opt) = @_;
    my ($alg, undef, $key) = _signing(%opt);
    my $data = b64url($header_text) . '.' . b64url($payload_text);
    return "$data." . b64url(_sign($alg, $key, $data));
}

sub jwt_parts {
    my ($token) = @_;
    my @p = split /\./, $token, -1;
    croak 'MCP::Auth: not three parts' unless @p == 3;
    return map { unb64url($_) } @p;
}

# the header and payload texts make_token(%opt) would sign, canonical JSON
sub _texts {
    my (%opt) = @_;
    my ($alg, $header) = _signing(%opt);
    return ($JSON->encode({ %$header, alg => $alg }),
            $JSON->encode(_claims(%opt)));
}

# length of the base64url text (no padding) of $n bytes
sub _b64len { my ($n) = @_; return int((4 * $n + 2) / 3) }

# a character put into the middle (or, for '=' padding, at the end) of one
# part of a token
sub _spoil_part {
    my ($token, $part, $char, $at_end) = @_;
    my %index = (header => 0, payload => 1, signature => 2);
    my $i = $index{$part // 'payload'};
    croak "MCP::Auth: no part $part" unless defined $i;
    my @p = split /\./, $token, -1;
    if ($at_end) { $p[$i] .= $char }
    else { substr($p[$i], int(length($p[$i]) / 2), 0) = $char }
    return join '.', @p;
}

# The kinds: kind => sub (%opt) returning the token.  What each differs in
# from make_token(%opt):
my %EVIL = (

    # header exactly {"alg":"none"} (opt header adds members, opt alg
    # changes the spelling: "None", "NONE"), the same claims, and an empty
    # signature: "HEADER.PAYLOAD."
    alg_none => sub {
        my (%opt) = @_;
        my %h = (alg => $opt{alg} // 'none', %{ $opt{header} || {} });
        return b64url($JSON->encode(\%h)) . '.'
            . b64url($JSON->encode(_claims(%opt))) . '.';
    },

    # key confusion: alg HS256, kid rsa1 (opt kid), and the HMAC key is the
    # text of that kid's public PEM file (a verifier that feeds its RSA key
    # material to HMAC accepts it)
    hs256_rsa_pem => sub {
        my (%opt) = @_;
        my $kid = exists $opt{kid} ? $opt{kid} : 'rsa1';
        my $pem = _keys()->{ $kid // 'rsa1' }{public_pem_text};
        return make_token(%opt, alg => 'HS256', kid => $kid, key => $pem);
    },

    # exp an hour ago (iat two hours ago): beyond any leeway
    expired => sub {
        my (%opt) = @_;
        return make_token(%opt, claims => { exp => time - 3600,
                                            iat => time - 7200,
                                            %{ $opt{claims} || {} } });
    },

    # nbf an hour ahead
    not_yet_valid => sub {
        my (%opt) = @_;
        return make_token(%opt, claims => { nbf => time + 3600,
                                            %{ $opt{claims} || {} } });
    },

    wrong_issuer => sub {
        my (%opt) = @_;
        return make_token(%opt, claims => { iss => 'https://evil.test',
                                            %{ $opt{claims} || {} } });
    },

    wrong_audience => sub {
        my (%opt) = @_;
        return make_token(%opt, claims => { aud => 'https://other.test/mcp',
                                            %{ $opt{claims} || {} } });
    },

    # one bit of the middle byte of the signature flipped; the signature
    # keeps its length
    bad_signature => sub {
        my (%opt) = @_;
        my ($h, $p, $s) = split /\./, make_token(%opt);
        my $sig = unb64url($s);
        my $i = int(length($sig) / 2);
        substr($sig, $i, 1) = chr(ord(substr($sig, $i, 1)) ^ 0x01);
        return "$h.$p." . b64url($sig);
    },

    # kid "nokid" (opt kid), signed with the alg's usual key
    unknown_kid => sub {
        my (%opt) = @_;
        return make_token(%opt, kid => $opt{kid} // 'nokid');
    },

    # exactly opt size (default 16384) characters, by a claim "pad" of x's;
    # when the size cannot be reached by the payload alone (a base64url text
    # is never 4n+1 long) the header gets a member "pad" too
    huge => sub {
        my (%opt) = @_;
        my $size = $opt{size} // 16384;
        my ($alg, undef, $key) = _signing(%opt);
        my $siglen = _b64len(length _sign($alg, $key, 'x'));
        for my $hpad (undef, '', 'x', 'xx', 'xxx') {
            my %o = (%opt, claims => { %{ $opt{claims} || {} }, pad => '' });
            $o{header} = { %{ $opt{header} || {} }, pad => $hpad }
                if defined $hpad;
            my ($h, $p) = _texts(%o);
            my $want = $size - _b64len(length $h) - $siglen - 2;
            next if $want % 4 == 1 || $want < _b64len(length $p);
            my $n = int(3 * $want / 4);    # bytes of that base64url length
            $p =~ s/"pad":""/'"pad":"' . ('x' x ($n - length $p)) . '"'/e;
            return raw_token($h, $p, %o);
        }
        croak "MCP::Auth: no token of $size characters";
    },

    # a '*' in the middle of opt part (header, payload (default),
    # signature)
    b64_star => sub {
        my (%opt) = @_;
        return _spoil_part(make_token(%opt), $opt{part}, '*');
    },

    # a '=' in the middle of opt part
    b64_equals => sub {
        my (%opt) = @_;
        return _spoil_part(make_token(%opt), $opt{part}, '=');
    },

    # '=' padding after opt part, as standard base64 would have it (a claim
    # "jti" is added when the payload needs none); lenient decoders,
    # Crypt::JWT among them, accept it
    b64_padding => sub {
        my (%opt) = @_;
        my $part = $opt{part} // 'payload';
        my %index = (header => 0, payload => 1, signature => 2);
        my ($token, $len);
        my $jti = '';
        for (1 .. 4) {
            my %o = %opt;
            $o{claims} = { %{ $opt{claims} || {} }, jti => $jti }
                if length $jti;
            $token = make_token(%o);
            $len = length((split /\./, $token)[ $index{$part} ]);
            last if $len % 4;
            $jti .= 'j';
        }
        croak "MCP::Auth: $part needs no padding" unless $len % 4;
        return _spoil_part($token, $part, '=' x (4 - $len % 4), 1);
    },

    # the header's JSON text without its closing brace, correctly signed
    header_not_json => sub {
        my (%opt) = @_;
        my ($h, $p) = _texts(%opt);
        $h =~ s/\}\z//;
        return raw_token($h, $p, %opt);
    },

    # the payload's JSON text without its closing brace, correctly signed
    payload_not_json => sub {
        my (%opt) = @_;
        my ($h, $p) = _texts(%opt);
        $p =~ s/\}\z//;
        return raw_token($h, $p, %opt);
    },

    # a claim "deep" of opt depth (default 10000) nested arrays: valid JSON
    # nested depth+1 deep; at depth 10000 the token is about 27 KB
    deep_json => sub {
        my (%opt) = @_;
        my $depth = $opt{depth} // 10000;
        my ($h, $p) = _texts(%opt, claims => { %{ $opt{claims} || {} },
                                               deep => 0 });
        $p =~ s/"deep":0/'"deep":' . ('[' x $depth) . (']' x $depth)/e;
        return raw_token($h, $p, %opt);
    },

    # the claim opt claim (default sub) twice, with the values opt values
    # (default ["a", "b"]), correctly signed: {"sub":"a","sub":"b",...}
    duplicate_claim => sub {
        my (%opt) = @_;
        my $name = $opt{claim} // 'sub';
        my $values = $opt{values} // ['a', 'b'];
        my ($h, $p) = _texts(%opt, claims => { %{ $opt{claims} || {} },
                                               $name => undef });
        my $key = $JSON->encode($name);
        my $dup = join ',', map { "$key:" . $JSON->encode($_) } @$values;
        $p =~ s/^\{/{$dup,/;
        $p =~ s/,\}\z/}/;
        return raw_token($h, $p, %opt);
    },

    # a header member crit: ["exp"] (a claim, not a header parameter, and
    # not in the header: a verifier must reject it)
    crit_exp => sub {
        my (%opt) = @_;
        return make_token(%opt, header => { crit => ['exp'],
                                            %{ $opt{header} || {} } });
    },

    # ES256 (key ec256) signed with an ASN.1 DER signature instead of the
    # 64 bytes r||s that JWS wants
    es256_der => sub {
        my (%opt) = @_;
        my %o = (kid => 'ec256', %opt, alg => 'ES256');
        my ($h, $p) = _texts(%o);
        my (undef, undef, $key) = _signing(%o);
        my $data = b64url($h) . '.' . b64url($p);
        return "$data." . b64url($key->sign_message($data, 'SHA256'));
    },
);

sub evil_kinds { return sort keys %EVIL }

sub evil_token {
    my ($kind, %opt) = @_;
    my $make = $EVIL{$kind} or croak "MCP::Auth: no evil token $kind";
    return $make->(%opt);
}

# ---------------------------------------------------------------------------
# API keys

sub random_api_key { return 'mk_' . b64url(random_bytes(32)) }

sub api_keys_file {
    my ($path, @entries) = @_;
    my $text = '';
    for my $e (@entries) {
        my ($key, $subject, $scopes, $tenant) = @$e;
        $scopes = join ' ', @$scopes if ref $scopes;
        $text .= 'sha256:' . sha256_hex($key) . " subject=$subject";
        $text .= qq{ scopes="$scopes"} if defined $scopes;
        $text .= " tenant=$tenant" if defined $tenant;
        $text .= "\n";
    }
    make_path(dirname($path));
    _write($path, $text, 0644);
    return $path;
}

1;
