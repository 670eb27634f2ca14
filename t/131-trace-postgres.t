#!/usr/bin/perl
# One trace followed from the request to PostgreSQL and to a `pass`
# location (issue 16): with `mcp_postgres_trace_comment on;` the statement
# that a `postgres` tool sends starts with the call's traceparent as a SQL
# comment, which the database itself sees (the tool reads its own query
# text from pg_stat_activity), carrying the request's trace id and a span
# of the call's own; without it, the statement is sent as before
# (prepared, no comment); the access log's $mcp_trace_id is the same id.
# A real PostgreSQL 15 runs under the test (MCP::Pg).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MCP::Pg;
use Test::More;
use MCP::Test;
use Time::HiRes qw(sleep);

my $pg = MCP::Pg->new(sql => ["CREATE TABLE t (id integer);"]);
my $conf = $pg->fill(<<'EOF');
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 256; }
http {
    log_format trace '$mcp_entry $mcp_trace_id $mcp_span_id';
    access_log %%TESTDIR%%/trace.log trace;
    upstream traced {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=secret;
        mcp_postgres_trace_comment on;
    }
    upstream plain {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=secret;
    }
    mcp_server s {
        tool traced {
            description "Its own statement as the server saw it";
            postgres traced "SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid()";
        }
        tool plain {
            description "The same, without the comment";
            postgres plain "SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid()";
        }
        tool echo { description "Headers"; pass /echo; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass s; }
        location = /echo {
            internal;
            access_log off;
            default_type application/json;
            return 200 '{"traceparent":"$http_traceparent"}';
        }
    }
}
EOF

start_nginx($conf);

my $trace = '4bf92f3577b34da6a3ce929d0e0e4736';
my $parent = '00f067aa0ba902b7';

sub call {
    my ($tool, %o) = @_;
    my $res = modern_post('tools/call', { name => $tool, arguments => {} }, %o);
    my $sc = $res->{json} && $res->{json}{result} && $res->{json}{result}{structuredContent};
    return ($res, $sc);
}

# the statement the database ran, with the call's span first

my ($res, $sc) = call('traced', headers => [ traceparent => "00-$trace-$parent-01" ]);
is($res->{status}, 200, 'a traced postgres tool answers');
my $query = $sc && $sc->{rows} && $sc->{rows}[0]{query} // '';
like($query, qr{^/\* traceparent='00-$trace-([0-9a-f]{16})-01' \*/ SELECT query FROM pg_stat_activity},
     'PostgreSQL sees the statement with the traceparent comment first')
    or diag($query);
my ($pg_span) = $query =~ /00-$trace-([0-9a-f]{16})-/;
isnt($pg_span // '', $parent, '... a span of the call, not the client\'s');

# again: each call a span of its own; the statement is not prepared

($res, $sc) = call('traced', headers => [ traceparent => "00-$trace-$parent-00" ]);
my $again = $sc && $sc->{rows} && $sc->{rows}[0]{query} // '';
my ($span2) = $again =~ /00-$trace-([0-9a-f]{16})-00'/;
ok($span2 && $span2 ne ($pg_span // ''), 'a second call has its own span, flags 00 kept')
    or diag($again);

# without the upstream's flag: no comment

($res, $sc) = call('plain', headers => [ traceparent => "00-$trace-$parent-01" ]);
my $plain = $sc && $sc->{rows} && $sc->{rows}[0]{query} // '';
is($plain, 'SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid()',
   'without mcp_postgres_trace_comment the statement is as written');

# no incoming trace: a new trace id, in the statement and in the log

($res, $sc) = call('traced');
my $fresh = $sc && $sc->{rows} && $sc->{rows}[0]{query} // '';
my ($new_trace) = $fresh =~ m{^/\* traceparent='00-([0-9a-f]{32})-[0-9a-f]{16}-00' \*/};
ok($new_trace && $new_trace ne $trace && $new_trace !~ /^0+$/,
   'without a traceparent the call starts a new trace') or diag($fresh);

# the pass location gets the same trace

($res, $sc) = call('echo', headers => [ traceparent => "00-$trace-$parent-01" ]);
like($sc && $sc->{traceparent} // '', qr/^00-$trace-[0-9a-f]{16}-01$/,
     'a pass location receives the request\'s trace');

# the access log names the same trace id

my $log = '';
for (1 .. 50) {
    $log = -e testdir() . '/trace.log' ? do { local (@ARGV, $/) = (testdir() . '/trace.log'); <> } : '';
    last if ($log =~ tr/\n//) >= 5;
    sleep 0.1;
}
like($log, qr/^traced $trace [0-9a-f]{16}$/m, 'the access log has the trace id of the request');
like($log, qr/^traced $new_trace [0-9a-f]{16}$/m, '... and the new one') if $new_trace;
unlike($log, qr/secret/, 'no password in the access log');

stop_nginx();

done_testing();
