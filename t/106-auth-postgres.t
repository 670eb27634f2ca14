#!/usr/bin/perl
# The verified caller in PostgreSQL: $mcp_subject, $mcp_tenant and
# $mcp_scopes as bound values of a statement, and $mcp_subject as a
# postgres_set setting that a row-level security policy reads, so that one
# tool shows each caller its own rows.  A real PostgreSQL 15 (MCP::Pg).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MCP::Pg;
use Test::More;
use MCP::Test;
use MCP::Auth;

my $fixture = <<'SQL';
CREATE TABLE notes (id integer PRIMARY KEY, owner text NOT NULL, body text NOT NULL);
INSERT INTO notes VALUES (1, 'alice', 'alice one'), (2, 'bob', 'bob one'),
                         (3, 'alice', 'alice two');
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
CREATE POLICY by_owner ON notes
    USING (owner = current_setting('app.subject', true));
SQL

my $pg = MCP::Pg->new(sql => [$fixture]);

my $alice = random_api_key();
my $bob = random_api_key();
my $keyfile = api_keys_file("$FindBin::Bin/tmp/106-api-keys",
                            [ $alice, 'alice', 'notes:read', 'acme' ],
                            [ $bob, 'bob', 'notes:read other', 'globex' ]);
my $keytext = do { local (@ARGV, $/) = ($keyfile); <> };

my $conf = $pg->fill(<<'EOF2');
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 256; }
http {
    access_log off;

    upstream app_db {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=secret;
    }

    mcp_server notes {
        tool my_notes {
            description "The caller's notes";
            annotations read_only;
            postgres_set app.subject $mcp_subject;
            postgres app_db "SELECT id, body FROM notes ORDER BY id";
        }
        tool whoami {
            description "Who the database sees";
            annotations read_only;
            postgres app_db "SELECT $1::text AS sub, $2::text AS tenant, $3::text AS scopes"
                     $mcp_subject $mcp_tenant $mcp_scopes;
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp {
            mcp_pass notes;
            mcp_auth_api_keys keys/api-keys;
        }
        location = /open {
            mcp_pass notes;
        }
    }
}
EOF2

start_nginx($conf, files => { 'keys/api-keys' => $keytext });

for my $era ('2025-11-25', MODERN) {
    for my $who ([ alice => $alice, [ [1, 'alice one'], [3, 'alice two'] ], 'acme', 'notes:read' ],
                 [ bob => $bob, [ [2, 'bob one'] ], 'globex', 'notes:read other' ]) {
        my ($name, $key, $rows, $tenant, $scopes) = @$who;
        my $r;
        if ($era eq MODERN) {
            $r = modern_post('tools/call', { name => 'my_notes', arguments => {} },
                             headers => [ 'X-API-Key' => $key ]);
        } else {
            # a session of the caller's own (sessions are bound to their creator)
            my $sid = mcp_init($era, headers => [ 'X-API-Key' => $key ]);
            $r = legacy_post($sid, $era, 'tools/call', { name => 'my_notes', arguments => {} },
                             headers => [ 'X-API-Key' => $key ]);
        }
        is_deeply([ map { [ $_->{id}, $_->{body} ] } @{ mcp_tool_rows($r) || [] } ], $rows,
                  "$era: $name sees her own rows (row-level security on \$mcp_subject)")
            or diag($r->{body});

        $r = modern_post('tools/call', { name => 'whoami', arguments => {} },
                         headers => [ 'X-API-Key' => $key ]);
        is_deeply((mcp_tool_rows($r) || [])->[0],
                  { sub => $name, tenant => $tenant, scopes => $scopes },
                  "$era: $name as bound values") or diag($r->{body});
    }
}

# without authentication the setting is empty: no rows, not all rows
{
    my $r = modern_post('tools/call', { name => 'my_notes', arguments => {} }, path => '/open');
    is_deeply(mcp_tool_rows($r), [], 'no caller: no rows');
}

stop_nginx();

done_testing();
