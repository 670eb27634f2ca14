#!/usr/bin/perl
# The Redis session store against a faulty Redis: killed and restarted
# under load, slow (DEBUG SLEEP longer than the store's timeout), a wrong
# password, a value in Redis that the module did not write.  Every answer
# is a precise one (200, 404 for a session Redis lost, 503 with
# Retry-After while Redis cannot answer), none takes longer than the
# store's timeout by much, no descriptor is lost, and service recovers by
# itself.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX ();
use MCP::Redis;
use MCP::Test;

my $redis = MCP::Redis->new(password => 'store-secret-42');
my $rport = $redis->port;

my $conf = <<"EOF";
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 256; }
http {
    access_log off;

    upstream good { mcp_redis_server 127.0.0.1:$rport password=store-secret-42; }
    upstream bad { mcp_redis_server redis://:wrong-secret-17\@127.0.0.1:$rport/0; }

    mcp_server s { tool hello { description "Hi"; text "hi"; } }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp {
            mcp_pass s;
            mcp_session_store redis=good timeout=500ms;
        }
        location = /wrong {
            mcp_pass s;
            mcp_session_store redis=bad;
        }
        location = /ready { mcp_health ready; }
    }
}
EOF

start_nginx($conf);

sub init_body {
    return { jsonrpc => '2.0', id => 1, method => 'initialize',
             params => { protocolVersion => '2025-06-18', capabilities => {},
                         clientInfo => { name => 't', version => '1' } } };
}

sub init {
    my ($path) = @_;
    my $r = mcp_post(init_body(), -path => $path || '/mcp');
    return ($r->{headers}{'mcp-session-id'}, $r);
}

sub ping {
    my ($sid, %o) = @_;
    return mcp_post({ jsonrpc => '2.0', id => 2, method => 'ping' },
                    'Mcp-Session-Id' => $sid,
                    'MCP-Protocol-Version' => '2025-06-18', %o);
}

sub worker_fds {
    my $n = 0;
    for my $pid (`pgrep -P \$(cat @{[ testdir() ]}/nginx.pid)`) {
        chomp $pid;
        my @fd = glob "/proc/$pid/fd/*";
        $n += @fd;
    }
    return $n;
}

my ($sid) = init();
ok($sid, 'a session in Redis');
is(ping($sid)->{status}, 200, 'served');
my $fds = worker_fds();

# --- a wrong password: the store cannot serve, and says so without it

my (undef, $r) = init('/wrong');
is($r->{status}, 503, 'a wrong password: 503');
is($r->{headers}{'retry-after'}, '1', '... with Retry-After');
$r = http('GET', '/ready');
is($r->{status}, 503, 'readiness fails');
like($r->{body}, qr/authentication or database selection failed/,
     '... with the reason');
unlike($r->{body} . error_log_text(), qr/wrong-secret-17|store-secret-42/,
       'no password in the answer or the error log');

# --- a slow Redis: longer than the store's timeout

my $slow = fork;
if ($slow == 0) {
    $redis->cli('DEBUG', 'SLEEP', '2');
    POSIX::_exit(0);
}
sleep 0.2;
my $t0 = time;
$r = ping($sid);
my $took = time - $t0;
ok($r->{status} == 200 || $r->{status} == 503,
   "a slow Redis: $r->{status}");
ok($took < 1.5, sprintf('... answered in %.2f s (store timeout 500 ms, a '
                        . 'near copy may answer at once)', $took));
sleep 2.2;       # the near copy is old now
$t0 = time;
my $sleeper = fork;
if ($sleeper == 0) {
    $redis->cli('DEBUG', 'SLEEP', '2');
    POSIX::_exit(0);
}
sleep 0.2;
$r = ping($sid);
$took = time - $t0 - 0.2;
is($r->{status}, 503, 'a slow Redis and no near copy: 503');
ok($took < 1.2, sprintf('... after the store timeout (%.2f s)', $took));
waitpid $_, 0 for $slow, $sleeper;
is(ping($sid)->{status}, 200, 'the session again once Redis answers');

# --- a value the module did not write: an unknown session, logged

my ($sid3) = init();
my @keys = split /\n/, $redis->cli('--scan', '--pattern', 'mcp:session:*');
is(scalar @keys, 2, 'two sessions in Redis');
$redis->cli('SET', $_, "\x01garbage") for @keys;
sleep 2.2;
is(ping($sid)->{status}, 404, 'a garbled value: the session is unknown');
like(error_log_text(), qr/holds a session value this module did not write/,
     '... with a log line');

# --- killed and restarted under load, twice: the second round must not
# hold more descriptors than the first left

sub load_round {
    my ($round) = @_;
    my ($sid) = init();
    my $end = time + 5;
    my @kids;
    for my $k (1 .. 4) {
        my $pid = fork;
        if ($pid == 0) {
            my (%st, $max);
            $max = 0;
            while (time < $end) {
                my $t = time;
                my $res = ping($sid, -timeout => 10);
                my $d = time - $t;
                $max = $d if $d > $max;
                my $s = $res->{timed_out} ? 'timeout' : $res->{status};
                $s .= '-no-retry-after'
                    if $s eq '503'
                       && ($res->{headers}{'retry-after'} // '') ne '1';
                $st{$s}++;
            }
            open my $fh, '>', testdir() . "/load-$round-$k";
            print $fh join(' ', map { "$_=$st{$_}" } sort keys %st),
                      " max=$max\n";
            close $fh;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    sleep 1;
    $redis->kill;
    sleep 1.5;
    $redis->start;
    waitpid $_, 0 for @kids;

    my (%all, $max);
    $max = 0;
    for my $k (1 .. 4) {
        open my $fh, '<', testdir() . "/load-$round-$k" or next;
        my $line = <$fh>;
        close $fh;
        for (split ' ', $line) {
            my ($s, $n) = split /=/;
            if ($s eq 'max') { $max = $n if $n > $max } else { $all{$s} += $n }
        }
    }
    note("round $round: " . join ' ', map { "$_=$all{$_}" } sort keys %all);
    ok($all{200}, "round $round: answered while Redis was up");
    ok($all{503} || $all{404}, "round $round: Redis killed was noticed");
    is_deeply([ grep { !/^(?:200|404|503)\z/ } keys %all ], [],
              "round $round: every answer 200, 404 (the session Redis "
              . 'lost) or 503 with Retry-After');
    ok($max < 2, sprintf("round $round: no answer took long (%.2f s)",
                         $max));

    my $ok = 0;
    for (1 .. 40) {
        my $j = json_decode(http('GET', '/ready')->{body}) || {};
        my ($c) = grep { $_->{name} =~ /"good"/ } @{ $j->{checks} || [] };
        if ($c && $c->{status} eq 'ok') { $ok = 1; last }
        sleep 0.25;
    }
    ok($ok, "round $round: readiness of the store recovers");
    my ($sid4) = init();
    ok($sid4, "round $round: a new session after the restart");
    is(ping($sid4)->{status}, 200, '... served');
    return $sid4;
}

my $sid4 = load_round(1);
$fds = worker_fds();
load_round(2);

my $clients = () = $redis->cli('CLIENT', 'LIST') =~ /^id=/mg;
ok($clients <= 2 * (4 + 1) + 1, "Redis sees $clients connections: at most "
                                . 'keepalive + 1 per worker');

my $after = worker_fds();
ok($after <= $fds + 2, "no descriptor lost (workers: $fds after the first "
                       . "round, $after after the second)");

unlike(error_log_text(), qr/store-secret-42|wrong-secret-17/,
       'no password in the error log');
for my $id (grep { $_ } $sid, $sid3, $sid4) {
    unlike(error_log_text(), qr/\Q$id\E/, 'no session id in the error log');
}

stop_nginx(allow => qr/Redis|redis/);

done_testing();
