#!/usr/bin/perl
# Faults between nginx and PostgreSQL, each an answer and never a 5xx, a
# hang or a crash: a statement timeout, the module's own deadline, a full
# pool (the queue timeout, told apart from the statement timeout), a wrong
# password (which no answer and no log line shows), a server that is down,
# that never answers, that is killed in the middle of a query and comes
# back; readiness failing and recovering by itself; and 300 concurrent
# calls over four workers while PostgreSQL is killed and restarted, after
# which no worker has crashed and each has its file descriptors back.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use MCP::Pg;
use Test::More;
use MCP::Test;
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

my $pg = MCP::Pg->new(sql => [<<'SQL']);
CREATE TABLE orders (id integer PRIMARY KEY, status text NOT NULL);
INSERT INTO orders VALUES (1, 'shipped'), (2, 'new'), (3, 'shipped');
SQL

my $down_port = closed_port();

# a server that takes connections and never says a word
my $hole_port = backend(sub {
    my ($s) = @_;
    my $buf;
    while (sysread $s, $buf, 4096) { }
});

# a server that closes each connection at once
my $slam_port = backend(sub { });

# ---------------------------------------------------------------------------
# helpers

# MCP::Test's helpers under this file's short names; calls are stateless
*result = \&mcp_result;
*text_of = \&mcp_tool_text;
*rows = \&mcp_tool_rows;
*tool_error_is = \&mcp_tool_error_is;

sub call {
    my ($name, $args, %o) = @_;
    return mcp_tool_call(MODERN, $name, $args, %o);
}

# a call in a child process; bg_wait() gives {status, body, json, elapsed}
sub bg_call {
    my ($name, $args) = @_;
    my $file = testdir() . "/bg-" . int(rand 1e9) . ".json";
    my $t0 = time;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $r = eval { call($name, $args) } || {};
        my $out = json_encode({ status => $r->{status}, body => $r->{body},
                                elapsed => time - $t0 });
        if (open my $fh, '>', "$file.tmp") {
            print $fh $out;
            close $fh;
            rename "$file.tmp", $file;
        }
        POSIX::_exit(0);
    }
    return { pid => $pid, file => $file, t0 => $t0 };
}

sub bg_wait {
    my ($h) = @_;
    waitpid $h->{pid}, 0;
    open my $fh, '<', $h->{file} or return { status => 0, body => '', elapsed => 0 };
    local $/;
    my $r = json_decode(<$fh>) || {};
    close $fh;
    $r->{json} = json_decode($r->{body} // '');
    return $r;
}

# the pid of the backend running a statement that has MARK in it
sub backend_running {
    my ($mark) = @_;
    for (1 .. 40) {
        my $pid = $pg->psql("SELECT pid FROM pg_stat_activity WHERE query LIKE '%$mark%' "
                            . "AND state = 'active' AND pid <> pg_backend_pid() LIMIT 1");
        return $pid if $pid =~ /^\d+$/;
        sleep 0.05;
    }
    return undef;
}

# ---------------------------------------------------------------------------
# one worker: timeouts, the queue, authentication, a server down or silent

my $conf1 = $pg->fill(<<'EOF');
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;

    upstream app_db {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=secret;
        mcp_postgres_keepalive 4;
    }
    upstream one_db {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=secret;
        mcp_postgres_max_connections 1;
        mcp_postgres_queue_timeout 500ms;
    }
    upstream bad_pw_db {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=Wrong-Pass-4711;
    }
    upstream url_bad_db {
        mcp_postgres_server postgresql://app:Url-Pass-0815@127.0.0.1:%%PG_PORT%%/app;
    }
    upstream down_db {
        mcp_postgres_server 127.0.0.1:DOWN_PORT dbname=app user=app password=secret;
    }
    upstream hole_db {
        mcp_postgres_server 127.0.0.1:HOLE_PORT dbname=app user=app password=secret;
    }
    upstream slam_db {
        mcp_postgres_server 127.0.0.1:SLAM_PORT dbname=app user=app password=secret;
    }

    mcp_server faults {
        name "pg-faults"; version 1.0.0;

        tool sleepy {
            description "pg_sleep with timeout=1s";
            argument secs number required "Seconds";
            postgres app_db "SELECT pg_sleep($1) AS slept" secs timeout=1s;
        }
        tool frozen {
            description "pg_sleep with timeout=1s, to be stopped";
            argument secs number required "Seconds";
            postgres app_db "SELECT pg_sleep($1) AS frozen_marker" secs timeout=1s;
        }
        tool quick {
            description "Answers at once";
            postgres app_db "SELECT count(*) AS n FROM orders";
        }
        tool slow_one {
            description "Holds the one connection of one_db";
            argument secs number required "Seconds";
            postgres one_db "SELECT pg_sleep($1) AS slow_one_marker" secs timeout=5s;
        }
        tool quick_one {
            description "Needs the one connection of one_db";
            postgres one_db "SELECT 1 AS one";
        }
        tool bad_pw {
            description "Wrong password";
            postgres bad_pw_db "SELECT 1 AS one";
        }
        tool url_bad {
            description "Wrong password in a URL";
            postgres url_bad_db "SELECT 1 AS one";
        }
        tool down {
            description "Nobody listens";
            postgres down_db "SELECT 1 AS one";
        }
        tool hole {
            description "Nobody answers";
            postgres hole_db "SELECT 1 AS one" timeout=1s;
        }
        tool slam {
            description "The server hangs up";
            postgres slam_db "SELECT 1 AS one";
        }
        resource "shop://down" {
            name down;
            postgres down_db "SELECT 1 AS one";
        }
        prompt bad_pw {
            description "Wrong password";
            postgres bad_pw_db "SELECT 1 AS one";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass faults; }
    }
}
EOF
$conf1 =~ s/DOWN_PORT/$down_port/g;
$conf1 =~ s/HOLE_PORT/$hole_port/g;
$conf1 =~ s/SLAM_PORT/$slam_port/g;

start_nginx($conf1);

# first, while each worker's first connection to hole_db (made when the
# worker starts) still waits for an answer: the entry's timeout=1s bounds
# the call, not the 5 s of connecting
my $t0 = time;
my $r = call('hole');
my $el = time - $t0;
tool_error_is($r, qr/^(?:PostgreSQL upstream "hole_db" is unavailable: cannot connect|PostgreSQL did not answer within \d+ ms|No PostgreSQL connection of upstream "hole_db" became free.*)$/,
              'a server that never answers');
ok($el < 3.5, sprintf 'a server that never answers: answered in %.2f s', $el);

$r = call('quick');
is_deeply(rows($r), [ { n => 3 } ], 'the database answers') or diag($r->{body});

# --- the statement timeout ---------------------------------------------------

$t0 = time;
$r = call('sleepy', { secs => 3 });
$el = time - $t0;
tool_error_is($r, 'PostgreSQL error 57014: canceling statement due to statement timeout',
              'statement timeout');
ok($el >= 0.8 && $el < 2.8, sprintf 'statement timeout: after about 1 s (%.2f s)', $el);
$r = call('quick');
is_deeply(rows($r), [ { n => 3 } ], 'statement timeout: the next call works');
$r = call('sleepy', { secs => 0.1 });
ok(!result($r)->{isError}, 'a statement within its timeout works') or diag($r->{body});

# the same in a 2025 session
{
    my $sid = mcp_init('2025-11-25');
    my $lr = legacy_post($sid, '2025-11-25', 'tools/call',
                         { name => 'sleepy', arguments => { secs => 3 } });
    tool_error_is($lr, 'PostgreSQL error 57014: canceling statement due to statement timeout',
                  '2025-11-25: statement timeout');
    $lr = legacy_post($sid, '2025-11-25', 'tools/call', { name => 'down', arguments => {} });
    tool_error_is($lr, qr/^PostgreSQL upstream "down_db" is unavailable: (?:cannot connect|no live servers)$/,
                  '2025-11-25: server down');
}

# --- the module's own deadline: a backend that stops answering -------------

{
    my $h = bg_call('frozen', { secs => 3 });
    my $pid = backend_running('frozen_marker');
    ok($pid, 'the statement runs') or diag($pg->psql('SELECT pid, state, query FROM pg_stat_activity'));
    CORE::kill('STOP', $pid) if $pid;
    my $b = bg_wait($h);
    CORE::kill('CONT', $pid) if $pid;
    is($b->{status}, 200, 'a stopped backend: HTTP 200');
    like(text_of($b) // '', qr/^PostgreSQL did not answer within \d+ ms$/,
         'a stopped backend: the deadline message') or diag($b->{body});
    ok(result($b)->{isError}, 'a stopped backend: isError');
    ok($b->{elapsed} >= 1.5 && $b->{elapsed} < 4.5,
       sprintf 'a stopped backend: after timeout + 1 s (%.2f s)', $b->{elapsed});
    $r = call('quick');
    is_deeply(rows($r), [ { n => 3 } ], 'a stopped backend: the next call works');
}

# --- the queue -----------------------------------------------------------------

{
    my $h = bg_call('slow_one', { secs => 2 });
    ok(backend_running('slow_one_marker'), 'the one connection is busy');
    my $t = time;
    $r = call('quick_one');
    my $e = time - $t;
    tool_error_is($r, 'No PostgreSQL connection of upstream "one_db" became free within 500 ms',
                  'queue timeout');
    ok($e >= 0.4 && $e < 1.8, sprintf 'queue timeout: after about 500 ms (%.2f s)', $e);
    my $b = bg_wait($h);
    ok(!result($b)->{isError} && rows($b), 'the call holding the connection finished')
        or diag($b->{body});
    $r = call('quick_one');
    is_deeply(rows($r), [ { one => 1 } ], 'queue: the connection is free again');

    # a call that waits less than the queue timeout gets the connection
    $h = bg_call('slow_one', { secs => 0.3 });
    backend_running('slow_one_marker');
    $r = call('quick_one');
    is_deeply(rows($r), [ { one => 1 } ], 'queue: a short wait is served')
        or diag($r->{body});
    bg_wait($h);
}

# --- authentication ----------------------------------------------------------

tool_error_is(call('bad_pw'), 'PostgreSQL upstream "bad_pw_db" is unavailable: '
                              . 'authentication failed', 'wrong password');
$r = call('bad_pw');
tool_error_is($r, qr/^PostgreSQL upstream "bad_pw_db" is unavailable: (?:authentication failed|no live servers)$/,
              'wrong password, again');
tool_error_is(call('url_bad'), 'PostgreSQL upstream "url_bad_db" is unavailable: '
                               . 'authentication failed', 'wrong password in a URL');
$r = modern_post('prompts/get', { name => 'bad_pw', arguments => {} });
is($r->{json}{error} && $r->{json}{error}{code}, -32603, 'a prompt: -32603');
like($r->{json}{error} && $r->{json}{error}{message} // '',
     qr/PostgreSQL upstream "bad_pw_db" is unavailable: (?:authentication failed|no live servers)/,
     'a prompt: the unavailable message');

# --- a server that is down, one that never answers ---------------------------

tool_error_is(call('down'), qr/^PostgreSQL upstream "down_db" is unavailable: (?:cannot connect|no live servers)$/,
              'server down');
$r = modern_post('resources/read', { uri => 'shop://down' });
is($r->{json}{error} && $r->{json}{error}{code}, -32603, 'server down, a resource: -32603');
like($r->{json}{error} && $r->{json}{error}{message} // '',
     qr/PostgreSQL upstream "down_db" is unavailable/, 'server down, a resource: the message');

tool_error_is(call('slam'), 'PostgreSQL upstream "slam_db" is unavailable: cannot connect',
              'a server that hangs up at once');

$r = call('quick');
is_deeply(rows($r), [ { n => 3 } ], 'the good upstream still works');

# nothing secret in an answer or a log line
my $dir1 = testdir();
stop_nginx();
my $log = do { local $/; open my $fh, '<', "$dir1/error.log" or die "$dir1/error.log: $!"; <$fh> };
for my $secret ('Wrong-Pass-4711', 'Url-Pass-0815', 'password=', 'secret') {
    unlike($log, qr/\Q$secret\E/, "error.log does not show \"$secret\"");
}
like($log, qr/bad_pw_db/, 'error.log names the upstream whose login failed');
like($log, qr/127\.0\.0\.1:\Q$pg->{port}\E/, 'error.log names the server address');

# ---------------------------------------------------------------------------
# four workers: killed mid-query, readiness, and the storm

my $conf2 = $pg->fill(<<'EOF');
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 1024; }
http {
    access_log off;

    upstream app_db {
        mcp_postgres_server 127.0.0.1:%%PG_PORT%% dbname=app user=app password=secret;
        mcp_postgres_keepalive 4;
    }

    mcp_server shop {
        name "pg-storm"; version 1.0.0;

        tool quick {
            description "Answers at once";
            postgres app_db "SELECT count(*) AS n FROM orders";
        }
        tool long_sleep {
            description "Sleeps for a while";
            argument secs number required "Seconds";
            postgres app_db "SELECT pg_sleep($1) AS long_sleep_marker" secs timeout=10s;
        }
        tool storm {
            description "Gives its number back, a little later";
            argument n integer required "A number";
            postgres app_db "SELECT $1::int AS n, pg_sleep(0.5)::text AS s" n timeout=5s;
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass shop; }
        location = /ready { mcp_health ready; }
    }
}
EOF

my $t = start_nginx($conf2);
my $master = $t->{pid};

sub workers {
    my @w;
    opendir my $dh, '/proc' or return ();
    for my $p (grep { /^\d+$/ } readdir $dh) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $st = <$fh>;
        close $fh;
        next unless defined $st && $st =~ /^\d+ \(.*\) \S (\d+) /;
        push @w, $p if $1 == $master;
    }
    closedir $dh;
    return sort { $a <=> $b } @w;
}

# inode => state of the TCP sockets to PostgreSQL's port
sub pg_sockets {
    my %s;
    my $hex = sprintf '%04X', $pg->port;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $f or next;
        <$fh>;
        while (my $l = <$fh>) {
            my @c = split ' ', $l;
            next unless @c > 9;
            my (undef, $rport) = split /:/, $c[2];
            $s{ $c[9] } = $c[3] if $rport eq $hex;
        }
        close $fh;
    }
    return \%s;
}

# {fds => all, pg => sockets to PostgreSQL, close_wait => of those}
sub fd_count {
    my ($pid) = @_;
    my $pgs = pg_sockets();
    my %n = (fds => 0, pg => 0, close_wait => 0);
    opendir my $dh, "/proc/$pid/fd" or return undef;
    for my $fd (grep { /^\d+$/ } readdir $dh) {
        my $l = readlink "/proc/$pid/fd/$fd";
        next unless defined $l;
        $n{fds}++;
        if ($l =~ /^socket:\[(\d+)\]$/ && exists $pgs->{$1}) {
            $n{pg}++;
            $n{close_wait}++ if $pgs->{$1} eq '08';
        }
    }
    closedir $dh;
    return \%n;
}

sub ready {
    my $x = http('GET', '/ready');
    my $j = json_decode($x->{body} // '') || {};
    my ($c) = grep { ($_->{name} // '') eq 'postgres:app_db' } @{ $j->{checks} || [] };
    return ($x->{status}, $c, $x);
}

# probes until $want answers in a row, within $secs
sub ready_becomes {
    my ($want, $secs) = @_;
    my ($in_a_row, $last, $c, $x) = (0);
    my $deadline = time + $secs;
    while (time < $deadline) {
        ($last, $c, $x) = ready();
        $in_a_row = $last == $want ? $in_a_row + 1 : 0;
        return (1, $c, $x) if $in_a_row >= 5;
        sleep 0.1;
    }
    return (0, $c, $x);
}

sub calls_work {
    my ($secs) = @_;
    my $in_a_row = 0;
    my $deadline = time + $secs;
    while (time < $deadline) {
        my $x = call('quick');
        $in_a_row = rows($x) && @{ rows($x) } && rows($x)->[0]{n} == 3 ? $in_a_row + 1 : 0;
        return 1 if $in_a_row >= 10;
        sleep 0.05 unless $in_a_row;
    }
    return 0;
}

my @workers = workers();
is(scalar @workers, 4, 'four workers');

ok(calls_work(5), 'calls work on every worker');
my ($ok, $check, $x) = ready_becomes(200, 5);
ok($ok, 'readiness: 200 while the database is up') or diag($x->{body});
is($check && $check->{status}, 'ok', 'readiness: the check postgres:app_db is ok');

# --- killed in the middle of a query -----------------------------------------

{
    my $h = bg_call('long_sleep', { secs => 4 });
    ok(backend_running('long_sleep_marker'), 'a long query runs');
    my $tk = time;
    $pg->kill;
    my $b = bg_wait($h);
    is($b->{status}, 200, 'killed mid-query: HTTP 200');
    ok(result($b)->{isError}, 'killed mid-query: isError') or diag($b->{body});
    like(text_of($b) // '',
         qr/^(?:The connection to PostgreSQL upstream "app_db" was lost during the call|PostgreSQL upstream "app_db" is unavailable: (?:cannot connect|no live servers))$/,
         'killed mid-query: the connection was lost');
    ok(time - $tk < 3, sprintf 'killed mid-query: answered at once (%.2f s after the kill)',
                               time - $tk);
}

{
    my @bad;
    for my $i (1 .. 12) {
        my $y = call('quick');
        push @bad, $y->{body} unless $y->{status} == 200 && result($y)->{isError}
            && (text_of($y) // '') =~ /^PostgreSQL upstream "app_db" is unavailable: (?:cannot connect|no live servers)$|^The connection to PostgreSQL upstream "app_db" was lost during the call$/;
    }
    is(scalar @bad, 0, 'calls while the database is down: "unavailable"')
        or diag(join "\n", @bad[0 .. ($#bad < 3 ? $#bad : 3)]);
}

($ok, $check, $x) = ready_becomes(503, 5);
ok($ok, 'readiness: 503 while the database is down') or diag($x->{body});
is($check && $check->{status}, 'fail', 'readiness: the check postgres:app_db fails');
like($x->{body} // '', qr/app_db/, 'readiness: the answer names the upstream');
unlike($x->{body} // '', qr/secret|password/, 'readiness: no password');

$pg->start;
($ok, $check, $x) = ready_becomes(200, 6);
ok($ok, 'readiness: 200 again after the restart, nginx untouched') or diag($x->{body});
is($check && $check->{status}, 'ok', 'readiness: the check is ok again');
ok(calls_work(5), 'calls work again after the restart');

# --- the storm: 300 concurrent calls while PostgreSQL is killed and restarted

sub storm_request {
    my ($n) = @_;
    my $body = json_encode(modern_body('tools/call',
                                       { name => 'storm', arguments => { n => $n } },
                                       id => $n));
    return "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:" . port() . "\r\n"
         . "Connection: close\r\nContent-Type: application/json\r\n"
         . "Accept: application/json, text/event-stream\r\n"
         . "MCP-Protocol-Version: " . MODERN . "\r\nMcp-Method: tools/call\r\n"
         . "Mcp-Name: storm\r\nContent-Length: " . length($body) . "\r\n\r\n" . $body;
}

sleep 0.5;
my %before = map { ($_ => fd_count($_)) } @workers;

my (%conn, %buf, %done);
my $sel = IO::Select->new;

sub send_wave {
    my ($from, $to) = @_;
    for my $n ($from .. $to) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                      Proto => 'tcp', Timeout => 5)
            or die "connect: $!";
        binmode $s;
        my $req = storm_request($n);
        my $off = 0;
        while ($off < length $req) {
            my $w = syswrite $s, $req, length($req) - $off, $off;
            die "write: $!" unless defined $w;
            $off += $w;
        }
        $s->blocking(0);
        $conn{$n} = $s;
        $buf{$n} = '';
        $sel->add($s);
    }
}

# reads whatever has arrived, for at most $secs
sub pump {
    my ($secs) = @_;
    my $deadline = time + $secs;
    while ($sel->count && time < $deadline) {
        for my $s ($sel->can_read(0.05)) {
            my ($n) = grep { $conn{$_} == $s } keys %conn;
            my $got = sysread $s, $buf{$n}, 65536, length $buf{$n};
            next if !defined $got && ($!{EAGAIN} || $!{EWOULDBLOCK});
            if (!$got) {
                $sel->remove($s);
                close $s;
                $done{$n} = 1;
            }
        }
    }
}

# a hundred calls in flight, the kill, a hundred while it is down, the
# restart, a hundred more; then all 300 answers are read
my $storm_t0 = time;
send_wave(1, 100);
pump(0.3);
$pg->kill;
send_wave(101, 200);
pump(0.3);
$pg->start;
send_wave(201, 300);
pump(30);
my $storm_time = time - $storm_t0;

my (%kinds, %wave, @texts, @bad);
for my $n (1 .. 300) {
    my $resp = parse_http_response($buf{$n});
    my $j;
    if (($resp->{headers}{'content-type'} // '') =~ m{^text/event-stream}) {
        my @m = sse_messages($resp->{body} // '');
        $j = $m[-1];
    } else {
        $j = json_decode($resp->{body} // '');
    }
    my $res = $j && ref $j->{result} eq 'HASH' ? $j->{result} : undef;
    my $why;
    if (!$done{$n}) { $why = 'no complete answer within 30 s' }
    elsif (!$resp->{complete}) { $why = 'an incomplete HTTP answer' }
    elsif (($resp->{status} // 0) != 200) { $why = "HTTP $resp->{status}" }
    elsif (!$j || !defined $j->{id} || $j->{id} != $n) { $why = 'not its JSON-RPC answer' }
    elsif (!$res) { $why = 'no result' }
    elsif ($res->{isError}) {
        my $tx = $res->{content} && $res->{content}[0] && $res->{content}[0]{text} // '';
        # any error of the backend's (each text is checked exactly above;
        # here the answer must be whole and its own)
        if ($tx =~ /^(?:The connection to PostgreSQL upstream "app_db" |PostgreSQL upstream "app_db" is unavailable: |No PostgreSQL connection of upstream "app_db" |PostgreSQL did not answer within |PostgreSQL error [0-9A-Z]{5}: )./s) {
            (my $k = $tx) =~ s/\d+ ms/N ms/;
            $kinds{$k}++;
            $wave{ int(($n - 1) / 100) + 1 }{$k}++;
            push @texts, $tx;
        } else {
            $why = "an unexpected error text: $tx";
        }
    } else {
        my $rw = ref $res->{structuredContent} eq 'HASH' ? $res->{structuredContent}{rows} : undef;
        if ($rw && @$rw == 1 && $rw->[0]{n} == $n) {
            $kinds{ok}++;
            $wave{ int(($n - 1) / 100) + 1 }{ok}++;
        }
        else { $why = 'a result that is not its own' }
    }
    push @bad, "call $n: $why: " . substr($buf{$n} // '', 0, 300) if $why;
}
is(scalar @bad, 0, sprintf('the storm: 300 complete answers (%.1f s)', $storm_time))
    or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
for my $w (1 .. 3) {
    note("wave $w: " . join ', ', map { "$_: $wave{$w}{$_}" } sort keys %{ $wave{$w} || {} });
}
my @off = grep { !/^(?:The connection to PostgreSQL upstream "app_db" was lost during the call|PostgreSQL upstream "app_db" is unavailable: (?:cannot connect|no live servers)|No PostgreSQL connection of upstream "app_db" became free within \d+ ms|PostgreSQL did not answer within \d+ ms|PostgreSQL error [0-9A-Z]{5}: .+)$/s } @texts;
my %off = map { $_ => 1 } @off;
is(scalar @off, 0, 'the storm: every error text is one of the contract\'s')
    or diag(join "\n", sort keys %off);
ok(($kinds{ok} // 0) > 0, 'the storm: some calls succeeded (' . ($kinds{ok} // 0) . ')');
ok(scalar(grep { $_ ne 'ok' } keys %kinds) > 0, 'the storm: some calls met the kill');

ok(calls_work(10), 'after the storm: calls work');
($ok, $check, $x) = ready_becomes(200, 6);
ok($ok, 'after the storm: readiness 200') or diag($x->{body});
is_deeply([ workers() ], \@workers, 'after the storm: the same four workers (none crashed)');

# file descriptors: each worker has what it had, plus at most keepalive idle
# connections to PostgreSQL, none of them half closed
my %after;
my $deadline = time + 10;
while (1) {
    %after = map { ($_ => fd_count($_)) } @workers;
    my $settled = !grep {
        my ($b, $a) = ($before{$_}, $after{$_});
        !$a || $a->{fds} - $a->{pg} != $b->{fds} - $b->{pg}
            || $a->{pg} > 4 || $a->{close_wait}
    } @workers;
    last if $settled || time > $deadline;
    sleep 0.2;
}
for my $w (@workers) {
    my ($b, $a) = ($before{$w}, $after{$w} || {});
    is(($a->{fds} // 0) - ($a->{pg} // 0), $b->{fds} - $b->{pg},
       "worker $w: the same file descriptors as before the storm "
       . "($b->{fds} with $b->{pg} to PostgreSQL before, "
       . ($a->{fds} // '?') . ' with ' . ($a->{pg} // '?') . ' after)');
    ok(($a->{pg} // 99) <= 4, "worker $w: at most mcp_postgres_keepalive connections kept");
    is($a->{close_wait} // 0, 0, "worker $w: no half-closed connection to PostgreSQL");
}

stop_nginx();
done_testing();
