#!/usr/bin/perl
# What keeps a `postgres` entry safe: every value is bound as a parameter
# (injection attempts in arguments, template variables, prompt arguments and
# nginx variables are only data), one call runs one statement, read_only
# entries (and every resource and prompt) run in a READ ONLY transaction,
# postgres_set reaches a row-level-security policy and does not outlive the
# call, and prepared statements are reused on pooled connections.  A real
# PostgreSQL 15 runs under the test (MCP::Pg).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MCP::Pg;
use Test::More;
use MCP::Test;
use Encode qw(encode_utf8);
use POSIX ();

my $fixture = <<'SQL';
CREATE TABLE orders (
    id     integer PRIMARY KEY,
    status text NOT NULL,
    total  numeric(10,2) NOT NULL
);
INSERT INTO orders VALUES (1, 'shipped', 19.99), (2, 'new', 5.00),
                          (3, 'shipped', 100.00);

CREATE TABLE scratch (id serial PRIMARY KEY, v text);

CREATE TABLE notes (
    id     serial PRIMARY KEY,
    tenant text NOT NULL,
    body   text NOT NULL
);
INSERT INTO notes (tenant, body) VALUES ('acme', 'acme note 1'),
    ('acme', 'acme note 2'), ('globex', 'globex note');
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_tenant ON notes
    USING (tenant = current_setting('app.tenant', true));
SQL

my $pg = MCP::Pg->new(sql => [$fixture]);

# a role that is neither the owner of the table nor a superuser: the policy
# applies to it
$pg->psql(<<'SQL');
CREATE ROLE tenant_app LOGIN PASSWORD 'tenant-pw';
GRANT SELECT ON notes, orders TO tenant_app;
SQL
is($pg->psql("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'tenant_app'"),
   'f', 'tenant_app is not a superuser and does not bypass RLS');
is($pg->psql("SELECT tableowner FROM pg_tables WHERE tablename = 'notes'"), 'app',
   'the notes belong to app, not tenant_app');

my $conf = $pg->fill(<<'EOF');
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;

    upstream app_db {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=secret;
        mcp_postgres_keepalive 4;
    }
    upstream tenant_db {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=tenant_app password=tenant-pw;
        mcp_postgres_keepalive 1;
        mcp_postgres_max_connections 1;
    }
    upstream one_db {
        mcp_postgres_server postgresql://app:secret@127.0.0.1:%%PG_PORT%%/app;
        mcp_postgres_keepalive 1;
        mcp_postgres_max_connections 1;
    }

    mcp_server shop {
        name "pg-safety"; version 1.0.0;

        tool echo {
            description "The value as PostgreSQL got it";
            argument v string required "Anything";
            postgres app_db "SELECT $1::text AS v, length($1::text) AS n" v;
        }
        tool by_status {
            description "Orders by status";
            argument status string required "Status";
            postgres app_db "SELECT id FROM orders WHERE status = $1 ORDER BY id" status;
        }
        tool by_id_text {
            description "An order by an id given as text";
            argument id string required "Order id";
            postgres app_db "SELECT id, status FROM orders WHERE id = $1" id;
        }
        tool get_order {
            description "An order";
            argument id integer required "Order id";
            postgres app_db "SELECT id, status, total FROM orders WHERE id = $1" id;
        }
        tool remember {
            description "Writes a value";
            argument v string required "A value";
            postgres app_db "INSERT INTO scratch (v) VALUES ($1) RETURNING v" v;
        }
        tool two_statements {
            description "Declared with two statements";
            postgres app_db "SELECT 1; DELETE FROM orders";
        }
        tool no_table {
            description "A table that is not there";
            postgres app_db "SELECT * FROM no_such_table";
        }
        tool ro_delete {
            description "read_only, but writes";
            argument id integer required "Order id";
            annotations read_only;
            postgres app_db "DELETE FROM orders WHERE id = $1" id;
        }
        tool ro_nextval {
            description "read_only, but takes a sequence value";
            annotations read_only;
            postgres app_db "SELECT nextval('scratch_id_seq') AS n";
        }
        tool ro_select {
            description "read_only and reads";
            annotations read_only idempotent;
            postgres app_db "SELECT count(*) AS n, current_setting('transaction_read_only') AS ro FROM orders";
        }
        tool rw_mode {
            description "not read_only";
            postgres app_db "SELECT current_setting('transaction_read_only') AS ro";
        }
        tool vars {
            description "nginx variables as values";
            argument id integer required "Order id";
            postgres app_db "SELECT $1::int AS id, $2::text AS addr, $3::text AS uri, $4::text AS tenant" id $remote_addr $request_uri $http_x_tenant;
        }

        tool notes {
            description "The caller's notes (RLS)";
            postgres tenant_db "SELECT body FROM notes ORDER BY id";
        }
        tool notes_entry {
            description "postgres_set in the entry";
            postgres_set app.tenant $http_x_entry_tenant;
            postgres tenant_db "SELECT body FROM notes ORDER BY id";
        }
        tool notes_fixed {
            description "postgres_set with a fixed value";
            postgres_set app.tenant globex;
            postgres tenant_db "SELECT body FROM notes ORDER BY id";
        }
        tool whoami {
            description "The settings of the call";
            postgres tenant_db "SELECT current_user AS role, current_setting('app.tenant', true) AS tenant, current_setting('app.other', true) AS other";
        }
        tool all_orders {
            description "Not filtered by RLS";
            postgres tenant_db "SELECT count(*) AS n FROM orders";
        }

        tool one_pid {
            description "The backend of the one connection";
            postgres one_db "SELECT pg_backend_pid() AS pid";
        }
        tool one_get {
            description "An order on the one connection";
            argument id integer required "Order id";
            postgres one_db "SELECT id, status FROM orders WHERE id = $1" id;
        }
        tool one_star {
            description "Every column of an order, on the one connection";
            argument id integer required "Order id";
            postgres one_db "SELECT * FROM orders WHERE id = $1" id;
        }
        tool one_prepared {
            description "The statements prepared on the one connection";
            postgres one_db "SELECT count(*) AS n FROM pg_prepared_statements";
        }

        resource_template "shop://status/{status}" {
            name by_status; mime_type application/json;
            postgres app_db "SELECT id FROM orders WHERE status = $1 ORDER BY id" status;
        }
        resource "shop://purge" {
            name purge;
            postgres app_db "WITH d AS (DELETE FROM orders RETURNING id) SELECT count(*) AS n FROM d";
        }
        prompt by_status {
            description "Orders by status";
            argument status required "Status";
            postgres app_db "SELECT id FROM orders WHERE status = $1 ORDER BY id" status;
        }
        prompt purge {
            description "A prompt that writes";
            postgres app_db "DELETE FROM orders RETURNING id";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp {
            postgres_set app.tenant $http_x_tenant;
            mcp_pass shop;
        }
        location = /mcp-set {
            set $tenant globex;
            postgres_set app.tenant $tenant;
            postgres_set app.other "from the location";
            mcp_pass shop;
        }
        location = /mcp-none {
            mcp_pass shop;
        }
    }
}
EOF

start_nginx($conf);

# ---------------------------------------------------------------------------
# helpers

# MCP::Test's helpers under this file's short names
*request = \&mcp_request;
*call = \&mcp_tool_call;
*result = \&mcp_result;
*rows = \&mcp_tool_rows;
*tool_error_is = \&mcp_tool_error_is;

sub orders_intact {
    my ($name) = @_;
    is($pg->psql("SELECT string_agg(id || ':' || status || ':' || total, ',' ORDER BY id) FROM orders"),
       '1:shipped:19.99,2:new:5.00,3:shipped:100.00', "$name: orders untouched");
}

my $F = JSON::XS::false;

my @attempts = (
    '1; DROP TABLE orders',
    "'; DROP TABLE orders; --",
    "shipped' OR '1'='1",
    "Robert'); DROP TABLE orders;--",
    '$1',
    '$1; DELETE FROM orders',
    '$$ dollar $$',
    "E'\\x41'",
    "back\\slash \\' and \"double\"",
    "\\\\' ; DELETE FROM orders; --",
    "Gr\x{fc}\x{df}e \x{2603} \x{1F389} \x{202E}reversed",
    "line\nbreak\r\ttab",
    "\x{7f}\x{1b}[31m",
    '',
    ' ' x 3,
    'x' x 10000,
);

for my $era ('2025-11-25', MODERN) {
    my $E = $era;

    # --- every injection attempt is only data -----------------------------

    for my $i (0 .. $#attempts) {
        my $v = $attempts[$i];
        my $label = "$E attempt $i";
        my $r = call($era, 'echo', { v => $v });
        ok(!result($r)->{isError}, "$label: echo answers") or diag($r->{body});
        is_deeply(rows($r), [ { v => $v, n => length $v } ],
                  "$label: echo gives the value back, unchanged");

        $r = call($era, 'by_status', { status => $v });
        is_deeply(rows($r), [], "$label: by_status finds no order");

        $r = call($era, 'remember', { v => $v });
        is_deeply(rows($r), [ { v => $v } ], "$label: stored as it is");
    }
    is($pg->psql('SELECT count(*) FROM scratch'), scalar(@attempts) * ($era eq MODERN ? 2 : 1),
       "$E: every value was stored once");
    orders_intact("$E after the attempts");

    my $r = call($era, 'by_id_text', { id => '1; DROP TABLE orders' });
    tool_error_is($r, 'PostgreSQL error 22P02: invalid input syntax for type integer: '
                      . '"1; DROP TABLE orders"', "$E a string for an integer column");
    $r = call($era, 'by_id_text', { id => 'abc' });
    tool_error_is($r, 'PostgreSQL error 22P02: invalid input syntax for type integer: "abc"',
                  "$E abc for an integer column");
    $r = call($era, 'by_id_text', { id => '2' });
    is_deeply(rows($r), [ { id => 2, status => 'new' } ], "$E a good id as text works");

    $r = call($era, 'echo', { v => "before\x{0}after" });
    tool_error_is($r, 'The value of "v" contains a NUL character, which PostgreSQL cannot take',
                  "$E a NUL character");
    $r = call($era, 'by_status', { status => "shipped\x{0}' OR 1=1 --" });
    tool_error_is($r, 'The value of "status" contains a NUL character, which PostgreSQL '
                      . 'cannot take', "$E a NUL character before an injection");

    $r = call($era, 'get_order', { id => '1 OR 1=1' });
    ok(result($r)->{isError}
       || ($r->{json}{error} && $r->{json}{error}{code} == -32602),
       "$E a string for an integer argument is refused before the database")
        or diag($r->{body});

    # template variables and prompt arguments
    $r = request($era, 'resources/read', { uri => "shop://status/x'OR'1'='1" });
    my $err = $r->{json} && $r->{json}{error};
    is($err && $err->{code}, $era eq MODERN ? -32602 : -32002,
       "$E an injection in a template variable matches nothing");
    $r = request($era, 'resources/read', { uri => 'shop://status/shipped' });
    my $c = result($r)->{contents} || [];
    is_deeply(json_decode($c->[0]{text} // ''),
              { rows => [ { id => 1 }, { id => 3 } ], rowCount => 2, truncated => $F },
              "$E the template variable is bound");
    $r = request($era, 'prompts/get',
                 { name => 'by_status', arguments => { status => "x' OR '1'='1" } });
    my $m = result($r)->{messages} || [];
    is_deeply(json_decode($m->[0]{content}{text} // ''),
              { rows => [], rowCount => 0, truncated => $F },
              "$E an injection in a prompt argument matches nothing");

    # one call runs one statement
    $r = call($era, 'two_statements');
    tool_error_is($r, 'PostgreSQL error 42601: cannot insert multiple commands into a '
                      . 'prepared statement', "$E a declared statement with two commands");
    orders_intact("$E after two statements");

    $r = call($era, 'no_table');
    tool_error_is($r, 'PostgreSQL error 42P01: relation "no_such_table" does not exist',
                  "$E an SQL error");

    # --- read-only -------------------------------------------------------

    $r = call($era, 'ro_delete', { id => 1 });
    tool_error_is($r, 'PostgreSQL error 25006: cannot execute DELETE in a read-only '
                      . 'transaction', "$E a read_only tool that deletes");
    orders_intact("$E after the read_only DELETE");

    my $seq = $pg->psql("SELECT last_value FROM scratch_id_seq");
    $r = call($era, 'ro_nextval');
    tool_error_is($r, qr/^PostgreSQL error 25006: cannot execute nextval\(\) in a read-only transaction$/,
                  "$E a read_only tool that takes a sequence value");
    is($pg->psql("SELECT last_value FROM scratch_id_seq"), $seq, "$E the sequence did not move");

    $r = call($era, 'ro_select');
    is_deeply(rows($r), [ { n => 3, ro => 'on' } ], "$E a read_only tool reads, read only");
    $r = call($era, 'rw_mode');
    is_deeply(rows($r), [ { ro => 'off' } ], "$E another tool is not read only");

    $r = request($era, 'resources/read', { uri => 'shop://purge' });
    $err = $r->{json} && $r->{json}{error};
    is($err && $err->{code}, -32603, "$E a resource that writes: -32603");
    like($err && $err->{message} // '',
         qr/PostgreSQL error 25006: cannot execute SELECT in a read-only transaction/,
         "$E a resource that writes: the read-only error");
    $r = request($era, 'prompts/get', { name => 'purge', arguments => {} });
    $err = $r->{json} && $r->{json}{error};
    is($err && $err->{code}, -32603, "$E a prompt that writes: -32603");
    like($err && $err->{message} // '',
         qr/\QPostgreSQL error 25006: cannot execute DELETE in a read-only transaction\E/,
         "$E a prompt that writes: the read-only error");
    orders_intact("$E after the resource and the prompt");

    # --- nginx variables ---------------------------------------------------

    my $tenant = "acme'; DROP TABLE orders; --";
    $r = call($era, 'vars', { id => 2 }, headers => [ 'X-Tenant' => $tenant ]);
    is_deeply(rows($r), [ { id => 2, addr => '127.0.0.1', uri => '/mcp',
                            tenant => $tenant } ],
              "$E nginx variables are values") or diag($r->{body});
    orders_intact("$E after a header with an injection");

    # --- postgres_set and row-level security -------------------------------

    $r = call($era, 'notes', {}, headers => [ 'X-Tenant' => 'acme' ]);
    is_deeply(rows($r), [ { body => 'acme note 1' }, { body => 'acme note 2' } ],
              "$E RLS: location postgres_set, tenant acme") or diag($r->{body});
    $r = call($era, 'notes', {}, headers => [ 'X-Tenant' => 'globex' ]);
    is_deeply(rows($r), [ { body => 'globex note' } ], "$E RLS: tenant globex");
    $r = call($era, 'notes', {}, headers => [ 'X-Tenant' => "acme' OR '1'='1" ]);
    is_deeply(rows($r), [], "$E RLS: an injection in the tenant sees nothing");
    $r = call($era, 'notes', {});
    is_deeply(rows($r), [], "$E RLS: no tenant header, no notes");
    $r = call($era, 'notes', {}, headers => [ 'X-Tenant' => 'acme' ]);
    $r = call($era, 'notes', {}, path => '/mcp-none');
    is_deeply(rows($r), [], "$E RLS: the setting of the previous call on the "
                            . 'same connection is gone (set_config is local)');
    $r = call($era, 'whoami', {}, headers => [ 'X-Tenant' => $tenant ]);
    my $who = rows($r) && rows($r)->[0] || {};
    is($who->{role}, 'tenant_app', "$E RLS: the call runs as the upstream's user");
    is($who->{tenant}, $tenant, "$E RLS: the policy's setting is the header, unchanged");
    ok(!defined $who->{other} || $who->{other} eq '',
       "$E RLS: no other setting") or diag($r->{body});
    $r = call($era, 'whoami', {}, path => '/mcp-none');
    $who = rows($r) && rows($r)->[0] || {};
    ok(!defined $who->{tenant} || $who->{tenant} eq '',
       "$E RLS: the next call does not inherit the setting")
        or diag($r->{body});
    $r = call($era, 'all_orders', {}, headers => [ 'X-Tenant' => 'acme' ]);
    is_deeply(rows($r), [ { n => 3 } ], "$E RLS: a table without a policy");

    $r = call($era, 'notes', {}, path => '/mcp-set', headers => [ 'X-Tenant' => 'acme' ]);
    is_deeply(rows($r), [ { body => 'globex note' } ],
              "$E RLS: a `set` variable in the location");
    $r = call($era, 'whoami', {}, path => '/mcp-set');
    is_deeply(rows($r), [ { role => 'tenant_app', tenant => 'globex',
                            other => 'from the location' } ],
              "$E RLS: two location settings");

    $r = call($era, 'notes_entry', {}, path => '/mcp-none',
              headers => [ 'X-Entry-Tenant' => 'acme' ]);
    is_deeply(rows($r), [ { body => 'acme note 1' }, { body => 'acme note 2' } ],
              "$E RLS: the entry's postgres_set");
    $r = call($era, 'notes_entry', {}, headers => [ 'X-Entry-Tenant' => 'globex',
                                                    'X-Tenant' => 'acme' ]);
    is_deeply(rows($r), [ { body => 'globex note' } ],
              "$E RLS: the entry's setting wins over the location's");
    $r = call($era, 'notes_fixed', {}, path => '/mcp-set');
    is_deeply(rows($r), [ { body => 'globex note' } ], "$E RLS: a fixed entry value");
    $r = call($era, 'notes', {}, path => '/mcp-none', headers => [ 'X-Tenant' => 'acme' ]);
    is_deeply(rows($r), [], "$E RLS: a location without postgres_set sets nothing");
}

# --- prepared statements on pooled connections ----------------------------

{
    my $era = '2025-11-25';
    my $r = call($era, 'one_pid');
    my $pid = rows($r) && rows($r)->[0]{pid};
    like($pid // '', qr/^\d+$/, 'the one connection has a backend');

    call($era, 'one_get', { id => 1 });
    $r = call($era, 'one_prepared');
    my $n0 = rows($r) && rows($r)->[0]{n};
    ok(defined $n0 && $n0 >= 1, 'statements are prepared on the connection ('
                                . ($n0 // 'none') . ')') or diag($r->{body});

    my $bad = 0;
    for my $i (1 .. 60) {
        my $id = 1 + $i % 3;
        my $want = $id == 2 ? 'new' : 'shipped';
        $r = call($i % 2 ? $era : MODERN, 'one_get', { id => $id });
        $bad++ unless rows($r) && @{ rows($r) } == 1 && rows($r)->[0]{id} == $id
                      && rows($r)->[0]{status} eq $want;
        if ($i % 20 == 0) {
            $r = call($era, 'one_get', { id => 'x' });
            $bad++ unless result($r)->{isError} || $r->{json}{error};
        }
    }
    is($bad, 0, '60 calls of one prepared statement, some failing, all right');

    $r = call($era, 'one_prepared');
    is(rows($r) && rows($r)->[0]{n}, $n0,
       'no statement was prepared again (the count did not grow)');
    $r = call($era, 'one_pid');
    is(rows($r) && rows($r)->[0]{pid}, $pid, 'the same connection all along');
    is($pg->psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' "
                 . "AND pid = $pid"), 1, 'the backend is still there');

    # many callers at once on a pool of four connections: every answer is
    # its own caller's
    my ($clients, $each) = (12, 15);
    my @pids;
    for my $cl (1 .. $clients) {
        my $p = fork;
        die "fork: $!" unless defined $p;
        if ($p == 0) {
            my $wrong = 0;
            for my $i (1 .. $each) {
                my $v = "client $cl call $i";
                my $x = call($i % 2 ? MODERN : '2025-11-25', 'echo', { v => $v });
                my $rw = rows($x);
                $wrong++ unless $rw && @$rw == 1 && $rw->[0]{v} eq $v
                                && $rw->[0]{n} == length $v;
            }
            POSIX::_exit($wrong > 255 ? 255 : $wrong);
        }
        push @pids, $p;
    }
    my $wrong = 0;
    for my $p (@pids) {
        waitpid $p, 0;
        $wrong += $? >> 8;
    }
    is($wrong, 0, ($clients * $each) . ' concurrent calls: every answer is right');
    # idle: at most mcp_postgres_keepalive (4) of app_db, and one of one_db
    my $conns;
    for (1 .. 30) {
        $conns = $pg->psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' "
                           . "AND backend_type = 'client backend'");
        last if $conns <= 5;
        select undef, undef, undef, 0.1;
    }
    ok($conns >= 1 && $conns <= 4 + 1,
       "idle connections: no more than mcp_postgres_keepalive ($conns)");
}

orders_intact('at the end');
is($pg->psql("SELECT to_regclass('orders') IS NOT NULL"), 't', 'the table is still there');

# --- a prepared statement gone stale ----------------------------------------

# After ALTER TABLE, `SELECT *` prepared on a pooled connection fails with
# 0A000 ("cached plan must not change result type"); that connection is not
# pooled again, so the next call prepares the statement anew and works.
{
    my $era = '2025-11-25';
    my $r = call($era, 'one_star', { id => 1 });
    ok(rows($r) && !exists rows($r)->[0]{note}, 'SELECT * prepared on the connection')
        or diag($r->{body});

    $pg->psql('ALTER TABLE orders ADD COLUMN note text');

    my ($seen, $ok) = (0, 0);
    for (1 .. 3) {
        $r = call($era, 'one_star', { id => 1 });
        if (rows($r) && exists rows($r)->[0]{note}) {
            $ok = 1;
            last;
        }
        $seen++ if (result($r)->{content}[0]{text} // '') =~ /^PostgreSQL error 0A000/;
    }
    ok($seen <= 1, "a stale plan fails at most one call ($seen)");
    ok($ok, 'then the statement is prepared again and sees the new column')
        or diag($r->{body});

    $pg->psql('ALTER TABLE orders DROP COLUMN note');
}

stop_nginx();
done_testing();
