#!/usr/bin/perl
# Faults between a `redis` entry and Redis, each an answer and never a
# 5xx, a hang or a crash: a slow Redis (DEBUG SLEEP past the entry's
# timeout), a server that never answers, error replies (READONLY, OOM), a
# wrong password (which no answer and no log line shows), a server that
# is down, a full pool (a blocking command holds the only connection), a
# blocking command cancelled (its connection goes), Redis killed in the
# middle of a command and restarted (service comes back by itself); the
# worker has its file descriptors back afterwards.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use MCP::Redis;
use MCP::Test;

my $redis = MCP::Redis->new;
my $locked = MCP::Redis->new(password => 'Right-Pw-2024');
my ($rport, $lport) = ($redis->port, $locked->port);
my $down_port = closed_port();

# a server that takes connections and never says a word
my $hole_port = backend(sub {
    my ($s) = @_;
    my $buf;
    while (sysread $s, $buf, 4096) { }
});

my $conf = <<'EOF';
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;

    upstream cache { mcp_redis_server 127.0.0.1:RPORT; mcp_redis_keepalive 4; }
    upstream one { mcp_redis_server 127.0.0.1:RPORT; mcp_redis_keepalive 1; }
    upstream bad_pw { mcp_redis_server 127.0.0.1:LPORT password=Wrong-Pw-4711; }
    upstream url_bad { mcp_redis_server redis://:Url-Pw-0815@127.0.0.1:LPORT/0; }
    upstream down { mcp_redis_server 127.0.0.1:DPORT; }
    upstream hole { mcp_redis_server 127.0.0.1:HPORT; }
    upstream fresh {
        mcp_redis_server 127.0.0.1:RPORT connect_timeout=500ms;
        mcp_redis_keepalive 2;
    }

    mcp_server faults {
        name "redis-faults"; version 1.0.0;

        tool get {
            description "GET with timeout=1s";
            redis cache GET k timeout=1s;
        }
        tool readonly {
            description "A READONLY error reply";
            redis cache EVAL 'return redis.error_reply("READONLY You can\'t write against a read only replica.")' 0;
        }
        tool put {
            description "SET";
            argument v string required "Value";
            redis cache SET "oom:key" "{v}";
        }
        tool long_block {
            description "BLPOP for 5 s";
            redis cache BLPOP long 5;
        }
        tool hold {
            description "BLPOP for 2 s on the only connection";
            argument q string required "Queue";
            redis one BLPOP "q:{q}" 2;
        }
        tool one_get {
            description "GET on the only connection";
            redis one GET k;
        }
        tool fresh_hold {
            description "BLPOP for 2 s on the first connection";
            redis fresh BLPOP fq 2;
        }
        tool fresh_get {
            description "GET, on a second connection";
            redis fresh GET k;
        }
        tool bad_pw {
            description "A wrong password";
            redis bad_pw GET k;
        }
        tool url_bad {
            description "A wrong password in a URL";
            redis url_bad GET k;
        }
        tool down {
            description "Nobody listens";
            redis down GET k;
        }
        tool hole {
            description "Nobody answers";
            redis hole GET k timeout=1s;
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass faults; }
        location = /ready { mcp_health ready; }
    }
}
EOF
$conf =~ s/RPORT/$rport/g;
$conf =~ s/LPORT/$lport/g;
$conf =~ s/DPORT/$down_port/g;
$conf =~ s/HPORT/$hole_port/g;

my $t = start_nginx($conf);

*result = \&mcp_result;
*text_of = \&mcp_tool_text;
*error_is = \&mcp_tool_error_is;

sub call { return mcp_tool_call(MODERN, @_) }

my $work = testdir();

# a call in a child process (a stateless one, or in a 2025 session with
# the id given); bg_wait() gives {status, json, messages, elapsed}
sub bg_call {
    my ($name, $args, %o) = @_;
    my $file = "$work/bg-" . int(rand 1e9) . '.json';
    my $t0 = time;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $r = eval {
            $o{sid}
                ? legacy_post($o{sid}, '2025-11-25', 'tools/call',
                              { name => $name, arguments => $args },
                              id => $o{id}, headers => [ -timeout => 15 ])
                : call($name, $args, headers => [ -timeout => 15 ]);
        } || {};
        my $out = json_encode({ status => $r->{status}, body => $r->{body},
                                messages => $r->{messages},
                                elapsed => time - $t0 });
        if (open my $fh, '>', "$file.tmp") {
            print $fh $out;
            close $fh;
            rename "$file.tmp", $file;
        }
        POSIX::_exit(0);
    }
    return { pid => $pid, file => $file };
}

sub bg_wait {
    my ($h) = @_;
    waitpid $h->{pid}, 0;
    open my $fh, '<', $h->{file} or return { status => 0, elapsed => 0 };
    local $/;
    my $r = json_decode(<$fh>) || {};
    close $fh;
    $r->{json} = json_decode($r->{body} // '');
    return $r;
}

# clients Redis has blocked in a command, waited for until there are $n
sub blocked {
    my ($n) = @_;
    my $b = -1;
    for (1 .. 60) {
        ($b) = ($redis->command('INFO', 'clients') // '') =~ /blocked_clients:(\d+)/;
        return $b if defined $b && $b == $n;
        sleep 0.05;
    }
    return $b;
}

my ($worker) = grep { /^\d+$/ } split /\s+/, `pgrep -P $t->{pid}`;

# the worker's descriptors: {fds => all, redis => sockets to the test's
# servers, close_wait => of those}
sub fds {
    my %ports = map { (sprintf('%04X', $_) => 1) } $rport, $lport, $hole_port;
    my %sock;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $fh, '<', $f or next;
        <$fh>;
        while (my $l = <$fh>) {
            my @c = split ' ', $l;
            my (undef, $rp) = split /:/, $c[2];
            $sock{ $c[9] } = $c[3] if $ports{$rp};
        }
        close $fh;
    }
    my %n = (fds => 0, redis => 0, close_wait => 0);
    opendir my $dh, "/proc/$worker/fd" or return \%n;
    for my $fd (grep { /^\d+$/ } readdir $dh) {
        my $l = readlink "/proc/$worker/fd/$fd" // next;
        $n{fds}++;
        if ($l =~ /^socket:\[(\d+)\]$/ && exists $sock{$1}) {
            $n{redis}++;
            $n{close_wait}++ if $sock{$1} eq '08';
        }
    }
    closedir $dh;
    return \%n;
}

$redis->command('SET', 'k', 'v');
is(text_of(call('get')), 'v', 'Redis answers');
is(text_of(call('one_get')), 'v', 'the upstream with one connection answers');
my $before = fds();

# --- a command sent while its connection is being made -----------------------

{
    # the first connection is held: the GET opens the second one and
    # waits in it until the connection is made; the connection counts as
    # made all the same, and outlives its connect_timeout
    my $h = bg_call('fresh_hold');
    is(blocked(1), 1, 'a new connection: the first one is held');
    is(text_of(call('fresh_get')), 'v', 'a new connection: its first command');
    sleep 0.8;
    unlike(error_log_text(), qr/upstream "fresh" did not answer in time/,
           'a new connection with a command in it is not timed out');
    my $b = bg_wait($h);
    is($b->{body} && result($b)->{content}[0]{text}, '{"value":null}',
       'a new connection: the BLPOP ends by itself') or diag($b->{body});
    is(text_of(call('fresh_get')), 'v', 'a new connection: still serves');
    my $clients = () = $redis->cli('CLIENT', 'LIST') =~ /^id=/mg;
    ok($clients >= 2, "a new connection: Redis still has it ($clients clients)");
}

# --- a slow Redis ----------------------------------------------------------

{
    my $sleeper = fork;
    if ($sleeper == 0) {
        $redis->cli('DEBUG', 'SLEEP', '3');
        POSIX::_exit(0);
    }
    sleep 0.3;
    my $t0 = time;
    my $r = call('get');
    my $took = time - $t0;
    error_is($r, 'Redis upstream "cache" did not answer within 1000 ms',
             'a slow Redis');
    ok($took > 0.8 && $took < 2.2, sprintf 'a slow Redis: after the timeout (%.2f s)', $took);
    waitpid $sleeper, 0;
    is(text_of(call('get')), 'v', 'a slow Redis: the next call works');
}

# --- a server that takes the connection and never answers ------------------

{
    my $t0 = time;
    error_is(call('hole'), 'Redis upstream "hole" did not answer within 1000 ms',
             'a server that never answers');
    ok(time - $t0 < 2.2, 'a server that never answers: the timeout holds');
}

# --- error replies -------------------------------------------------------------

error_is(call('readonly'),
         "Redis error: READONLY You can't write against a read only replica.",
         'READONLY');
$redis->command('CONFIG', 'SET', 'maxmemory', '1');
error_is(call('put', { v => 'x' }),
         "Redis error: OOM command not allowed when used memory > 'maxmemory'.",
         'OOM');
$redis->command('CONFIG', 'SET', 'maxmemory', '0');
is(text_of(call('put', { v => 'x' })), 'OK', 'OOM: SET works again');

# --- a wrong password, a server that is down -------------------------------------

error_is(call('bad_pw'),
         'Redis upstream "bad_pw" is unavailable: authentication or database selection failed',
         'a wrong password');
error_is(call('url_bad'),
         'Redis upstream "url_bad" is unavailable: authentication or database selection failed',
         'a wrong password in a URL');
error_is(call('down'), qr/^Redis upstream "down" is unavailable: (?:cannot connect|no live servers)$/,
         'a server that is down');
{
    my $r = http('GET', '/ready');
    is($r->{status}, 503, 'readiness fails with a wrong password');
    like($r->{body}, qr/"redis:bad_pw".*authentication or database selection failed/s,
         'readiness names the upstream and the reason');
    unlike($r->{body}, qr/Wrong-Pw-4711|Url-Pw-0815/, 'readiness shows no password');
}

# --- a full pool -------------------------------------------------------------------

{
    my $h = bg_call('hold', { q => 'a' });
    is(blocked(1), 1, 'full pool: BLPOP holds the only connection');
    my $t0 = time;
    error_is(call('hold', { q => 'b' }),
             'Redis upstream "one" is unavailable: no free connection (all are held by blocking commands)',
             'full pool: a second BLPOP');
    error_is(call('one_get'),
             'Redis upstream "one" is unavailable: no free connection (all are held by blocking commands)',
             'full pool: a GET has nowhere to go either');
    ok(time - $t0 < 1, 'full pool: refused at once');
    my $b = bg_wait($h);
    is($b->{body} && result($b)->{content}[0]{text}, '{"value":null}',
       'full pool: the BLPOP ends at its own timeout with nil') or diag($b->{body});
    ok($b->{elapsed} > 1.7 && $b->{elapsed} < 3.5,
       sprintf 'full pool: after about 2 s (%.2f s)', $b->{elapsed});
    is(text_of(call('one_get')), 'v', 'full pool: the connection is free again');

    $h = bg_call('hold', { q => 'c' });
    is(blocked(1), 1, 'BLPOP waits');
    $redis->command('LPUSH', 'q:c', 'job-1');
    $b = bg_wait($h);
    is($b->{body} && result($b)->{content}[0]{text}, '{"value":["q:c","job-1"]}',
       'BLPOP woken by LPUSH: [key, value]') or diag($b->{body});
    ok($b->{elapsed} < 1.5, 'BLPOP woken by LPUSH: at once');
}

# --- a blocking command cancelled: its connection goes ----------------------------

{
    my $sid = mcp_init('2025-11-25');
    my $h = bg_call('hold', { q => 'd' }, sid => $sid, id => 'blk-1');
    is(blocked(1), 1, 'cancel: BLPOP waits');
    my $n = legacy_notify($sid, '2025-11-25', 'notifications/cancelled',
                          { requestId => 'blk-1', reason => 'test' });
    is($n->{status}, 202, 'cancel: the notification is accepted');
    my $b = bg_wait($h);
    is($b->{status}, 200, 'cancel: the call ends');
    is(scalar @{ $b->{messages} || [] }, 0, 'cancel: with no response');
    ok($b->{elapsed} < 1.5, sprintf 'cancel: at once (%.2f s)', $b->{elapsed});
    is(blocked(0), 0, 'cancel: Redis no longer blocks a client (the connection was closed)');
    is(text_of(call('one_get')), 'v', 'cancel: the upstream has its connection again');
}

# --- Redis killed in the middle of a command, and restarted --------------------------

{
    my $h = bg_call('long_block');
    is(blocked(1), 1, 'kill: BLPOP waits');
    my $tk = time;
    $redis->kill;
    my $b = bg_wait($h);
    is($b->{status}, 200, 'kill: HTTP 200');
    ok(result($b)->{isError}, 'kill: isError') or diag($b->{body});
    is(result($b)->{content}[0]{text},
       'The connection to Redis upstream "cache" was lost during the call',
       'kill: the connection was lost');
    ok(time - $tk < 1.5, sprintf 'kill: answered at once (%.2f s after the kill)', time - $tk);

    my @bad;
    for (1 .. 10) {
        my $t0 = time;
        my $r = call('get');
        push @bad, $r->{body}
            unless $r->{status} == 200 && result($r)->{isError}
                   && (text_of($r) // '') =~ /^Redis upstream "cache" is unavailable: (?:cannot connect|no live servers)$|^The connection to Redis upstream "cache" was lost during the call$/
                   && time - $t0 < 1;
    }
    is(scalar @bad, 0, 'calls while Redis is down: "unavailable", at once')
        or diag(join "\n", @bad[0 .. ($#bad < 2 ? $#bad : 2)]);

    my $r = http('GET', '/ready');
    like($r->{body}, qr/"redis:cache"/, 'readiness lists redis:cache');
    is($r->{status}, 503, 'readiness: 503 while Redis is down');

    $redis->start;
    $redis->command('SET', 'k', 'v');
    my $ok = 0;
    for (1 .. 40) {
        my $x = call('get');
        if (!result($x)->{isError} && (text_of($x) // '') eq 'v') { $ok++; last if $ok >= 3 }
        sleep 0.1;
    }
    is($ok, 3, 'restarted: calls work again, nginx untouched');
    is(text_of(call('one_get')), 'v', 'restarted: the other upstream too');
}

# --- descriptors -------------------------------------------------------------------

{
    my $after;
    for (1 .. 50) {
        $after = fds();
        last if $after->{fds} - $after->{redis} == $before->{fds} - $before->{redis}
                && $after->{redis} <= 4 + 1 + 2 + 1 && !$after->{close_wait};
        sleep 0.2;
    }
    is($after->{fds} - $after->{redis}, $before->{fds} - $before->{redis},
       "the worker has the descriptors it had ($before->{fds} with $before->{redis} "
       . "to Redis before, $after->{fds} with $after->{redis} after)");
    ok($after->{redis} <= 4 + 1 + 2 + 1, 'at most mcp_redis_keepalive connections '
                                     . 'per upstream are left (and one to a '
                                     . 'server being retried)');
    is($after->{close_wait}, 0, 'no half-closed connection to Redis');
}

stop_nginx();
my $log = do { local $/; open my $fh, '<', "$work/error.log" or die; <$fh> };
for my $secret ('Wrong-Pw-4711', 'Url-Pw-0815', 'Right-Pw-2024') {
    unlike($log, qr/\Q$secret\E/, "error.log does not show \"$secret\"");
}
like($log, qr/bad_pw/, 'error.log names the upstream whose login failed');

done_testing();
