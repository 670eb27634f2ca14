#!/usr/bin/perl
# Rate limits and quotas shared through Redis (mcp_limit_zone and
# mcp_quota_zone with redis=): three nginx instances ("replicas", each its
# own port, workers and shared memory) on one Redis accept together what
# the configured rate allows (within 10 % over a few seconds of load sent
# to each instance in turn), a shared quota admits exactly its limit over
# the three, and keys carry the prefix.  Leases: under a high rate most
# decisions need no round trip, and above it the shared rate still holds.
# Redis killed: fail=closed answers 503 with Retry-After: 1 and -32603
# "Rate limiter unavailable" and
# readiness fails; fail=open keeps serving with each instance's own bucket
# at the same rate (a burst beyond it is refused) and admits quota calls
# without counting. Redis back: the shared budget again.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX ();
use MCP::Redis;
use MCP::Test;

my $redis = MCP::Redis->new;
my $rport = $redis->port;

my ($rate, $burst) = (20, 10);
my $fast = 5000;       # leases of up to 100 tokens (20 ms of the rate)
my $busy = 150;        # ... up to 3, under a load above the rate (the
                       # sanitizer build under a parallel prove sends
                       # some 550 requests a second)

my $conf = <<"EOF";
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 128; }
http {
    access_log off;

    upstream cache { mcp_redis_server 127.0.0.1:$rport; }
    mcp_limit_zone shared:1m key=\$http_x_user rate=${rate}r/s redis=cache prefix=t121: FAIL;
    mcp_quota_zone squota:1m key=\$http_x_user redis=cache prefix=t121q: FAIL;
    mcp_limit_zone fast:1m key=\$http_x_user rate=${fast}r/s redis=cache prefix=t121f: FAIL;
    mcp_limit_zone busy:1m key=\$http_x_user rate=${busy}r/s redis=cache prefix=t121f: FAIL;

    mcp_server s {
        tool hello { description "Says hello"; text "hi"; }
        tool metered { description "Counted"; quota squota 10/h; text "metered"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass s; mcp_limit zone=shared burst=$burst nodelay; }
        location = /q { mcp_pass s; }
        location = /fast { mcp_pass s; mcp_limit zone=fast burst=200 nodelay; }
        location = /busy { mcp_pass s; mcp_limit zone=busy burst=100 nodelay; }
        location = /ready { mcp_health ready; }
    }
}
EOF

sub replicas {
    my ($fail) = @_;
    (my $c = $conf) =~ s/FAIL/fail=$fail/g;
    return map { start_instance($c) } 1 .. 3;
}

sub list_on {
    my ($t, $user, %o) = @_;
    return modern_post('tools/list', {}, port => $t->{ports}{0},
                       headers => [ 'X-User' => $user ], %o);
}

# requests of one key to each instance in turn for 1.5 s, Redis killed
# after 0.5 s: (answers before, answers after, the slowest answer's seconds)
sub load_through_kill {
    my ($user, $send, $inst) = @_;
    my (@before, @after);
    my ($t0, $i, $killed, $slowest) = (time, 0, 0, 0);
    while (time - $t0 < 1.5) {
        if (!$killed && time - $t0 >= 0.5) {
            $redis->kill;
            $killed = 1;
        }
        my $s = time;
        push @{ $killed ? \@after : \@before }, $send->($inst->[ $i++ % 3 ], $user);
        $slowest = time - $s if time - $s > $slowest;
    }
    return (\@before, \@after, $slowest);
}

sub fast_on { return list_on(@_, path => '/fast') }
sub busy_on { return list_on(@_, path => '/busy') }

sub call_on {
    my ($t, $user, $tool, %o) = @_;
    return modern_post('tools/call', { name => $tool, arguments => {} },
                       port => $t->{ports}{0}, path => '/q',
                       headers => [ 'X-User' => $user ], %o);
}

sub ready_on {
    my ($t) = @_;
    return http('GET', '/ready', port => $t->{ports}{0});
}

sub err_of {
    my ($r) = @_;
    return $r->{json} && ref $r->{json} eq 'HASH' && ref $r->{json}{error} eq 'HASH'
         ? $r->{json}{error} : {};
}

sub statuses {
    my %s;
    $s{ $_->{status} // 'none' }++ for @_;
    return join ' ', map { "$_ x$s{$_}" } sort keys %s;
}

# requests of one key sent one after the other, each to the next instance,
# for $secs seconds or $n requests; returns (answers, seconds taken)
sub rotate {
    my ($user, $inst, %o) = @_;
    my @r;
    my $t0 = time;
    my $i = 0;
    my $send = $o{send} || \&list_on;
    while (1) {
        last if defined $o{secs} && time - $t0 >= $o{secs};
        last if defined $o{n} && @r >= $o{n};
        push @r, $send->($inst->[ $i++ % @$inst ], $user);
    }
    return (\@r, time - $t0);
}

# what Redis was asked while $code ran (redis-cli monitor)
sub monitored {
    my ($code) = @_;
    my $file = $redis->dir . '/monitor.log';
    my $pid = fork;
    die "fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', $file;
        open STDERR, '>&', \*STDOUT;
        exec 'redis-cli', '-p', $rport, 'monitor' or POSIX::_exit(127);
    }
    sleep 0.5;
    $code->();
    sleep 0.3;
    kill 'TERM', $pid;
    waitpid $pid, 0;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar <$fh>;
}

sub accepted { return scalar grep { ($_->{status} // 0) == 200 } @{ $_[0] } }

# waits, when the current window of LEN seconds ends within MARGIN seconds,
# until the next one has begun
sub clear_of_window_end {
    my ($len, $margin) = @_;
    my $left = $len - (int(time) % $len);
    sleep($left + 0.3) if $left <= $margin;
}

# readiness of every instance (both workers: several answers in a row)
sub all_ready {
    my (@inst) = @_;
    my $deadline = time + 20;
    for my $t (@inst) {
        my $ok = 0;
        while (time < $deadline) {
            $ok = ready_on($t)->{status} == 200 ? $ok + 1 : 0;
            last if $ok >= 6;
            sleep 0.1;
        }
        return 0 if $ok < 6;
    }
    return 1;
}

my @r = replicas('closed');

my $res = ready_on($r[0]);
is($res->{status}, 200, 'readiness with Redis up');
like($res->{body}, qr/"redis:cache"/, '... lists redis:cache');

# --- a shared rate over three instances --------------------------------------

{
    my ($answers, $took) = rotate('load', \@r, secs => 3);
    my $got = accepted($answers);
    my $want = $rate * $took + $burst + 1;
    my $total = @$answers;
    note(sprintf '%d requests in %.2f s: %d accepted, %.1f expected', $total, $took, $got, $want);
    ok($total > 2 * $want, "the load ($total requests) was well above the rate");
    ok(abs($got - $want) <= 0.1 * $want,
       sprintf('three instances accepted %d together, within 10%% of %.1f '
               . '(%d r/s over %.2f s + burst %d + 1)', $got, $want, $rate, $took, $burst));
    is(scalar(grep { $_->{status} != 200 && $_->{status} != 429 } @$answers), 0,
       'every answer 200 or 429');
    my @per = map { my $k = $_; scalar grep { $answers->[$_]{status} == 200 }
                                       grep { $_ % 3 == $k } 0 .. $#$answers } 0 .. 2;
    ok(!grep({ $_ == 0 } @per), "each instance accepted some (@per)");
    my ($no) = grep { $_->{status} == 429 } @$answers;
    is(err_of($no || {})->{code}, -32029, 'a refusal is -32029');
    is(err_of($no || {})->{data}{zone}, 'shared', '... of zone shared');

    # two keys taking turns, each request to the next instance: each its own
    # budget
    my (@x, @y);
    my $t0 = time;
    for my $i (0 .. 29) {
        push @x, list_on($r[ $i % 3 ], 'turn-x');
        push @y, list_on($r[ ($i + 1) % 3 ], 'turn-y');
    }
    my $max = $burst + 1 + $rate * (time - $t0) + 1;
    for my $k ([ 'one', \@x ], [ 'the other', \@y ]) {
        my $n = accepted($k->[1]);
        ok($n >= $burst + 1 && $n <= $max,
           sprintf('two keys taking turns: %d of 30 accepted for %s (%d to %.1f)',
                   $n, $k->[0], $burst + 1, $max));
    }

    my $seen = monitored(sub { list_on($r[$_], 'mon') for 0 .. 2 });
    like($seen, qr/"t121:/, 'the limit\'s keys in Redis carry prefix=t121:');
}

# --- under the rate, leases: few round trips ---------------------------------

{
    $redis->command('CONFIG', 'RESETSTAT');
    my ($answers, $took) = rotate('leased', \@r, secs => 2, send => \&fast_on);
    my $got = accepted($answers);
    my $total = @$answers;
    ok($total < $fast * $took, sprintf('%d requests in %.2f s: under %d r/s', $total, $took, $fast));
    is($got, $total, '... every one accepted');
    my ($evals) = ($redis->command('INFO', 'commandstats') // '') =~ /cmdstat_eval:calls=(\d+)/;
    ok(defined $evals && $evals < $total / 2,
       sprintf('... with %s Redis round trips for %d requests (leases of tokens)',
               $evals // 'no', $total));
}

# --- above the rate, with leases: the shared rate holds -------------------

{
    my ($answers, $took) = rotate('busy', \@r, secs => 2, send => \&busy_on);
    my $got = accepted($answers);
    my $want = $busy * $took + 100 + 1;
    my $total = @$answers;
    note(sprintf '%d requests in %.2f s: %d accepted, %.1f expected', $total, $took, $got, $want);
    ok($total > 1.5 * $want, "the load ($total requests) was well above $busy r/s");
    ok(abs($got - $want) <= 0.1 * $want,
       sprintf('with leases, three instances accepted %d together, within 10%% of %.1f',
               $got, $want));
}

# --- a shared quota ----------------------------------------------------------

{
    clear_of_window_end(3600, 20);
    my @a = map { call_on($r[ $_ % 3 ], 'quser', 'metered', id => "q$_") } 0 .. 19;
    is(statuses(@a), '200 x10 429 x10', 'quota 10/h over three instances: exactly 10 accepted');
    my ($no) = grep { $_->{status} == 429 } @a;
    $no ||= {};
    my $e = err_of($no);
    is($e->{code}, -32029, 'a refusal is -32029');
    is($e->{message}, 'Quota exceeded', '... "Quota exceeded"');
    is_deeply([ map { $e->{data}{$_} } qw(zone limit remaining window) ],
              [ 'squota', 10, 0, 'hour' ], '... data: zone, limit, remaining, window');
    my $ra = $no->{headers}{'retry-after'} // 0;
    my $left = 3600 - (int(time) % 3600);
    ok($ra >= 1 && abs($ra - $left) <= 2, "... Retry-After $ra: the end of the hour ($left)");
    my @keys = split /\n/, $redis->cli('--scan', '--pattern', '*');
    ok(scalar(grep { /^t121q:/ } @keys), 'the quota\'s keys in Redis carry prefix=t121q:');
    is(join(',', grep { !/^t121[qf]?:/ } @keys), '', 'no key in Redis without a prefix');
}

# --- Redis killed under load, fail=closed ---------------------------------------

{
    my ($before, $after, $slowest) = load_through_kill('killed', \&busy_on, \@r);
    ok(@$before > 50 && @$after > 20,
       sprintf('load through the kill: %d answers before, %d after', scalar @$before,
               scalar @$after));
    is(scalar(grep { $_->{status} != 200 && $_->{status} != 429 } @$before), 0,
       '... before it, every answer 200 or 429');
    is(scalar(grep { ($_->{status} // 0) !~ /^(200|429|503)$/ } @$after), 0,
       '... after it, every answer 200, 429 or 503 (fail=closed)');
    is($after->[-1]{status}, 503, '... and then 503');
    ok($slowest < 2, sprintf('... no answer took long (%.2f s at most)', $slowest));
}

for my $i (0 .. 2) {
    my $t0 = time;
    my $res = list_on($r[$i], 'down', id => "down-$i");
    is($res->{status}, 503, "instance $i, Redis down, fail=closed: 503") or diag($res->{body});
    ok(time - $t0 < 5, '... answered without waiting long');
    is($res->{headers}{'retry-after'}, '1', '... Retry-After: 1');
    my $e = err_of($res);
    is($e->{code}, -32603, '... -32603');
    is($e->{message}, 'Rate limiter unavailable', '... "Rate limiter unavailable"');
    is($e->{data} && $e->{data}{zone}, 'shared', '... data.zone');
    is($e->{data} && $e->{data}{retryAfterSeconds}, 1, '... data.retryAfterSeconds 1');
    is($res->{json} && $res->{json}{id}, "down-$i", '... the request\'s id');
}
{
    my $res = call_on($r[1], 'qdown', 'metered', id => 'qd');
    is($res->{status}, 503, 'a quota, Redis down, fail=closed: 503');
    is($res->{headers}{'retry-after'}, '1', '... Retry-After: 1');
    is(err_of($res)->{code}, -32603, '... -32603');
    is(err_of($res)->{data}{zone}, 'squota', '... of zone squota');
    is(call_on($r[1], 'qdown', 'hello')->{status}, 200, 'a call without limits is served');
    $res = ready_on($r[2]);
    is($res->{status}, 503, 'readiness fails');
    like($res->{body}, qr/"redis:cache"/, '... naming redis:cache');
}

# --- Redis back: the shared budget ----------------------------------------------

$redis->start;
ok(all_ready(@r), 'readiness recovers on every instance');
{
    # every worker uses Redis again: nothing is 503 any more
    my ($warm) = rotate('warm', \@r, n => 24);
    is(scalar(grep { $_->{status} == 503 } @$warm), 0, 'no 503 once Redis is back');
    my ($answers, $took) = rotate('back', \@r, n => 60);
    my $got = accepted($answers);
    my $max = $burst + 1 + $rate * $took + 1;
    ok($got >= $burst + 1 && $got <= $max,
       sprintf('60 requests over three instances in %.2f s: %d accepted together '
               . '(shared: %d to %.1f)', $took, $got, $burst + 1, $max));
}

stop_instance($_, allow => qr/Redis|redis/) for @r;

# --- fail=open ----------------------------------------------------------------

@r = replicas('open');
ok(all_ready(@r), 'fail=open: the instances are ready');
{
    clear_of_window_end(3600, 20);
    my @a = map { call_on($r[ $_ % 3 ], 'qopen', 'metered') } 0 .. 11;
    is(statuses(@a), '200 x10 429 x2', 'fail=open, Redis up: the quota is shared');
    my ($answers, $took) = rotate('open-up', \@r, n => 45);
    my $max = $burst + 1 + $rate * $took + 1;
    ok(accepted($answers) <= $max,
       sprintf('fail=open, Redis up: the rate is shared (%d of 45 accepted in %.2f s, '
               . 'at most %.1f)', accepted($answers), $took, $max));
}

{
    my ($before, $after, $slowest) = load_through_kill('killed-open', \&busy_on, \@r);
    ok(@$before > 50 && @$after > 20,
       sprintf('fail=open, load through the kill: %d answers before, %d after',
               scalar @$before, scalar @$after));
    is(scalar(grep { $_->{status} != 200 && $_->{status} != 429 } @$before, @$after), 0,
       '... every answer 200 or 429, before and after');
    ok(accepted($after) > 0, '... requests still accepted after it');
    ok($slowest < 2, sprintf('... no answer took long (%.2f s at most)', $slowest));
}

{
    my @got;
    for my $i (0 .. 2) {
        my ($answers, $took) = rotate('local', [ $r[$i] ], n => 40);
        my $got = accepted($answers);
        push @got, $got;
        my $max = $burst + 1 + $rate * $took + 1;
        is(scalar(grep { $_->{status} != 200 && $_->{status} != 429 } @$answers), 0,
           "fail=open, Redis down, instance $i: every answer 200 or 429");
        ok($got >= $burst + 1 && $got <= $max,
           sprintf("... its own bucket: %d of 40 accepted in %.2f s (%d to %.1f)",
                   $got, $took, $burst + 1, $max));
        my ($no) = grep { $_->{status} == 429 } @$answers;
        ok($no, '... a burst beyond it is refused');
        is(err_of($no || {})->{data}{zone}, 'shared', '... by zone shared');
    }

    my @q = map { call_on($r[ $_ % 3 ], 'qopen', 'metered') } 0 .. 5;
    is(statuses(@q), '200 x6', 'fail=open, Redis down: quota calls are admitted (not counted)');
    is(list_on($r[0], 'other')->{status}, 200, 'fail=open: requests keep being served');
}

$redis->start;
ok(all_ready(@r), 'Redis back: readiness on every instance');
{
    my ($warm) = rotate('warm2', \@r, n => 24);
    sleep 1;
    my ($answers, $took) = rotate('back2', \@r, n => 60);
    my $got = accepted($answers);
    my $max = $burst + 1 + $rate * $took + 1;
    ok($got >= $burst + 1 && $got <= $max,
       sprintf('Redis back: the shared budget again, %d of 60 accepted over three '
               . 'instances in %.2f s (%d to %.1f)', $got, $took, $burst + 1, $max));
    my @q = map { call_on($r[ $_ % 3 ], 'qback', 'metered') } 0 .. 11;
    is(statuses(@q), '200 x10 429 x2', '... and the shared quota');
}

stop_instance($_, allow => qr/Redis|redis/) for @r;

done_testing();
