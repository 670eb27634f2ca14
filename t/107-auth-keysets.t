#!/usr/bin/perl
# Key sets fetched by subrequests, from a review: a set served by a static
# file or through proxy_cache (file buffers, not memory) is read; two
# servers that both name /_jwks get their own identity provider's keys,
# never each other's; a reload starts with new slots and fetches again.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MCP::Auth;
use Time::HiRes qw(sleep);

my $keys = auth_keys();

my %files = (
    'idp-a/jwks.json' => jwks_json('rsa1'),
    'idp-b/jwks.json' => jwks_json('rsa2'),
);

start_nginx(<<'EOF2', files => \%files);
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 256; }
http {
    access_log off;
    proxy_cache_path %%TESTDIR%%/cache keys_zone=jwks:1m;

    # two identity providers
    server {
        listen 127.0.0.1:%%PORT_2%%;
        root %%TESTDIR%%/idp-a;
    }
    server {
        listen 127.0.0.1:%%PORT_3%%;
        root %%TESTDIR%%/idp-b;
    }

    mcp_server shop {
        tool hello { description "Hello"; text "hi"; }
    }

    # server A: its /_jwks is IdP A's set, through proxy_cache
    server {
        listen 127.0.0.1:%%PORT%%;
        mcp_auth_jwt_issuer https://a.test;
        mcp_auth_jwt_audience https://a.test/mcp;

        location = /mcp {
            mcp_pass shop;
            mcp_auth_jwt a;
            mcp_auth_jwt_key_request /_jwks;
        }
        location = /static {
            mcp_pass shop;
            mcp_auth_jwt a;
            mcp_auth_jwt_key_request /_jwks_file;
        }
        location = /_jwks {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_2%%/jwks.json;
            proxy_cache jwks;
            proxy_cache_valid 200 1m;
        }
        location = /_jwks_file {
            internal;
            alias %%TESTDIR%%/idp-a/jwks.json;
        }
    }

    # server B: the same names, IdP B's set
    server {
        listen 127.0.0.1:%%PORT_1%%;
        mcp_auth_jwt_issuer https://b.test;
        mcp_auth_jwt_audience https://b.test/mcp;

        location = /mcp {
            mcp_pass shop;
            mcp_auth_jwt b;
            mcp_auth_jwt_key_request /_jwks;
        }
        location = /_jwks {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_3%%/jwks.json;
        }
    }
}
EOF2

my ($pa, $pb) = (port(0), port(1));

sub list {
    my ($port, $path, $token) = @_;
    return modern_post('tools/list', {}, path => $path, headers => [
        -port => $port, Authorization => "Bearer $token" ]);
}

my $ta = make_token(kid => 'rsa1', claims => { iss => 'https://a.test', aud => 'https://a.test/mcp' });
my $tb = make_token(kid => 'rsa2', key => $keys->{rsa2}{private},
                    claims => { iss => 'https://b.test', aud => 'https://b.test/mcp' });

# IdP A's key signing a token that claims to be B's
my $forged = make_token(kid => 'rsa1', claims => { iss => 'https://b.test', aud => 'https://b.test/mcp' });

is(list($pa, '/mcp', $ta)->{status}, 200, 'A: its token, keys through proxy_cache (a MISS)');
is(list($pa, '/mcp', make_token(kid => 'rsa1', claims => { iss => 'https://a.test',
        aud => 'https://a.test/mcp', sub => 'x' }))->{status}, 200, 'A: a second token');
is(list($pa, '/static', $ta)->{status}, 200, 'A: keys from a static file (alias)');

is(list($pb, '/mcp', $tb)->{status}, 200, 'B: its token');
is(list($pb, '/mcp', $forged)->{status}, 401,
   "B: a token signed by A's identity provider is refused, though A fetched /_jwks first");
is(list($pa, '/mcp', $tb)->{status}, 401, "A: B's token is refused");
is(list($pa, '/mcp', $ta)->{status}, 200, 'A: its own still passes');

unlike(error_log_text(), qr/could not be fetched/, 'every fetch succeeded');

# a reload: new slots, fetched again, the same answers
{
    my $pid = do { local (@ARGV, $/) = (testdir() . '/nginx.pid'); <> };
    chomp $pid;
    kill 'HUP', $pid;
    my $ok = 0;
    for (1 .. 50) {
        sleep 0.1;
        $ok = (list($pb, '/mcp', $tb)->{status} == 200
               && list($pb, '/mcp', $forged)->{status} == 401
               && list($pa, '/mcp', $ta)->{status} == 200);
        last if $ok && error_log_text() =~ /reconfiguring/;
    }
    ok($ok, 'after a reload: the same answers');
}

stop_nginx();

done_testing();
