#!/usr/bin/perl
# What a `postgres` entry answers (docs/BACKENDS.md, "Results"): every
# PostgreSQL type as JSON, NULLs, arrays, rowCount of statements without
# rows, truncation by max_rows and max_size (whole rows only), resources
# (JSON, or a single value as text/plain; no row is "not found") and
# prompts, in a 2025 session and in the stateless 2026 era.  A real
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
use Time::Local qw(timegm);

my $fixture = <<'SQL';
CREATE TYPE mood AS ENUM ('sad', 'happy');

CREATE TABLE everything (
    id       integer PRIMARY KEY,
    i2       smallint,
    i4       integer,
    i8       bigint,
    i8_big   bigint,
    i8_neg   bigint,
    f4       real,
    f8       double precision,
    f8_nan   double precision,
    f8_inf   double precision,
    f8_ninf  double precision,
    num      numeric(20,5),
    num_big  numeric,
    b_true   boolean,
    b_false  boolean,
    t        text,
    vc       varchar(20),
    ch       char(4),
    j        json,
    jb       jsonb,
    j_scalar json,
    by       bytea,
    by_empty bytea,
    ts       timestamp,
    ts_frac  timestamp,
    tstz     timestamptz,
    d        date,
    u        uuid,
    iv       interval,
    ip       inet,
    m        mood,
    o        oid,
    a_int    integer[],
    a_text   text[],
    a_2d     integer[],
    a_null   integer[],
    a_empty  integer[],
    a_bool   boolean[],
    a_i8     bigint[],
    a_num    numeric[],
    a_f8     double precision[],
    a_jsonb  jsonb[],
    a_ts     timestamp[],
    a_quote  text[]
);

INSERT INTO everything VALUES (
    1, -32768, 2147483647, 9007199254740992, 9007199254740993,
    -9223372036854775808,
    1.5, 0.1, 'NaN', 'Infinity', '-Infinity',
    12345.67890, 123456789012345678901234567890.123,
    true, false,
    E'Gr\u00fc\u00dfe "quoted" back\\slash\nnew line \U0001F389', 'varchar', 'ab',
    '{"a": [1, 2, {"b": null}], "s": "x"}', '{"kk": {"nn": 1.25, "tt": true}}',
    '"just a string"',
    '\x00ff10', '',
    '2024-01-02 03:04:05', '2024-01-02 03:04:05.123456',
    '2024-01-02 03:04:05+00', '2024-01-02',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day 02:00:00', '192.168.0.1/24',
    'happy', 1234,
    '{1,2,3}', '{"a","b c",NULL}', '{{1,2},{3,4}}', '{1,NULL,3}', '{}',
    '{t,f}', '{9007199254740993,1}', '{1.50,2}', '{1.5,NaN}',
    ARRAY['{"a": 1}'::jsonb, '[true]'::jsonb], '{"2024-01-02 03:04:05"}',
    ARRAY['a"b', 'c\d', 'e,f', '{g}', 'NULL']
);
INSERT INTO everything (id) VALUES (2);

CREATE TABLE orders (
    id     integer PRIMARY KEY,
    status text NOT NULL,
    total  numeric(10,2) NOT NULL
);
INSERT INTO orders VALUES (1, 'shipped', 19.99), (2, 'new', 5.00),
                          (3, 'shipped', 100.00);

CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);
SQL

my $pg = MCP::Pg->new(sql => [$fixture]);

my $conf = $pg->fill(<<'EOF');
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 256; }
http {
    access_log off;

    upstream app_db {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=secret;
        mcp_postgres_keepalive 4;
    }

    mcp_server shop {
        name "pg-results"; version 1.0.0;

        tool everything {
            description "Every type";
            annotations read_only;
            postgres app_db "SELECT * FROM everything ORDER BY id";
        }
        tool none {
            description "No row";
            postgres app_db "SELECT id, status FROM orders WHERE id < 0";
        }
        tool add_item {
            description "INSERT";
            argument name string required "Name";
            postgres app_db "INSERT INTO items (name) VALUES ($1)" name;
        }
        tool add_items {
            description "INSERT of several rows";
            argument n integer required "How many";
            postgres app_db "INSERT INTO items (name) SELECT 'bulk ' || i FROM generate_series(1, $1) AS i" n;
        }
        tool add_item_returning {
            description "INSERT ... RETURNING";
            argument name string required "Name";
            postgres app_db "INSERT INTO items (name) VALUES ($1) RETURNING id, name" name;
        }
        tool rename_items {
            description "UPDATE";
            argument prefix string required "Prefix";
            argument suffix string required "Suffix";
            postgres app_db "UPDATE items SET name = name || $2 WHERE name LIKE $1 || '%'" prefix suffix;
        }
        tool delete_items {
            description "DELETE";
            argument prefix string required "Prefix";
            postgres app_db "DELETE FROM items WHERE name LIKE $1 || '%'" prefix;
        }
        tool notify {
            description "a command without a row count";
            postgres app_db "NOTIFY mcp_test";
        }
        tool series3 {
            description "max_rows=3";
            argument n integer required "Rows";
            postgres app_db "SELECT i FROM generate_series(1, $1) AS i" n max_rows=3;
        }
        tool series {
            description "the location's or the default max_rows";
            argument n integer required "Rows";
            postgres app_db "SELECT i FROM generate_series(1, $1) AS i" n;
        }
        tool sized {
            description "max_size=1k";
            postgres app_db "SELECT i, repeat('x', 100) AS pad FROM generate_series(1, 50) AS i" max_size=1k;
        }
        tool sized_fits {
            description "max_size=1k, fits";
            postgres app_db "SELECT i, repeat('x', 100) AS pad FROM generate_series(1, 3) AS i" max_size=1k;
        }
        tool huge_row {
            description "one row larger than max_size";
            postgres app_db "SELECT repeat('y', 5000) AS big" max_size=1k;
        }

        resource_template "shop://orders/{id}" {
            name order; mime_type application/json;
            postgres app_db "SELECT * FROM orders WHERE id = $1" id;
        }
        resource_template "shop://status/{id}" {
            name order_status; mime_type text/plain;
            postgres app_db "SELECT status FROM orders WHERE id = $1" id;
        }
        resource "shop://stats" {
            name stats;
            postgres app_db "SELECT count(*) AS n, sum(total) AS total FROM orders";
        }
        resource "shop://statuses" {
            name statuses; mime_type text/plain;
            postgres app_db "SELECT id, status FROM orders ORDER BY id";
        }

        prompt order_summary {
            description "Summarise an order";
            argument id required "Order id";
            postgres app_db "SELECT id, status, total FROM orders WHERE id = $1::int" id;
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass shop; }
        location = /mcp-small { mcp_pass shop; mcp_postgres_max_rows 5; }
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

# the JSON text of a tool result (checked to be the same as structuredContent)
sub tool_json {
    my ($r, $name) = @_;
    my $res = result($r);
    is($r->{status}, 200, "$name: HTTP 200");
    ok(!$res->{isError}, "$name: not an error") or diag($r->{body});
    my $items = $res->{content} || [];
    is(scalar @$items, 1, "$name: one content item");
    is($items->[0] && $items->[0]{type}, 'text', "$name: a text item");
    my $text = $items->[0] && $items->[0]{text} // '';
    my $j = json_decode(encode_utf8($text));
    is_deeply($res->{structuredContent}, $j,
              "$name: structuredContent is the text's JSON");
    return ($j || {}, $text);
}

# the raw JSON token of a member NAME, the first one in TEXT
sub raw_member {
    my ($text, $name) = @_;
    return $text =~ /"\Q$name\E":("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false|null)/
         ? $1 : undef;
}

# the member names of the first object at depth DEPTH, in order
sub keys_at_depth {
    my ($text, $want) = @_;
    my ($depth, @keys, $in, $done) = (0);
    my $i = 0;
    my $len = length $text;
    while ($i < $len) {
        my $c = substr $text, $i, 1;
        if ($c eq '"') {
            my $j = $i + 1;
            while ($j < $len) {
                my $d = substr $text, $j, 1;
                if ($d eq '\\') { $j += 2; next }
                last if $d eq '"';
                $j++;
            }
            my $s = substr $text, $i + 1, $j - $i - 1;
            my $rest = substr $text, $j + 1, 2;
            push @keys, $s if $in && $depth == $want && $rest =~ /^\s*:/;
            $i = $j + 1;
            next;
        }
        if ($c eq '{' || $c eq '[') {
            $depth++;
            $in = 1 if $c eq '{' && $depth == $want && !$done;
        } elsif ($c eq '}' || $c eq ']') {
            if ($in && $depth == $want) { $in = 0; $done = 1 }
            $depth--;
        }
        $i++;
    }
    return @keys;
}

sub rows_of {
    my ($j) = @_;
    return ref $j->{rows} eq 'ARRAY' ? $j->{rows} : [];
}

# an ISO 8601 timestamp with an offset, as seconds since the epoch
sub iso_instant {
    my ($s) = @_;
    my ($y, $mo, $d, $h, $mi, $se, $sign, $oh, $om) = $s =~
        /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?([+-])(\d\d):(\d\d)$/
        or return undef;
    my $t = timegm($se, $mi, $h, $d, $mo - 1, $y);
    my $off = ($oh * 3600 + $om * 60) * ($sign eq '+' ? 1 : -1);
    return $t - $off;
}

my $T = JSON::XS::true;
my $F = JSON::XS::false;

my %want1 = (
    id => 1, i2 => -32768, i4 => 2147483647, i8 => 9007199254740992,
    i8_big => '9007199254740993', i8_neg => '-9223372036854775808',
    f4 => 1.5, f8 => 0.1, f8_nan => 'NaN', f8_inf => 'Infinity',
    f8_ninf => '-Infinity', num => '12345.67890',
    num_big => '123456789012345678901234567890.123',
    b_true => $T, b_false => $F,
    t => "Gr\x{fc}\x{df}e \"quoted\" back\\slash\nnew line \x{1F389}",
    vc => 'varchar', ch => 'ab  ',
    j => { a => [1, 2, { b => undef }], s => 'x' },
    jb => { kk => { nn => 1.25, tt => $T } },
    j_scalar => 'just a string',
    by => 'AP8Q', by_empty => '',
    ts => '2024-01-02T03:04:05', ts_frac => '2024-01-02T03:04:05.123456',
    d => '2024-01-02', u => 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    iv => '1 day 02:00:00', ip => '192.168.0.1/24', m => 'happy', o => 1234,
    a_int => [1, 2, 3], a_text => ['a', 'b c', undef], a_2d => [[1, 2], [3, 4]],
    a_null => [1, undef, 3], a_empty => [], a_bool => [$T, $F],
    a_i8 => ['9007199254740993', 1], a_num => ['1.50', '2'],
    a_f8 => [1.5, 'NaN'], a_jsonb => [{ a => 1 }, [$T]],
    a_ts => ['2024-01-02T03:04:05'],
    a_quote => ['a"b', 'c\\d', 'e,f', '{g}', 'NULL'],
);

# the raw form of the scalar members: numbers are numbers, the rest strings
my %raw1 = (
    i2 => '-32768', i4 => '2147483647', i8 => '9007199254740992',
    i8_big => '"9007199254740993"', i8_neg => '"-9223372036854775808"',
    f8_nan => '"NaN"', f8_inf => '"Infinity"', f8_ninf => '"-Infinity"',
    num => '"12345.67890"', b_true => 'true', b_false => 'false',
    by => '"AP8Q"', o => '1234', m => '"happy"',
);

my @columns = split /,/, $pg->psql(
    "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute "
    . "WHERE attrelid = 'everything'::regclass AND attnum > 0 AND NOT attisdropped");
is(scalar @columns, 44, 'the table has its 44 columns');

for my $era ('2025-11-25', MODERN) {
    my $E = $era;

    # --- every type -------------------------------------------------------

    my $r = call($era, 'everything');
    my ($j, $text) = tool_json($r, "$E everything");
    my $rows = rows_of($j);
    is(scalar @$rows, 2, "$E everything: two rows");
    is($j->{rowCount}, 2, "$E everything: rowCount 2");
    ok(exists $j->{truncated} && !$j->{truncated}, "$E everything: truncated false");
    is(raw_member($text, 'truncated'), 'false', "$E everything: truncated is a JSON false");
    is_deeply([ keys_at_depth($text, 1) ], ['rows', 'rowCount', 'truncated'],
              "$E everything: rows, rowCount, truncated in that order");

    my $row = $rows->[0] || {};
    is_deeply([ keys_at_depth($text, 3) ], \@columns,
              "$E everything: the members in column order");

    my $tstz = delete $row->{tstz};
    my %got = %$row;
    for my $col (sort keys %want1) {
        is_deeply($got{$col}, $want1{$col}, "$E everything: $col")
            or diag(json_encode($got{$col}));
    }
    for my $col (sort keys %raw1) {
        is(raw_member($text, $col), $raw1{$col}, "$E everything: $col as JSON");
    }
    like(raw_member($text, 'f8') // '', qr/^0\.1(?:0*)?$/,
         "$E everything: f8 is a number");
    like(raw_member($text, 'f4') // '', qr/^1\.5(?:0*)?$/,
         "$E everything: f4 is a number");
    like($tstz // '', qr/^2024-01-0[12]T\d\d:\d\d:05(?:\.0+)?[+-]\d\d:\d\d$/,
         "$E everything: timestamptz as ISO 8601 with an offset");
    is(iso_instant($tstz // ''), timegm(5, 4, 3, 2, 0, 2024),
       "$E everything: timestamptz is the right instant");

    my $nulls = $rows->[1] || {};
    is($nulls->{id}, 2, "$E everything: the second row");
    is(scalar(grep { defined $nulls->{$_} } grep { $_ ne 'id' } @columns), 0,
       "$E everything: NULLs are null");
    is(scalar(grep { exists $nulls->{$_} } @columns), 44,
       "$E everything: a NULL column is there, as null");
    like($text, qr/"a_int":null/, "$E everything: a NULL array is null");

    # --- statements without rows -----------------------------------------

    my $count = $pg->psql('SELECT count(*) FROM items');
    ($j, $text) = tool_json(call($era, 'add_item', { name => "one $era" }),
                            "$E INSERT");
    is_deeply($j, { rowCount => 1 }, "$E INSERT: {rowCount: 1}");
    is($pg->psql('SELECT count(*) FROM items'), $count + 1, "$E INSERT: the row is there");

    ($j) = tool_json(call($era, 'add_items', { n => 4 }), "$E INSERT of 4");
    is_deeply($j, { rowCount => 4 }, "$E INSERT of 4: {rowCount: 4}");

    ($j) = tool_json(call($era, 'rename_items', { prefix => 'bulk', suffix => '!' }),
                     "$E UPDATE");
    is_deeply($j, { rowCount => 4 }, "$E UPDATE: rowCount is the rows changed");

    ($j) = tool_json(call($era, 'rename_items', { prefix => 'nothing', suffix => '!' }),
                     "$E UPDATE of nothing");
    is_deeply($j, { rowCount => 0 }, "$E UPDATE of nothing: rowCount 0");

    ($j) = tool_json(call($era, 'delete_items', { prefix => 'bulk' }), "$E DELETE");
    is_deeply($j, { rowCount => 4 }, "$E DELETE: rowCount is the rows deleted");
    is($pg->psql("SELECT count(*) FROM items WHERE name LIKE 'bulk%'"), 0,
       "$E DELETE: they are gone");

    # libpq counts no rows for CALL, TRUNCATE, NOTIFY, ...: still valid JSON
    ($j) = tool_json(call($era, 'notify', {}), "$E NOTIFY");
    is_deeply($j, { rowCount => 0 }, "$E a command without a row count: rowCount 0");

    ($j) = tool_json(call($era, 'add_item_returning', { name => "ret $era" }),
                     "$E INSERT RETURNING");
    is($j->{rowCount}, 1, "$E INSERT RETURNING: rowCount 1");
    is(rows_of($j)->[0]{name}, "ret $era", "$E INSERT RETURNING: the row");
    like(rows_of($j)->[0]{id} // '', qr/^\d+$/, "$E INSERT RETURNING: its id");
    ok(exists $j->{truncated} && !$j->{truncated}, "$E INSERT RETURNING: truncated false");

    # --- zero rows ----------------------------------------------------------

    ($j, $text) = tool_json(call($era, 'none'), "$E zero rows");
    is_deeply($j, { rows => [], rowCount => 0, truncated => $F },
              "$E zero rows: {rows: [], rowCount: 0, truncated: false}");

    # --- truncation ---------------------------------------------------------

    ($j) = tool_json(call($era, 'series3', { n => 10 }), "$E max_rows=3 of 10");
    is_deeply(rows_of($j), [ map { { i => $_ } } 1 .. 3 ],
              "$E max_rows=3 of 10: the first three rows");
    is($j->{rowCount}, 3, "$E max_rows=3 of 10: rowCount 3");
    ok($j->{truncated}, "$E max_rows=3 of 10: truncated");

    ($j) = tool_json(call($era, 'series3', { n => 3 }), "$E max_rows=3 of 3");
    is($j->{rowCount}, 3, "$E max_rows=3 of 3: rowCount 3");
    ok(!$j->{truncated}, "$E max_rows=3 of 3: not truncated");

    ($j) = tool_json(call($era, 'series', { n => 10 }, path => '/mcp-small'),
                     "$E mcp_postgres_max_rows 5");
    is_deeply(rows_of($j), [ map { { i => $_ } } 1 .. 5 ],
              "$E mcp_postgres_max_rows 5: five rows");
    ok($j->{truncated}, "$E mcp_postgres_max_rows 5: truncated");

    ($j) = tool_json(call($era, 'series', { n => 1001 }), "$E default max_rows");
    is(scalar @{ rows_of($j) }, 1000, "$E default max_rows: 1000 rows");
    is($j->{rowCount}, 1000, "$E default max_rows: rowCount 1000");
    ok($j->{truncated}, "$E default max_rows: truncated");
    is(rows_of($j)->[999]{i}, 1000, "$E default max_rows: the first 1000");

    ($j) = tool_json(call($era, 'series', { n => 1000 }), "$E 1000 rows");
    ok(!$j->{truncated}, "$E 1000 rows: not truncated");

    ($j, $text) = tool_json(call($era, 'sized'), "$E max_size=1k");
    $rows = rows_of($j);
    ok($j->{truncated}, "$E max_size=1k: truncated");
    ok(@$rows >= 5 && @$rows < 50, "$E max_size=1k: some rows (" . @$rows . ')');
    is($j->{rowCount}, scalar @$rows, "$E max_size=1k: rowCount is the rows given");
    is_deeply($rows, [ map { { i => $_, pad => 'x' x 100 } } 1 .. @$rows ],
              "$E max_size=1k: whole rows, the first ones, none cut");
    ok(length($text) <= 1024 + 100, "$E max_size=1k: about 1k of JSON ("
                                    . length($text) . ')');

    ($j) = tool_json(call($era, 'sized_fits'), "$E max_size=1k, fits");
    is(scalar @{ rows_of($j) }, 3, "$E max_size=1k, fits: three rows");
    ok(!$j->{truncated}, "$E max_size=1k, fits: not truncated");

    $r = call($era, 'huge_row');
    my $res = result($r);
    is($r->{status}, 200, "$E a row larger than max_size: HTTP 200");
    if ($res->{isError}) {
        pass("$E a row larger than max_size: an error");
        unlike($r->{body}, qr/yyyyyyyyyy/, "$E a row larger than max_size: no part of it");
    } else {
        my $hj = $res->{structuredContent} || {};
        is_deeply($hj, { rows => [], rowCount => 0, truncated => $T },
                  "$E a row larger than max_size: no row, truncated");
        unlike($r->{body}, qr/yyyyyyyyyy/, "$E a row larger than max_size: no part of it");
    }

    # --- resources ----------------------------------------------------------

    $r = request($era, 'resources/read', { uri => 'shop://orders/1' });
    my $c = result($r)->{contents} || [];
    is(scalar @$c, 1, "$E template: one contents item") or diag($r->{body});
    is($c->[0]{uri}, 'shop://orders/1', "$E template: its uri");
    is($c->[0]{mimeType}, 'application/json', "$E template: application/json");
    is_deeply(json_decode(encode_utf8($c->[0]{text} // '')),
              { rows => [ { id => 1, status => 'shipped', total => '19.99' } ],
                rowCount => 1, truncated => $F },
              "$E template: the rows' JSON");

    $r = request($era, 'resources/read', { uri => 'shop://status/3' });
    $c = result($r)->{contents} || [];
    is(scalar @$c, 1, "$E text/plain template: one item") or diag($r->{body});
    is($c->[0]{mimeType}, 'text/plain', "$E text/plain template: text/plain");
    is($c->[0]{text}, 'shipped', "$E text/plain template: the single value as text");

    $r = request($era, 'resources/read', { uri => 'shop://orders/42' });
    my $err = $r->{json} && $r->{json}{error};
    is($err && $err->{code}, $era eq MODERN ? -32602 : -32002,
       "$E template: no row is resource not found") or diag($r->{body});

    $r = request($era, 'resources/read', { uri => 'shop://status/42' });
    $err = $r->{json} && $r->{json}{error};
    is($err && $err->{code}, $era eq MODERN ? -32602 : -32002,
       "$E text/plain template: no row is resource not found");

    $r = request($era, 'resources/read', { uri => 'shop://stats' });
    $c = result($r)->{contents} || [];
    is($c->[0]{mimeType}, 'application/json', "$E resource: application/json by default");
    is_deeply(json_decode($c->[0]{text} // ''),
              { rows => [ { n => 3, total => '124.99' } ], rowCount => 1,
                truncated => $F },
              "$E resource: the rows' JSON (count as a number, sum as numeric)");

    $r = request($era, 'resources/read', { uri => 'shop://statuses' });
    $c = result($r)->{contents} || [];
    # the issue: "the rows' JSON as application/json text (or the single
    # value's text when ... one column of one row and the block sets a text
    # mime type)": rows are JSON, and their content says so
    is($c->[0]{mimeType}, 'application/json',
       "$E resource of rows, text/plain block: the rows' JSON is application/json");
    is_deeply(json_decode($c->[0]{text} // ''),
              { rows => [ { id => 1, status => 'shipped' }, { id => 2, status => 'new' },
                          { id => 3, status => 'shipped' } ],
                rowCount => 3, truncated => $F },
              "$E resource of rows, text/plain: the rows' JSON, not one value");

    $r = request($era, 'resources/read', { uri => 'shop://orders/abc' });
    $err = $r->{json} && $r->{json}{error};
    is($err && $err->{code}, -32603, "$E template with a bad value: -32603");
    like($err && $err->{message} // '',
         qr/\QPostgreSQL error 22P02: invalid input syntax for type integer: "abc"\E/,
       "$E template with a bad value: the PostgreSQL error");

    # --- prompts ------------------------------------------------------------

    $r = request($era, 'prompts/get',
                 { name => 'order_summary', arguments => { id => '2' } });
    my $msgs = result($r)->{messages} || [];
    is(scalar @$msgs, 1, "$E prompt: one message") or diag($r->{body});
    is($msgs->[0]{role}, 'user', "$E prompt: a user message");
    is($msgs->[0]{content}{type}, 'text', "$E prompt: text");
    is_deeply(json_decode($msgs->[0]{content}{text} // ''),
              { rows => [ { id => 2, status => 'new', total => '5.00' } ],
                rowCount => 1, truncated => $F },
              "$E prompt: the rows' JSON");

    $r = request($era, 'prompts/get',
                 { name => 'order_summary', arguments => { id => '42' } });
    $msgs = result($r)->{messages} || [];
    is_deeply(json_decode($msgs->[0]{content}{text} // ''),
              { rows => [], rowCount => 0, truncated => $F },
              "$E prompt without rows: a message with no rows");

    $r = request($era, 'prompts/get',
                 { name => 'order_summary', arguments => { id => 'x' } });
    $err = $r->{json} && $r->{json}{error};
    is($err && $err->{code}, -32603, "$E prompt with a bad value: -32603");
    like($err && $err->{message} // '',
         qr/\QPostgreSQL error 22P02: invalid input syntax for type integer: "x"\E/,
       "$E prompt with a bad value: the PostgreSQL error");
}

# the oldest revision gets the same answer
{
    my $sid = mcp_init('2025-03-26');
    my $r = legacy_post($sid, '2025-03-26', 'tools/call',
                        { name => 'series3', arguments => { n => 2 } });
    my $t = result($r)->{content} && result($r)->{content}[0]{text};
    is_deeply(json_decode($t // ''),
              { rows => [ { i => 1 }, { i => 2 } ], rowCount => 2, truncated => $F },
              '2025-03-26: the rows as text');
}

stop_nginx();
done_testing();
