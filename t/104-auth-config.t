#!/usr/bin/perl
# The authentication directives in the configuration: nginx -t names the
# file and the line of each mistake and fails for
#
#   * mcp_auth_jwt without mcp_auth_jwt_audience, or without a key source;
#   * key files that are missing, not JSON, hold only an RSA-1024 key (JWKS
#     and PEM), or only keys with "use":"enc"; PEM files of good keys pass;
#   * API key files with a bad line (the message gives the line number and
#     never the line's text: a pasted secret stays out of the output), or
#     the same key twice;
#   * mcp_auth_jwt_algorithms with an unknown name or "none";
#     mcp_auth_jwt_require error=500;
#   * mcp_protected_resource without authorization_servers=, naming an
#     unknown mcp_server, or with a quote or backslash in a scope of
#     scopes=;
#   * `scope` in an item block with a quote, a backslash, or no argument;
#
# and a full configuration with every directive passes.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MCP::Auth;

my $k = auth_keys();
my $emerg = qr/\[emerg\]/;

# key and API key files every case gets (relative to TESTDIR)
my $good_key = random_api_key();
my %files = (
    'keys/rsa1.json'   => jwks_json('rsa1'),
    'keys/set.json'    => jwks_json('rsa1', 'rsa2', 'ec256', 'ec384', 'ed1'),
    'keys/rsa1.pem'    => $k->{rsa1}{public_pem_text},
    'keys/ec256.pem'   => $k->{ec256}{public_pem_text},
    'keys/hs1.json'    => jwks_json('hs1'),
    'keys/weak.json'   => jwks_json('weak'),
    'keys/weak.pem'    => $k->{weak}{public_pem_text},
    'keys/enc.json'    => jwks_json({ key => 'rsa1', use => 'enc' },
                                    { key => 'ec256', use => 'enc' }),
    'keys/notjson.json' => '{"keys": [ {"kty": "RSA", "n": ',
    'keys/api.keys'    => sub {
        my ($dir) = @_;
        api_keys_file("$dir/keys/api.keys.tmp",
                      [$good_key, 'alice', 'tools:read', 'acme'],
                      [random_api_key(), 'bob', undef, undef]);
        local $/;
        open my $fh, '<', "$dir/keys/api.keys.tmp" or die;
        return "# the API keys of the test\n" . <$fh>;
    },
);

# the configuration around one location's auth lines, more http-level
# lines, and the items of the mcp_server; the line marked "#<-" is the one
# the error must name
sub conf {
    my (%o) = @_;
    my $loc = $o{loc} // <<'EOT';
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_file %%TESTDIR%%/keys/rsa1.json;
            mcp_auth_jwt_audience https://mcp.test/mcp;
EOT
    my $items = $o{items}
        // qq(        tool hello { description "Hello"; text "hi"; }\n);
    my $http = $o{http} // '';
    my $server = $o{server} // '';
    return <<"EOF";
load_module %%MODULE%%;
events { }
http {
    access_log off;
$http
    mcp_server shop {
$items
    }

    server {
        listen 127.0.0.1:%%PORT%%;
$server
        location = /mcp {
            mcp_pass shop;
$loc
        }
    }
}
EOF
}

sub marked_line {
    my ($conf) = @_;
    my @l = split /\n/, $conf;
    my @m = grep { $l[$_] =~ /#<-/ } 0 .. $#l;
    die "no single marker\n" unless @m == 1;
    return $m[0] + 1;
}

# nginx -t fails with $re; with a marker, naming that line
sub fails {
    my ($name, $conf, $re, %o) = @_;
    my %opt = (name => $name, files => { %files, %{ $o{files} || {} } });
    $opt{line} = marked_line($conf) if $conf =~ /#<-/;
    return nginx_t_fails($conf, $re, %opt);
}

sub passes {
    my ($name, $conf, %o) = @_;
    return nginx_t_ok($conf, name => $name,
                      files => { %files, %{ $o{files} || {} } });
}

# --- the frame is valid ----------------------------------------------------

passes('the base configuration is valid', conf());

# --- mcp_auth_jwt needs an audience and keys -------------------------------

fails('mcp_auth_jwt without mcp_auth_jwt_audience', conf(loc => <<'EOT'),
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_file %%TESTDIR%%/keys/rsa1.json;
EOT
      qr/$emerg.*"mcp_auth_jwt" needs "mcp_auth_jwt_audience"/);

fails('mcp_auth_jwt without a key file or key request', conf(loc => <<'EOT'),
            mcp_auth_jwt shop;
            mcp_auth_jwt_audience https://mcp.test/mcp;
EOT
      qr/$emerg.*"mcp_auth_jwt" needs "mcp_auth_jwt_key_file" or "mcp_auth_jwt_key_request"/);

fails('mcp_auth_jwt at server level without an audience',
      conf(server => <<'EOT', loc => ''),
        mcp_auth_jwt shop;
        mcp_auth_jwt_key_file %%TESTDIR%%/keys/rsa1.json;
EOT
      qr/$emerg.*needs "mcp_auth_jwt_audience"/);

passes('mcp_auth_jwt off needs nothing', conf(loc => <<'EOT'));
            mcp_auth_jwt off;
EOT

fails('a realm with a quote', conf(loc => <<'EOT'),
            mcp_auth_jwt 'sh"op'; #<-
            mcp_auth_jwt_key_file %%TESTDIR%%/keys/rsa1.json;
            mcp_auth_jwt_audience https://mcp.test/mcp;
EOT
      qr/$emerg.*invalid realm/);

fails('mcp_auth_jwt_key_request without a leading slash', conf(loc => <<'EOT'),
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_request _jwks; #<-
            mcp_auth_jwt_audience https://mcp.test/mcp;
EOT
      qr/$emerg.*"mcp_auth_jwt_key_request" directive needs a location URI/);

# --- key files ---------------------------------------------------------------

sub key_file_conf {
    my ($file) = @_;
    return conf(loc => <<"EOT");
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_file %%TESTDIR%%/keys/$file; #<-
            mcp_auth_jwt_audience https://mcp.test/mcp;
EOT
}

fails('a key file that is not there', key_file_conf('missing.json'),
      qr/$emerg.*open\(\) "[^"]*\/keys\/missing\.json" failed/);

fails('a key file that is not JSON', key_file_conf('notjson.json'),
      qr/$emerg.*invalid key file "[^"]*\/keys\/notjson\.json": invalid JSON/);

fails('a JWK set of an RSA-1024 key', key_file_conf('weak.json'),
      qr/$emerg.*invalid key file "[^"]*\/keys\/weak\.json": no usable key.*2048/);

# the reason must be the size: a good PEM key must not fail the same way
fails('a PEM RSA-1024 key', key_file_conf('weak.pem'),
      qr/$emerg.*invalid key file "[^"]*\/keys\/weak\.pem":.*2048/);

fails('a JWK set of "use":"enc" keys only', key_file_conf('enc.json'),
      qr/$emerg.*invalid key file "[^"]*\/keys\/enc\.json": no usable key/);

fails('an empty key file', key_file_conf('empty.json'),
      qr/$emerg.*invalid key file "[^"]*\/keys\/empty\.json"/,
      files => { 'keys/empty.json' => '' });

fails('a key file of "keys": {}', key_file_conf('keysobj.json'),
      qr/$emerg.*invalid key file "[^"]*\/keys\/keysobj\.json": "keys" is not an array/,
      files => { 'keys/keysobj.json' => '{"keys":{}}' });

# PEM public keys (SPKI), one or several in a file
passes('a PEM RSA-2048 key file', key_file_conf('rsa1.pem'));
passes('a PEM P-256 key file', key_file_conf('ec256.pem'));
passes('a PEM file of three keys (RSA, P-256, Ed25519)',
       key_file_conf('three.pem'),
       files => { 'keys/three.pem' => join '', map { $k->{$_}{public_pem_text} }
                                                qw(rsa1 ec256 ed1) });

# a set with one weak key among good ones: the good ones are used
passes('a set with an RSA-1024 key among good keys', conf(loc => <<'EOT'),
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_file %%TESTDIR%%/keys/mixed.json;
            mcp_auth_jwt_audience https://mcp.test/mcp;
EOT
       files => { 'keys/mixed.json' => jwks_json('weak', 'rsa1') });

# --- API key files -----------------------------------------------------------

sub api_conf {
    my ($file) = @_;
    return conf(loc => <<"EOT");
            mcp_auth_api_keys %%TESTDIR%%/keys/$file; #<-
EOT
}

{
    # a key pasted as it is instead of its hash, on line 3; the output must
    # have the line number and nothing of the line
    my $secret = 'mk_' . 'S3cr3tPastedByMistake' . 'x' x 22;
    my $good = 'sha256:' . ('ab' x 32) . ' subject=alice';
    my $out = fails('an API key file with a raw key on line 3', api_conf('bad1.keys'),
                    qr/$emerg.*invalid API key file "[^"]*\/keys\/bad1\.keys", line 3: /,
                    files => { 'keys/bad1.keys' =>
                               "# keys\n$good\n$secret subject=mallory\n" });
    unlike($out, qr/S3cr3tPasted|mallory/, '... the line is not quoted');

    # the hash is right, a field is unknown and holds a secret
    $out = fails('an API key file with an unknown field on line 2',
                 api_conf('bad2.keys'),
                 qr/$emerg.*invalid API key file "[^"]*\/keys\/bad2\.keys", line 2: /,
                 files => { 'keys/bad2.keys' => "$good\nsha256:" . ('cd' x 32)
                            . " subject=bob password=Hunter2TopSecret\n" });
    unlike($out, qr/Hunter2TopSecret|subject=bob/, '... the line is not quoted');

    # not hex
    $out = fails('an API key file with a hash that is not hex',
                 api_conf('bad3.keys'),
                 qr/$emerg.*invalid API key file "[^"]*\/keys\/bad3\.keys", line 1: /,
                 files => { 'keys/bad3.keys' => 'sha256:' . ('zq' x 32)
                            . " subject=carol\n" });
    unlike($out, qr/zqzq|carol/, '... the line is not quoted');

    # no subject
    $out = fails('an API key file with a line without subject=',
                 api_conf('bad4.keys'),
                 qr/$emerg.*invalid API key file "[^"]*\/keys\/bad4\.keys", line 2: .*subject/,
                 files => { 'keys/bad4.keys' => "$good\nsha256:" . ('ef' x 32)
                            . " tenant=Tenant7Secret\n" });
    unlike($out, qr/Tenant7Secret/, '... the line is not quoted');

    # an unclosed quote
    $out = fails('an API key file with a quote not closed',
                 api_conf('bad5.keys'),
                 qr/$emerg.*invalid API key file "[^"]*\/keys\/bad5\.keys", line 1: /,
                 files => { 'keys/bad5.keys' => 'sha256:' . ('01' x 32)
                            . qq{ subject=dave scopes="tools:read Quoted9Secret\n} });
    unlike($out, qr/Quoted9Secret|dave/, '... the line is not quoted');

    # the same key twice (lines 2 and 4)
    my $dup = 'sha256:' . ('42' x 32);
    $out = fails('an API key file with the same key twice', api_conf('dup.keys'),
                 qr/$emerg.*invalid API key file "[^"]*\/keys\/dup\.keys", line [24]: .*line [24]/,
                 files => { 'keys/dup.keys' => "# dup\n$dup subject=erin\n$good\n"
                            . "$dup subject=frank\n" });
    unlike($out, qr/4242|erin|frank/, '... no key or subject in the output');

    fails('an API key file that is not there', api_conf('missing.keys'),
          qr/$emerg.*open\(\) "[^"]*\/keys\/missing\.keys" failed/);

    passes('a good API key file', conf(loc => <<'EOT'));
            mcp_auth_api_keys %%TESTDIR%%/keys/api.keys;
EOT
}

# --- algorithms and requirements ---------------------------------------------

sub jwt_with {
    my ($line) = @_;
    return conf(loc => <<"EOT");
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_file %%TESTDIR%%/keys/rsa1.json;
            mcp_auth_jwt_audience https://mcp.test/mcp;
            $line #<-
EOT
}

fails('mcp_auth_jwt_algorithms with an unknown name',
      jwt_with('mcp_auth_jwt_algorithms RS256 RS999;'),
      qr/$emerg.*unknown algorithm "RS999"/);

fails('mcp_auth_jwt_algorithms none', jwt_with('mcp_auth_jwt_algorithms none;'),
      qr/$emerg.*unknown algorithm "none"/);

fails('mcp_auth_jwt_algorithms RS256 none',
      jwt_with('mcp_auth_jwt_algorithms RS256 none;'),
      qr/$emerg.*unknown algorithm "none"/);

fails('mcp_auth_jwt_algorithms with a lowercase name',
      jwt_with('mcp_auth_jwt_algorithms rs256;'),
      qr/$emerg.*unknown algorithm "rs256"/);

passes('mcp_auth_jwt_algorithms of known names',
       jwt_with('mcp_auth_jwt_algorithms RS256 PS256 ES256 ES384 EdDSA HS256;'));

fails('mcp_auth_jwt_require error=500',
      jwt_with('mcp_auth_jwt_require $mcp_claim_admin error=500;'),
      qr/$emerg.*invalid "error=500": error=401 or error=403 is expected/);

passes('mcp_auth_jwt_require error=403',
       jwt_with('mcp_auth_jwt_require $mcp_claim_admin error=403;'));

# --- mcp_protected_resource ---------------------------------------------------

sub prm_conf {
    my ($line, %o) = @_;
    return conf(%o, server => <<"EOT");
        location = /.well-known/oauth-protected-resource/mcp {
            $line #<-
        }
EOT
}

fails('mcp_protected_resource without authorization_servers=',
      prm_conf('mcp_protected_resource shop;'),
      qr/$emerg.*needs authorization_servers=/);

fails('mcp_protected_resource with scopes= but no authorization_servers=',
      prm_conf('mcp_protected_resource shop "scopes=tools:read";'),
      qr/$emerg.*needs authorization_servers=/);

fails('mcp_protected_resource with scopes="..." (the quote stays in the word)',
      prm_conf('mcp_protected_resource shop authorization_servers=https://id.test scopes="tools:read";'),
      qr/$emerg.*invalid scope/);

fails('mcp_protected_resource with an empty authorization_servers=',
      prm_conf('mcp_protected_resource shop authorization_servers=;'),
      qr/$emerg.*needs authorization_servers=/);

fails('mcp_protected_resource of an unknown server',
      prm_conf('mcp_protected_resource nosuch authorization_servers=https://id.test;'),
      qr/$emerg.*unknown mcp_server "nosuch"/);

fails('mcp_protected_resource with an unknown parameter',
      prm_conf('mcp_protected_resource shop authorization_servers=https://id.test'
               . ' bogus=1;'),
      qr/$emerg.*invalid parameter "bogus=1"/);

passes('mcp_protected_resource with authorization_servers=',
       prm_conf('mcp_protected_resource shop authorization_servers=https://id.test;'));

# scopes_supported lists scope tokens (RFC 6749 section 3.3), as the items'
# scope lines do: a quote or a backslash in one is refused
fails('mcp_protected_resource with a quote in a scope of scopes=',
      prm_conf(q{mcp_protected_resource shop authorization_servers=https://id.test}
               . q{ 'scopes=tools:read a"b';}),
      qr/$emerg.*scope/);

fails('mcp_protected_resource with a backslash in a scope of scopes=',
      prm_conf(q{mcp_protected_resource shop authorization_servers=https://id.test}
               . q{ 'scopes=a\\b';}),
      qr/$emerg.*scope/);

# scopes= with spaces: the whole parameter quoted, as nginx wants it
passes('mcp_protected_resource with "scopes=a b"',
       prm_conf('mcp_protected_resource shop authorization_servers=https://id.test'
                . ' "scopes=tools:read tools:call";'));

# --- scope in item blocks -------------------------------------------------------

sub scope_items {
    my ($line) = @_;
    return conf(items => <<"EOT");
        tool hello {
            description "Hello";
            text "hi";
            $line #<-
        }
EOT
}

fails('scope with a double quote', scope_items(q{scope 'a"b';}),
      qr/$emerg.*invalid scope "a"b" in tool "hello"/);

fails('scope with a backslash', scope_items(q{scope 'a\\\\b';}),
      qr/$emerg.*invalid scope "a\\b" in tool "hello"/);

fails('scope with a space inside', scope_items(q{scope "tools:read tools:call";}),
      qr/$emerg.*invalid scope "tools:read tools:call"/);

fails('scope without arguments', scope_items('scope;'),
      qr/$emerg.*invalid number of arguments in "scope"/);

fails('scope twice', conf(items => <<'EOT'),
        tool hello {
            description "Hello";
            text "hi";
            scope tools:read;
            scope tools:call; #<-
        }
EOT
      qr/$emerg.*duplicate "scope"/);

passes('scope with two tokens', scope_items('scope tools:read orders:read;'));

# --- everything at once -----------------------------------------------------------

passes('a full configuration', conf(
    http => <<'EOT',
    mcp_auth_jwt_issuer https://id.test;
    mcp_auth_jwt_leeway 30s;
EOT
    items => <<'EOT',
        tool hello { description "Hello"; text "hi"; scope tools:read; }
        tool order {
            description "An order";
            text "shipped";
            scope orders:read tools:call;
        }
        resource docs://readme { name readme; text "Read me"; scope docs:read; }
        prompt greet {
            description "Greets";
            message user "Hi";
            scope prompts:get;
        }
EOT
    server => <<'EOT',
        mcp_auth_jwt_audience https://mcp.test/mcp https://mcp.test/;
        location = /.well-known/oauth-protected-resource/mcp {
            mcp_protected_resource shop
                authorization_servers=https://id.test,https://id2.test
                "scopes=tools:read tools:call" resource=https://mcp.test/mcp;
        }
        location = /.well-known/oauth-protected-resource/keys {
            mcp_protected_resource shop authorization_servers=https://id.test;
        }
        location = /_jwks {
            internal;
            proxy_pass http://127.0.0.1:9/jwks.json;
            subrequest_output_buffer_size 64k;
        }
        location = /keys {
            mcp_pass shop;
            mcp_auth_api_keys %%TESTDIR%%/keys/api.keys;
            mcp_tenant $http_x_tenant;
        }
        location = /hs {
            mcp_pass shop;
            mcp_auth_jwt hs token=$arg_access_token;
            mcp_auth_jwt_key_file %%TESTDIR%%/keys/hs1.json;
            mcp_auth_jwt_algorithms HS256;
        }
EOT
    loc => <<'EOT',
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_file %%TESTDIR%%/keys/set.json;
            mcp_auth_jwt_key_file %%TESTDIR%%/keys/rsa1.json;
            mcp_auth_jwt_key_request /_jwks;
            mcp_auth_jwt_key_cache 10m;
            mcp_auth_jwt_algorithms RS256 PS256 ES256 ES384 EdDSA;
            mcp_auth_jwt_require $mcp_claim_email_verified error=403;
            mcp_auth_api_keys %%TESTDIR%%/keys/api.keys;
            mcp_tenant $mcp_claim_org;
            mcp_auth_forward on;
EOT
));

done_testing();
