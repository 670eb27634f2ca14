#!/usr/bin/perl
# mcp_audit_postgres (docs/directives.md, "Audit"): the audit's records
# inserted into a PostgreSQL table as well, with a real PostgreSQL 15 under
# the test (MCP::Pg).  Each call leaves exactly one row whose record is the
# object of the file's line; a location with only the table, or only the
# file; quotes, backslashes, control characters and non-ASCII text survive,
# U+0000 becomes U+FFFD; while the table is locked (a slow database)
# requests answer at once and the records that waited go in one statement;
# a full queue drops and counts (mcp_audit_dropped_total); a killed
# PostgreSQL drops and counts while requests answer promptly, and inserts
# resume after it is started again; a reload waits for the insert in flight;
# nginx -t refuses a bad table, an unknown upstream, bad parameters.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MCP::Pg;
use Test::More;
use MCP::Test;
use JSON::XS;
use POSIX qw(_exit);
use Time::HiRes qw(time sleep);

my $pg = MCP::Pg->new(sql => [<<'SQL']);
CREATE SCHEMA audit;
CREATE TABLE audit.events (
    id      bigserial PRIMARY KEY,
    created timestamptz NOT NULL DEFAULT now(),
    record  jsonb NOT NULL
);
SQL

my $JS = JSON::XS->new->utf8->canonical->allow_nonref;

my $conf = $pg->fill(<<'EOF');
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;

    upstream auditdb {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=secret connect_timeout=2;
        mcp_postgres_queue_timeout 500ms;
    }

    mcp_audit_log audit.log;
    mcp_audit_postgres auditdb audit.events queue=50 timeout=6s;

    mcp_server shop {
        tool hello { description "Hello"; argument who string; text "hi"; }
        tool full {
            description "Full";
            argument note string;
            audit_arguments full;
            text "ok";
        }
        tool failing { description "Fails"; error "nope"; }
        resource docs://readme { name readme; text "read me"; }
        tool ro {
            description "Read-only";
            annotations read_only;
            postgres auditdb "SELECT current_setting('transaction_read_only') AS ro";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass shop; }
        location = /pgonly { mcp_pass shop; mcp_audit_log off; }
        location = /fileonly { mcp_pass shop; mcp_audit_postgres off; }
        location = /metrics { mcp_metrics; }
    }
}
EOF

start_nginx($conf);

my $audit = testdir() . '/audit.log';

# ---------------------------------------------------------------------------
# helpers

sub file_lines {
    open my $fh, '<:raw', $audit or return ();
    my @l = <$fh>;
    close $fh;
    chomp @l;
    return @l;
}

# the rows' records in insertion order, decoded
sub rows {
    my $out = $pg->psql('SELECT record::text FROM audit.events ORDER BY id');
    return map { $JS->decode($_) } grep { length } split /\n/, $out;
}

sub nrows { return 0 + $pg->psql('SELECT count(*) FROM audit.events') }

# waits until the table has $n rows (or 10 s); returns the count
sub wait_rows {
    my ($n, $secs) = @_;
    my $c = 0;
    my $end = time + ($secs // 10);
    while (time < $end) {
        $c = nrows();
        last if $c >= $n;
        sleep 0.05;
    }
    return $c;
}

sub dropped {
    my $b = http('GET', '/metrics')->{body} // '';
    return $b =~ /^mcp_audit_dropped_total (\d+)$/m ? $1 : undef;
}

sub wait_dropped {
    my ($n) = @_;
    my $d = dropped();
    for (1 .. 200) {
        last if defined $d && $d >= $n;
        sleep 0.05;
        $d = dropped();
    }
    return $d;
}

sub call {
    my ($path, $id, $name, $args) = @_;
    my $body = $JS->encode({ jsonrpc => '2.0', id => $id,
                             method => 'tools/call',
                             params => { name => $name,
                                         arguments => $args // {},
                                         _meta => {
        'io.modelcontextprotocol/protocolVersion' => MODERN,
        'io.modelcontextprotocol/clientCapabilities' => {},
        'io.modelcontextprotocol/clientInfo' => { name => 'mcp-test',
                                                  version => '1.0.0' } } } });
    return modern_post('tools/call', { name => $name }, body => $body,
                       path => $path);
}

# a call, and how long it took to answer
sub timed_call {
    my $t0 = time;
    my $r = call(@_);
    return ($r, time - $t0);
}

# a psql of its own that holds the table's lock for $secs, in the
# background; returns once the lock is held
sub lock_table {
    my ($secs) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        $pg->try_psql("BEGIN; LOCK TABLE audit.events IN ACCESS EXCLUSIVE MODE;"
                      . " SELECT pg_sleep($secs); COMMIT;");
        _exit(0);
    }
    for (1 .. 100) {
        last if $pg->psql("SELECT count(*) FROM pg_locks WHERE granted AND "
                          . "mode = 'AccessExclusiveLock' AND relation = "
                          . "'audit.events'::regclass") > 0;
        sleep 0.05;
    }
    return $pid;
}

# ---------------------------------------------------------------------------
# the same records as the file's lines

my $base;
my $r = call('/mcp', 'c-1', 'hello', { who => 'bob' });
is($r->{status}, 200, 'tools/call hello: 200');
call('/mcp', 2, 'failing', {});
modern_post('resources/read', { uri => 'docs://readme' }, path => '/mcp');

is(wait_rows(3), 3, 'three calls: three rows');
my @lines = file_lines();
is(scalar @lines, 3, '... and three lines in the file');
my @rows = rows();
is_deeply([ map { $JS->decode($_) } @lines ], \@rows,
          'each row\'s record is the object of the file\'s line, in order');
is_deeply([ map { $_->{event} } @rows ], [ qw(call call call) ],
          '... call events');
is_deeply([ map { $_->{outcome} } @rows ], [ 'ok', 'tool_error', 'ok' ],
          '... with their outcomes');
is_deeply([ sort keys %{ $rows[0] } ],
          [ sort qw(time event request_id session subject tenant client
                    method entry arguments outcome error status duration_ms
                    target trace_id) ],
          '... the file\'s members, no chain members');
like($rows[0]{arguments}{sha256} // '', qr/^[0-9a-f]{64}$/,
     '... arguments as their hash by default');

# one destination or the other

call('/pgonly', 'p-1', 'hello', { who => 'x' });
is(wait_rows(4), 4, 'mcp_audit_log off: a row still');
sleep 0.2;
is(scalar(my @l = file_lines()), 3, '... and no line');
is((rows())[-1]{request_id}, 'p-1', '... the row of that call');

call('/fileonly', 'f-1', 'hello', { who => 'x' });
for (1 .. 100) { last if file_lines() >= 4; sleep 0.05 }
is(scalar(@l = file_lines()), 4, 'mcp_audit_postgres off: a line');
sleep 0.3;
is(nrows(), 4, '... and no row');

# values that SQL and JSON quoting would break

my $note = qq{it's "quoted" \\ back\\slash \\' ; DROP TABLE audit.events; --}
         . qq{ \x{e9}t\x{e9} \x{20ac} \x{1F600} \n\t\x{01}};
call('/mcp', qq{id'"\\}, 'full', { note => $note });
is(wait_rows(5), 5, 'a call with quotes, backslashes and unicode: a row');
my $last = (rows())[-1];
is($last->{arguments}{note}, $note, '... the argument intact');
is($last->{request_id}, qq{id'"\\}, '... and the id');
is_deeply($last, $JS->decode((file_lines())[-1]), '... as in the file');
is($pg->psql("SELECT to_regclass('audit.events') IS NOT NULL"), 't',
   '... the table is still there');

call('/mcp', 'nul', 'full', { note => "a\x{0}b" });
is(wait_rows(6), 6, 'an argument with U+0000: a row');
is((rows())[-1]{arguments}{note}, "a\x{fffd}b",
   '... U+0000 stored as U+FFFD (jsonb cannot hold it)');

# a read-only tool on the same upstream leaves its connection read-only by
# default: the audit's insert makes it writable, the tool's next call
# read-only again

$base = nrows();
for my $i (1 .. 3) {
    $r = call('/mcp', "ro-$i", 'ro', {});
    is($r->{json} && $r->{json}{result}{structuredContent}{rows}[0]{ro}, 'on',
       "read-only tool call $i runs read-only");
    is(wait_rows($base + $i), $base + $i, '... and its record is inserted');
}
is_deeply([ map { $_->{entry} } (rows())[-3 .. -1] ], [qw(ro ro ro)],
          '... the rows of those calls');

my $dropped0 = dropped();
is($dropped0, 0, 'nothing dropped so far');

# ---------------------------------------------------------------------------
# a slow database: requests do not wait, what waits goes in one statement

$base = nrows();
my $lock = lock_table(2.5);
my $slowest = 0;
for my $i (1 .. 20) {
    my ($res, $dt) = timed_call('/mcp', "b-$i", 'hello', { who => "$i" });
    $slowest = $dt if $dt > $slowest;
    is($res->{status}, 200, "call b-$i answers while the table is locked")
        if $i == 1 || $i == 20;
}
cmp_ok($slowest, '<', 1, 'no call waited for the insert');
is(waitpid($lock, POSIX::WNOHANG()), 0,
   '... all answered while the table was still locked');
waitpid $lock, 0;
is(wait_rows($base + 20), $base + 20, 'after the lock: all 20 rows');
my $stmts = $pg->psql("SELECT count(DISTINCT xmin::text) FROM audit.events "
                      . "WHERE id > (SELECT max(id) - 20 FROM audit.events)");
cmp_ok($stmts, '<=', 3, "... inserted by $stmts statements: batched");
is_deeply([ map { $_->{request_id} } (rows())[-20 .. -1] ],
          [ map { "b-$_" } 1 .. 20 ], '... in the order of the calls');
is(dropped(), 0, '... none dropped');

# a full queue: queue=50 records wait, the others are dropped and counted

$base = nrows();
$lock = lock_table(5);
call('/mcp', 'q-0', 'hello', {});          # the batch in flight
sleep 0.2;
$slowest = 0;
for my $i (1 .. 60) {
    my (undef, $dt) = timed_call('/mcp', "q-$i", 'hello', {});
    $slowest = $dt if $dt > $slowest;
}
cmp_ok($slowest, '<', 1, 'a full queue: calls still answer at once');
is(waitpid($lock, POSIX::WNOHANG()), 0, '... the table still locked');
is(dropped(), 10, '... the 10 records beyond queue=50 are dropped and '
                  . 'counted');
waitpid $lock, 0;
is(wait_rows($base + 51), $base + 51, '... the 51 others are inserted');
sleep 0.3;
is(nrows(), $base + 51, '... and no more');
like(error_log_text(), qr/mcp audit: \d+ record\(s\) for mcp_audit_postgres "auditdb" "audit\.events" dropped: the queue is full/,
     '... the error log says so');

# ---------------------------------------------------------------------------
# PostgreSQL killed: records dropped and counted, requests answer promptly

$pg->kill;
my $d0 = dropped();
$slowest = 0;
for my $i (1 .. 5) {
    my ($res, $dt) = timed_call('/mcp', "k-$i", 'hello', {});
    is($res->{status}, 200, "k-$i answers with PostgreSQL down") if $i == 1;
    $slowest = $dt if $dt > $slowest;
    sleep 0.1;
}
cmp_ok($slowest, '<', 1, '... every call at once');
is(wait_dropped($d0 + 5), $d0 + 5, '... its 5 records dropped and counted');
is(scalar(@l = file_lines()), 4 + 2 + 3 + 20 + 61 + 5,
   '... the file has them all the same');

$pg->start;
$base = nrows();
call('/mcp', "s-$_", 'hello', {}) for 1 .. 3;
is(wait_rows($base + 3), $base + 3, 'PostgreSQL started again: inserts resume');
is_deeply([ map { $_->{request_id} } (rows())[-3 .. -1] ], [qw(s-1 s-2 s-3)],
          '... the new calls\' rows');
is(dropped(), $d0 + 5, '... nothing more dropped');
unlike(error_log_text(), qr/secret/, 'no password in the error log');

# ---------------------------------------------------------------------------
# a reload waits for the insert in flight

$base = nrows();
$lock = lock_table(1.5);
call('/mcp', 'r-1', 'hello', {});
sleep 0.2;
reload_nginx(workers => 1);
waitpid $lock, 0;
is(wait_rows($base + 1), $base + 1,
   'reload: the old worker inserted its record before it exited');
is((rows())[-1]{request_id}, 'r-1', '... r-1\'s');

call('/mcp', 'r-2', 'hello', {});
is(wait_rows($base + 2), $base + 2, '... and the new worker inserts');

stop_nginx();

# ---------------------------------------------------------------------------
# timeout=: a batch without an answer is dropped and counted, and a reload
# does not wait longer than that for it

(my $short = $conf) =~ s/queue=50 timeout=6s/timeout=1s/ or die;
start_nginx($short);
call('/mcp', 'w-0', 'hello', {});
sleep 0.3;
my $d1 = dropped();
$lock = lock_table(5);
my $t0 = time;
call('/mcp', 't-1', 'hello', {});
is(wait_dropped($d1 + 1), $d1 + 1, 'timeout=1s: a batch with no answer is '
                                   . 'dropped and counted');
cmp_ok(time - $t0, '<', 3, '... after about a second');
like(error_log_text(), qr/dropped: no answer within timeout=/,
     '... the error log says why');

call('/mcp', 't-2', 'hello', {});
$t0 = time;
reload_nginx(workers => 1);
cmp_ok(time - $t0, '<', 3.5, '... a reload with a batch out: the old worker '
                             . 'exits after timeout=, not after the lock');
is(waitpid($lock, POSIX::WNOHANG()), 0, '... while the table is still locked');
is(wait_dropped($d1 + 2), $d1 + 2, '... and its record is counted as dropped');
waitpid $lock, 0;
stop_nginx();

# ---------------------------------------------------------------------------
# the table alone (no file, no mcp_metrics location) still gets the whole
# record: the entry's audit_arguments and its backend target

(my $alone = $conf) =~ s/\n    mcp_audit_log audit.log;\n/\n/ or die;
$alone =~ s/\n        location = \/metrics \{ mcp_metrics; \}\n/\n/ or die;
start_nginx($alone);
my $before = nrows();
call('/mcp', 'a-1', 'full', { note => 'all of it' });
call('/mcp', 'a-2', 'ro', {});
is(wait_rows($before + 2), $before + 2, 'the table alone: a row for each call');
my @alone = (rows())[-2, -1];
is_deeply($alone[0]{arguments}, { note => 'all of it' },
          "the table alone: the entry's audit_arguments full is followed");
is($alone[1]{target}, 'auditdb', "the table alone: a postgres entry's target")
    or diag(explain($alone[1]));
ok(!-e $audit || !grep({ /"a-1"/ } file_lines()), '... and no file line');
stop_nginx();

# ---------------------------------------------------------------------------
# nginx -t

my $head = $pg->fill(<<'EOF');
load_module %%MODULE%%;
events { worker_connections 64; }
http {
    upstream auditdb {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=secret;
    }
    mcp_server s { tool t { description "T"; text "x"; } }
EOF
my $tail = <<'EOF';
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass s; }
    }
}
EOF

for my $bad ('"audit.events; DROP TABLE x"', 'Audit', 'a.b.c', '1abc',
             'audit.', '.events', q{'ev"il'}, '$x', 'a' x 64)
{
    (my $shown = $bad) =~ s/^(["'])(.*)\1$/$2/;
    nginx_t_fails($head . "    mcp_audit_postgres auditdb $bad;  #<-\n" . $tail,
                  qr/invalid table "\Q$shown\E" in "mcp_audit_postgres"/,
                  name => "nginx -t refuses the table $bad");
}

nginx_t_ok($head . "    mcp_audit_postgres auditdb s_1.t\$x;\n" . $tail,
           name => 'nginx -t takes schema.table with digits, _ and $');
nginx_t_ok($head . "    mcp_audit_postgres auditdb user;\n" . $tail,
           name => '... and a reserved word (it is quoted)');

nginx_t_fails($head . "    mcp_audit_postgres nosuch audit.events;  #<-\n"
              . $tail,
              qr/no upstream "nosuch" with "mcp_postgres_server" for "mcp_audit_postgres"/,
              name => 'nginx -t refuses an unknown upstream');
nginx_t_fails($head . "    mcp_audit_postgres auditdb t queue=0;  #<-\n" . $tail,
              qr/invalid queue size "queue=0"/,
              name => 'nginx -t refuses queue=0');
nginx_t_fails($head . "    mcp_audit_postgres auditdb t timeout=x;  #<-\n"
              . $tail,
              qr/invalid timeout "timeout=x"/,
              name => 'nginx -t refuses a bad timeout');
nginx_t_fails($head . "    mcp_audit_postgres auditdb t when=now;  #<-\n"
              . $tail,
              qr/invalid parameter "when=now"/,
              name => 'nginx -t refuses an unknown parameter');
nginx_t_fails($head . "    mcp_audit_postgres auditdb;  #<-\n" . $tail,
              qr/takes an upstream and a table/,
              name => 'nginx -t wants a table');
nginx_t_fails($head . "    mcp_audit_postgres auditdb t queue=5;\n"
              . "    server { listen 127.0.0.1:%%PORT_1%%;\n"
              . "        mcp_audit_postgres auditdb t queue=6;  #<-\n"
              . "        location = /x { mcp_pass s; } }\n" . $tail,
              qr/mcp_audit_postgres "auditdb" "t" already defined with conflicting parameters/,
              name => 'nginx -t refuses one table with two queue sizes');

done_testing();
