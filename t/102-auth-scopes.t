#!/usr/bin/perl
# Authorization after authentication: `scope` lines of items (lists show a
# caller what it may use; using anything else is 403 with the step-up
# challenge, in both eras, for tools, resources, templates, prompts and
# completion), API keys (header or bearer, constant-time lookup, never
# logged), the caller carried to `pass` locations instead of the client's
# credentials, sessions bound to the principal that created them, and the
# RFC 9728 metadata document.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MCP::Auth;

my $keys = auth_keys();
my $jwks = jwks_json(qw(rsa1));

my $key_alice = random_api_key();
my $key_bob = random_api_key();
my $key_ops = random_api_key();
my $keyfile = api_keys_file("$FindBin::Bin/tmp/102-api-keys",
                            [ $key_alice, 'alice', 'tools:read', 'acme' ],
                            [ $key_bob, 'bob', undef, undef ],
                            [ $key_ops, 'ops', 'orders:write admin prompts:use', 'acme' ]);

my $keytext = do { local (@ARGV, $/) = ($keyfile); <> };

my %files = ('keys/jwks.json' => $jwks, 'keys/api-keys' => $keytext);

start_nginx(<<'EOF', files => \%files);
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;
    large_client_header_buffers 4 32k;

    mcp_server shop {
        title "The shop";
        tool hello { description "Hello"; text "hi"; }
        tool refund {
            description "Refund an order";
            scope orders:write;
            text "refunded";
        }
        tool whoami { description "Who calls"; pass /who; }
        resource "shop://public" { name public; text "for all"; }
        resource "shop://secret" { name secret; scope admin; text "secret"; }
        resource_template "shop://orders/{id}" {
            name order;
            scope orders:write;
            text "order {id}";
            complete id 100 101;
        }
        prompt greet {
            description "Greets";
            argument who required "Who";
            message user "Hello {who}";
            complete who alice bob;
        }
        prompt audit {
            description "An audit prompt";
            scope prompts:use admin;
            argument who required "Who";
            message user "Audit {who}";
            complete who alice;
        }
    }

    mcp_server many {
        tool t1 { description "1"; scope admin; text "1"; }
        tool t2 { description "2"; text "2"; }
        tool t3 { description "3"; scope admin; text "3"; }
        tool t4 { description "4"; text "4"; }
        tool t5 { description "5"; text "5"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /many {
            mcp_pass many;
            mcp_auth_api_keys keys/api-keys;
            mcp_page_size 2;
        }

        mcp_auth_jwt_issuer https://id.test;
        mcp_auth_jwt_audience https://mcp.test/mcp;
        mcp_auth_jwt_key_file keys/jwks.json;

        location = /mcp {
            mcp_pass shop;
            mcp_auth_jwt "shop";
            mcp_auth_api_keys keys/api-keys;
            mcp_tenant $mcp_claim_org;
            mcp_page_size 2;
        }

        location = /keys {
            mcp_pass shop;
            mcp_auth_api_keys keys/api-keys;
        }

        location = /forward {
            mcp_pass shop;
            mcp_auth_jwt "shop";
            mcp_auth_forward on;
        }

        location = /open {
            mcp_pass shop;
        }

        location = /who {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location = /.well-known/oauth-protected-resource/mcp {
            mcp_protected_resource shop authorization_servers=https://id.test,https://backup.test;
        }

        location = /.well-known/oauth-protected-resource {
            mcp_auth_api_keys keys/api-keys;     # ignored: the document is public
            mcp_protected_resource shop authorization_servers=https://id.test
                                   "scopes=a b" resource=https://mcp.test/mcp;
        }
    }

    # what a `pass` location receives on the wire
    server {
        listen 127.0.0.1:%%PORT_1%%;
        location / {
            default_type application/json;
            return 200 '{"sub":"$http_x_mcp_subject","tenant":"$http_x_mcp_tenant","scopes":"$http_x_mcp_scopes","authz":"$http_authorization","apikey":"$http_x_api_key"}';
        }
    }
}
EOF

my $port = port();

my $reader = make_token(claims => { sub => 'alice', org => 'acme', scope => 'tools:read' });
my $writer = make_token(claims => { sub => 'carol', org => 'acme',
                                    scope => 'tools:read orders:write' });
my $admin = make_token(claims => { sub => 'dave', scope => 'admin prompts:use orders:write' });

sub bearer { return (Authorization => "Bearer $_[0]") }

sub req {
    my ($era, $method, $params, $cred, %o) = @_;
    return mcp_request($era, $method, $params, path => $o{path} // '/mcp',
                       headers => [ @{ $cred || [] } ]);
}

# sessions per caller: mcp_request keeps one per path, so each caller here
# gets its own session, made with its own credentials
my %sid;

sub call {
    my ($era, $who, $method, $params, %o) = @_;
    my $cred = $who->{cred};
    if ($era eq MODERN) {
        return modern_post($method, $params, path => $o{path} // '/mcp',
                           headers => $cred);
    }
    my $key = ($o{path} // "/mcp") . "|$who->{name}|$era";
    $sid{$key} //= mcp_init($era, headers => [ -path => $o{path} // '/mcp', @$cred ]);
    return legacy_post($sid{$key}, $era, $method, $params,
                       headers => [ -path => $o{path} // '/mcp', @$cred ]);
}

sub names {
    my ($r, $list, $key) = @_;
    my $items = mcp_result($r)->{$list} || [];
    return join ',', map { $_->{$key} } @$items;
}

# every page of a list, following nextCursor
sub all_names {
    my ($era, $who, $method, $list, $key) = @_;
    my (@all, $cursor);
    for (1 .. 20) {
        my $r = call($era, $who, $method, $cursor ? { cursor => $cursor } : {});
        return "HTTP $r->{status}" unless $r->{status} == 200;
        push @all, map { $_->{$key} } @{ mcp_result($r)->{$list} || [] };
        $cursor = mcp_result($r)->{nextCursor} or last;
    }
    return join ',', @all;
}

sub denied {
    my ($r, $scope, $name) = @_;
    is($r->{status}, 403, "$name: 403") or diag($r->{body});
    my $c = $r->{headers}{'www-authenticate'} // '';
    like($c, qr/^Bearer realm="shop", error="insufficient_scope", scope="\Q$scope\E"/,
         "$name: the step-up challenge") or diag($c);
    like($c, qr/resource_metadata="https:\/\/mcp\.test\//, "$name: with the metadata URL");
    is($r->{json}{error}{code}, -32003, "$name: a JSON-RPC error") or diag($r->{body});
}

my $R = { name => 'reader', cred => [ bearer($reader) ] };
my $W = { name => 'writer', cred => [ bearer($writer) ] };
my $A = { name => 'admin', cred => [ bearer($admin) ] };
my $K = { name => 'key-alice', cred => [ 'X-API-Key' => $key_alice ] };
my $O = { name => 'key-ops', cred => [ bearer($key_ops) ] };

for my $era ('2025-03-26', '2025-11-25', MODERN) {
    my $E = $era;

    # --- lists show what the caller may use, page by page ----------------

    is(all_names($era, $R, 'tools/list', 'tools', 'name'), 'hello,whoami',
       "$E: a reader lists hello and whoami");
    is(all_names($era, $W, 'tools/list', 'tools', 'name'), 'hello,refund,whoami',
       "$E: a writer lists refund too");
    is(all_names($era, $R, 'resources/list', 'resources', 'uri'), 'shop://public',
       "$E: a reader lists the public resource");
    is(all_names($era, $A, 'resources/list', 'resources', 'uri'),
       'shop://public,shop://secret', "$E: an admin lists the secret one too");
    is(all_names($era, $R, 'resources/templates/list', 'resourceTemplates', 'uriTemplate'),
       '', "$E: no templates for a reader");
    is(all_names($era, $W, 'resources/templates/list', 'resourceTemplates', 'uriTemplate'),
       'shop://orders/{id}', "$E: the template for a writer");
    is(all_names($era, $R, 'prompts/list', 'prompts', 'name'), 'greet',
       "$E: a reader lists greet");
    is(all_names($era, $A, 'prompts/list', 'prompts', 'name'), 'greet,audit',
       "$E: an admin (both scopes) lists audit");
    is(all_names($era, $W, 'prompts/list', 'prompts', 'name'), 'greet',
       "$E: audit needs both of its scopes");

    if ($era eq MODERN) {
        my $r = call($era, $R, 'tools/list', {});
        is(mcp_result($r)->{cacheScope}, 'private',
           "$E: a list for a verified caller is cacheScope private");
        $r = call($era, { name => 'anon', cred => [] }, 'tools/list', {}, path => '/open');
        is(mcp_result($r)->{cacheScope}, 'public', "$E: ... public without authentication");
    }

    # --- using one is 403 with the scopes it needs ------------------------

    denied(call($era, $R, 'tools/call', { name => 'refund', arguments => {} }),
           'orders:write', "$E tools/call refund as a reader");
    my $r = call($era, $W, 'tools/call', { name => 'refund', arguments => {} });
    is(mcp_tool_text($r), 'refunded', "$E: a writer refunds");

    denied(call($era, $R, 'resources/read', { uri => 'shop://secret' }),
           'admin', "$E resources/read secret");
    denied(call($era, $R, 'resources/read', { uri => 'shop://orders/7' }),
           'orders:write', "$E resources/read of a template");
    $r = call($era, $W, 'resources/read', { uri => 'shop://orders/7' });
    is(mcp_result($r)->{contents}[0]{text}, 'order 7', "$E: a writer reads an order");

    denied(call($era, $W, 'prompts/get', { name => 'audit', arguments => { who => 'x' } }),
           'prompts:use admin', "$E prompts/get audit");
    $r = call($era, $A, 'prompts/get', { name => 'audit', arguments => { who => 'x' } });
    is(mcp_result($r)->{messages}[0]{content}{text}, 'Audit x', "$E: an admin gets audit");

    denied(call($era, $R, 'completion/complete',
                { ref => { type => 'ref/prompt', name => 'audit' },
                  argument => { name => 'who', value => 'a' } }),
           'prompts:use admin', "$E completion of audit");
    denied(call($era, $R, 'completion/complete',
                { ref => { type => 'ref/resource', uri => 'shop://orders/{id}' },
                  argument => { name => 'id', value => '1' } }),
           'orders:write', "$E completion of the template");
    $r = call($era, $R, 'completion/complete',
              { ref => { type => 'ref/prompt', name => 'greet' },
                argument => { name => 'who', value => 'a' } });
    is_deeply(mcp_result($r)->{completion}{values}, ['alice'], "$E: completion of greet");

    # unknown stays unknown (no 403 for what does not exist)
    $r = call($era, $R, 'tools/call', { name => 'nope', arguments => {} });
    is($r->{status}, 200, "$E: an unknown tool is no 403");
    is($r->{json}{error}{code}, -32602, "$E: ... but unknown");

    # API keys carry scopes too
    denied(call($era, $K, 'tools/call', { name => 'refund', arguments => {} }),
           'orders:write', "$E refund with alice's key");
    $r = call($era, $O, 'tools/call', { name => 'refund', arguments => {} });
    is(mcp_tool_text($r), 'refunded', "$E: the ops key (bearer) refunds");

    # a location without authentication: scoped items are nobody's
    my $N = { name => 'nobody', cred => [] };
    is(all_names($era, $N, 'tools/list', 'tools', 'name'), 'HTTP 401',
       "$E: nobody lists nothing at /mcp: 401");
    $r = call($era, $N, 'tools/call', { name => 'refund', arguments => {} }, path => '/open');
    is($r->{status}, 403, "$E: without authentication a scoped tool is 403");
    $r = call($era, $N, 'tools/call', { name => 'hello', arguments => {} }, path => '/open');
    is(mcp_tool_text($r), 'hi', "$E: ... and an unscoped one runs");
}

# --- cursors count what the caller was shown, not the catalog -------------

{
    my @pages;
    for my $who ([ alice => $key_alice ], [ ops => $key_ops ]) {
        my ($cursor, @seen) = (undef);
        for (1 .. 5) {
            my $r = modern_post('tools/list', $cursor ? { cursor => $cursor } : {},
                                path => '/many', headers => [ 'X-API-Key' => $who->[1] ]);
            push @seen, join(',', map { $_->{name} } @{ mcp_result($r)->{tools} || [] })
                        . '|' . (mcp_result($r)->{nextCursor} // '');
            $cursor = mcp_result($r)->{nextCursor} or last;
        }
        push @pages, join ' ', @seen;
    }
    is($pages[0], 't2,t4|c2 t5|', 'alice: pages of what she may see; the cursor counts those');
    is($pages[1], 't1,t2|c2 t3,t4|c4 t5|', 'ops (admin): every tool');
    my $r = modern_post('tools/list', { cursor => 'c4' }, path => '/many',
                        headers => [ 'X-API-Key' => $key_alice ]);
    is($r->{json}{error}{code}, -32602, "a cursor past alice's items is invalid for her");
}

# --- a batch (2025-03-26) with one item the caller may not use -------------

{
    my $sid = mcp_init('2025-03-26', headers => [ bearer($reader) ]);
    my $r = mcp_post([ { jsonrpc => '2.0', id => 1, method => 'tools/list' },
                       { jsonrpc => '2.0', id => 2, method => 'tools/call',
                         params => { name => 'refund', arguments => {} } } ],
                     'Mcp-Session-Id' => $sid, bearer($reader));
    is($r->{status}, 403, 'a batch with a forbidden call: 403 as a whole');
    like($r->{headers}{'www-authenticate'} // '', qr/scope="orders:write"/,
         '... with the scope it needs');
}

# --- the caller reaches `pass` locations, the credentials do not ----------

for my $era ('2025-11-25', MODERN) {
    my $r = call($era, { name => 'forger', cred => [ bearer($writer), 'X-MCP-Subject' => 'root',
                                                     'X-MCP-Tenant' => 'evil',
                                                     'X-API-Key' => 'stolen' ] },
                 'tools/call', { name => 'whoami', arguments => {} });
    my $seen = mcp_result($r)->{structuredContent} || {};
    is_deeply($seen, { sub => 'carol', tenant => 'acme', scopes => 'tools:read orders:write',
                       authz => '', apikey => '' },
              "$era: X-MCP-Subject/Tenant/Scopes of the verified caller, "
              . "no Authorization, no X-API-Key, nothing forged")
        or diag($r->{body});

    $r = call($era, $K, 'tools/call', { name => 'whoami', arguments => {} });
    $seen = mcp_result($r)->{structuredContent} || {};
    is_deeply($seen, { sub => 'alice', tenant => 'acme', scopes => 'tools:read',
                       authz => '', apikey => '' }, "$era: an API key's caller")
        or diag($r->{body});

    $r = call($era, { name => 'fwd', cred => [ bearer($writer) ] }, 'tools/call',
              { name => 'whoami', arguments => {} }, path => '/forward');
    $seen = mcp_result($r)->{structuredContent} || {};
    is($seen->{authz}, "Bearer $writer", "$era: mcp_auth_forward on passes Authorization");
    is($seen->{sub}, 'carol', "$era: ... with the caller");
}

# --- a resource URI cannot carry headers to a `pass` location --------------

{
    # (in a session: a 2026 request would repeat the URI in Mcp-Name)
    my $r = call('2025-11-25', $W, 'resources/read',
                 { uri => "shop://orders/1\r\nX-MCP-Subject: admin" });
    is($r->{json}{error}{code}, -32002, 'a URI with CR LF names no resource')
        or diag($r->{status}, ' ', $r->{body});
}

# --- API keys -------------------------------------------------------------

{
    my $r = modern_post('tools/list', {}, path => '/keys', headers => [ 'X-API-Key' => $key_bob ]);
    is($r->{status}, 200, 'X-API-Key: 200');
    $r = modern_post('tools/list', {}, path => '/keys', headers => [ bearer($key_bob) ]);
    is($r->{status}, 200, 'the key as a bearer token: 200');
    $r = modern_post('tools/list', {}, path => '/keys',
                     headers => [ 'X-API-Key' => $key_bob . 'x' ]);
    is($r->{status}, 401, 'a wrong key: 401');
    like($r->{headers}{'www-authenticate'} // '', qr/error="invalid_token"/,
         '... invalid_token');
    unlike($r->{headers}{'www-authenticate'} // '', qr/realm/,
           '... no realm without mcp_auth_jwt');
    $r = modern_post('tools/list', {}, path => '/keys');
    is($r->{status}, 401, 'no key: 401');
    $r = modern_post('tools/list', {}, path => '/keys', headers => [ bearer($reader) ]);
    is($r->{status}, 401, 'a JWT where only API keys are taken: 401');
    $r = modern_post('tools/list', {}, path => '/keys', headers => [ 'X-API-Key' => '' ]);
    is($r->{status}, 401, 'an empty key: 401');
    $r = modern_post('tools/list', {}, path => '/keys',
                     headers => [ 'X-API-Key' => 'x' x 9000 ]);
    is($r->{status}, 401, 'a 9000-byte key: 401');
}

# --- sessions belong to their creator -------------------------------------

{
    my $sid = mcp_init('2025-11-25', headers => [ bearer($reader) ]);
    ok($sid, 'alice made a session');
    my $r = legacy_post($sid, '2025-11-25', 'tools/list', {}, headers => [ bearer($writer) ]);
    is($r->{status}, 404, "carol presenting alice's session: 404, as unknown");
    is($r->{json}{error}{code}, -32001, '... Session not found');
    $r = legacy_post($sid, '2025-11-25', 'tools/list', {},
                     headers => [ 'X-API-Key' => $key_alice ]);
    is($r->{status}, 404, "alice's API key is another principal than alice's JWT: 404");
    $r = legacy_post($sid, '2025-11-25', 'tools/list', {}, headers => [ bearer($reader) ]);
    is($r->{status}, 200, 'alice herself: 200');

    $r = http('DELETE', '/mcp', headers => { 'Mcp-Session-Id' => $sid,
                                             'MCP-Protocol-Version' => '2025-11-25',
                                             Authorization => "Bearer $writer" });
    is($r->{status}, 404, "carol cannot end alice's session");
    $r = legacy_post($sid, '2025-11-25', 'tools/list', {}, headers => [ bearer($reader) ]);
    is($r->{status}, 200, '... it still lives');
    $r = http('DELETE', '/mcp', headers => { 'Mcp-Session-Id' => $sid,
                                             'MCP-Protocol-Version' => '2025-11-25',
                                             Authorization => "Bearer $reader" });
    is($r->{status}, 204, 'alice ends it');

    # a session made without authentication is not anyone's to take over
    my $open = mcp_init('2025-11-25', headers => [ -path => '/open' ]);
    $r = legacy_post($open, '2025-11-25', 'tools/list', {}, headers => [ -path => '/open' ]);
    is($r->{status}, 200, 'an unauthenticated session works unauthenticated');
}

# --- RFC 9728 metadata ----------------------------------------------------

{
    my $r = http('GET', '/.well-known/oauth-protected-resource/mcp');
    is($r->{status}, 200, 'metadata: 200');
    like($r->{headers}{'content-type'} // '', qr{^application/json}, 'metadata: JSON');
    is($r->{headers}{'access-control-allow-origin'}, '*', 'metadata: readable cross-origin');
    my $m = json_decode($r->{body}) || {};
    is($m->{resource}, "http://127.0.0.1:$port/mcp", 'resource: the MCP URL');
    is_deeply($m->{authorization_servers}, [ 'https://id.test', 'https://backup.test' ],
              'authorization_servers');
    is_deeply($m->{scopes_supported}, [ 'orders:write', 'admin', 'prompts:use' ],
              'scopes_supported: every scope of the server, once');
    is_deeply($m->{bearer_methods_supported}, ['header'], 'bearer_methods_supported');
    is($m->{resource_name}, 'The shop', 'resource_name: the server title');

    $r = http('GET', '/.well-known/oauth-protected-resource');
    $m = json_decode($r->{body}) || {};
    is($m->{resource}, 'https://mcp.test/mcp', 'resource= given');
    is_deeply($m->{scopes_supported}, [ 'a', 'b' ], 'scopes= given');

    $r = http('POST', '/.well-known/oauth-protected-resource/mcp', body => '{}');
    is($r->{status}, 405, 'metadata: POST is 405');

    $r = http('GET', '/.well-known/oauth-protected-resource/mcp', host => 'a"b');
    ok($r->{status} == 400 || $r->{body} !~ /a"b/, 'a Host with a quote is not reflected');
}

# no key in the log
{
    my $log = error_log_text() // '';
    for my $k ($key_alice, $key_bob, $key_ops) {
        unlike($log, qr/\Q$k\E/, 'no API key in the error log');
    }
}

stop_nginx();

done_testing();
