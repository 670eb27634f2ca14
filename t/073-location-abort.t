#!/usr/bin/perl
# Calls in flight that stop before their location answers: a timeout
# (`pass ... timeout=`, mcp_backend_timeout) gives a tool error, a
# notifications/cancelled of the session (2025 revisions) ends the call
# with no response, whichever worker the notification reaches; either way
# the backend's connection is closed.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

my $work = tempdir("073-backend-XXXXXX", TMPDIR => 1, CLEANUP => 1);

sub touch { open my $fh, '>', "$work/$_[0]" or return; close $fh; }

# the backend: /slow answers after 4 s, /stream sends one progress line
# and then nothing for 4 s; both note when nginx closes the connection

sub serve_one {
    my ($s) = @_;
    my $buf = '';
    while (index($buf, "\r\n\r\n") < 0) {
        my $n = sysread $s, $buf, 65536, length $buf;
        return unless $n;
    }
    my ($path) = $buf =~ m{^\S+ (\S+) HTTP/};
    my ($tag) = $buf =~ /\r\nx-test-tag: *([\w.-]+)/i;
    $tag //= 'none';
    touch("started-$tag");

    if ($path eq '/stream') {
        syswrite $s, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                     . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        my $l = qq({"progress":1,"total":2}\n);
        syswrite $s, sprintf("%x\r\n%s\r\n", length $l, $l);
    }

    my $sel = IO::Select->new($s);
    for (1 .. 40) {
        next unless $sel->can_read(0.1);
        my $n = sysread $s, my $x, 4096;
        if (!$n) { touch("closed-$tag"); return; }
    }
    syswrite $s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                 . "Content-Length: 8\r\nConnection: close\r\n\r\ntoo late"
        if $path eq '/slow';
}

my $bport = backend(\&serve_one);

sub conf {
    my ($workers) = @_;
    my $c = <<'EOF';
load_module %%MODULE%%;
worker_processes WORKERS;
events { worker_connections 1024; }
http {
    log_format tags '$pid $http_x_test_tag';
    access_log %%TESTDIR%%/tags.log tags;

    proxy_cache_path %%TESTDIR%%/cache keys_zone=tools:1m;

    mcp_server s {
        tool cached_long { description "4 s, cached"; pass /cached; }
        tool cached_short { description "the same, 300 ms allowed";
                            pass /cached timeout=300ms; }
        tool slow { description "4 s, but 400 ms allowed";
                    pass /b/slow timeout=400ms; }
        tool slow_default { description "4 s"; pass /b/slow; }
        tool stream { description "one event, then 4 s"; pass /b/stream; }
    }

    server {
        listen 127.0.0.1:%%PORT%% reuseport;     # connections spread by hash
        listen 127.0.0.1:%%PORT_1%% http2;
        location = /mcp { mcp_pass s; mcp_backend_timeout 700ms; }
        location = /mcp-long { mcp_pass s; }
        location = /cached {
            internal;
            proxy_cache tools;
            proxy_cache_methods POST;
            proxy_cache_key $uri;
            proxy_cache_valid 200 1m;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 10s;
            proxy_pass http://127.0.0.1:BACKEND_PORT/slow;
        }
        location /b/ {
            internal;
            proxy_buffering off;
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:BACKEND_PORT/;
        }
    }
}
EOF
    $c =~ s/BACKEND_PORT/$bport/g;
    $c =~ s/WORKERS/$workers/g;
    return $c;
}

sub wait_for { my ($f, $t) = @_; my $t0 = time;
               sleep 0.05 until -e "$work/$f" || time - $t0 > ($t // 3);
               return -e "$work/$f"; }

sub call_2026 {
    my ($tool, $tag, %o) = @_;
    my $body = modern_body('tools/call', { name => $tool }, id => $tag);
    $body->{params}{_meta}{progressToken} = $tag if $o{progress};
    return mcp_post($body, 'MCP-Protocol-Version' => MODERN,
                    'Mcp-Method' => 'tools/call', 'Mcp-Name' => $tool,
                    'X-Test-Tag' => $tag, -timeout => 10, @{ $o{h} || [] });
}

# a legacy call in a child process; its answer lands in a file
sub call_in_child {
    my ($sid, $tool, $tag, %o) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $t0 = time;
        my $params = { name => $tool };
        $params->{_meta} = { progressToken => $tag } if $o{progress};
        my $r = legacy_post($sid, '2025-11-25', 'tools/call', $params,
                            id => $tag,
                            headers => [ 'X-Test-Tag' => $tag,
                                         -path => $o{path} // '/mcp-long',
                                         -timeout => 10,
                                         @{ $o{h} || [] } ]);
        my $out = json_encode({ status => $r->{status},
                                type => $r->{headers}{'content-type'} // '',
                                messages => $r->{messages},
                                json => $r->{json}, body => $r->{body},
                                elapsed => time - $t0 });
        open my $fh, '>', "$work/answer-$tag"; print $fh $out; close $fh;
        POSIX::_exit(0);
    }
    return $pid;
}

sub answer_of {
    my ($pid, $tag) = @_;
    waitpid $pid, 0;
    open my $fh, '<', "$work/answer-$tag" or return {};
    local $/;
    return json_decode(<$fh>) || {};
}

sub cancel {
    my ($sid, $id, $tag, %o) = @_;
    return legacy_notify($sid, '2025-11-25', 'notifications/cancelled',
                         { requestId => $id, reason => 'test' },
                         headers => [ 'X-Test-Tag' => $tag,
                                      -path => $o{path} // '/mcp-long' ]);
}

# ---------------------------------------------------------------------------
# four workers

start_nginx(conf(4));

# timeout= of the entry: a tool error, soon, and the backend let go
{
    my $t0 = time;
    my $r = call_2026('slow', 't1');
    my $took = time - $t0;
    is($r->{status}, 200, 'timeout=: 200');
    is($r->{json}{result}{isError}, JSON::XS::true(), 'timeout=: isError');
    is($r->{json}{result}{content}[0]{text},
       "The tool's backend did not answer within 400 ms", 'timeout=: says so');
    cmp_ok($took, '<', 2, 'timeout=: not the backend\'s 4 s');
    ok(wait_for('closed-t1'), 'timeout=: the backend connection was closed');
}

# mcp_backend_timeout of the MCP location for entries without timeout=
{
    my $r = call_2026('slow_default', 't2');
    is($r->{json}{result}{content}[0]{text},
       "The tool's backend did not answer within 700 ms",
       'mcp_backend_timeout: 700 ms');
}

# the connection outlives a timed-out call (keepalive)
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                  Proto => 'tcp', Timeout => 5) or die $!;
    my $one = sub {
        my ($body, $name) = @_;
        $body = json_encode($body);
        print $s "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               . "Content-Type: application/json\r\n"
               . "Accept: application/json, text/event-stream\r\n"
               . "MCP-Protocol-Version: " . MODERN . "\r\n"
               . "Mcp-Method: $name\r\n"
               . ($name eq 'tools/call' ? "Mcp-Name: slow\r\n" : '')
               . "Content-Length: " . length($body) . "\r\n\r\n$body";
        my $buf = '';
        my $t0 = time;
        while (time - $t0 < 5) {
            my $n = sysread $s, $buf, 65536, length $buf;
            last unless $n;
            if ($buf =~ /\r\n\r\n/ && $buf =~ /Content-Length: (\d+)/i) {
                last if length($buf) - index($buf, "\r\n\r\n") - 4 >= $1;
            }
        }
        return $buf;
    };
    my $a = $one->(modern_body('tools/call', { name => 'slow' }, id => 1),
                   'tools/call');
    like($a, qr/did not answer within 400 ms/, 'keepalive: the timeout');
    unlike($a, qr/Connection: close/i, 'keepalive: the connection stays');
    my $b = $one->(modern_body('tools/list', {}, id => 2), 'tools/list');
    like($b, qr/"result":\{"tools"/,
         'keepalive: the next request on it answers');
    close $s;
}

# HTTP/2: three calls on one connection time out together, each stream
# gets its tool error, and the connection goes on
{
    my $body = json_encode(modern_body('tools/call', { name => 'slow' },
                                       id => 'h2'));
    my @cmd = ('curl', '-s', '--no-progress-meter', '--http2-prior-knowledge',
               '--parallel',
               '--parallel-immediate', '--max-time', '10',
               '-H', 'Content-Type: application/json',
               '-H', 'Accept: application/json, text/event-stream',
               '-H', 'MCP-Protocol-Version: ' . MODERN,
               '-H', 'Mcp-Method: tools/call', '-H', 'Mcp-Name: slow',
               '-H', 'X-Test-Tag: h2', '-w', '\n%{http_version}\n',
               '--data-binary', $body,
               map { 'http://127.0.0.1:' . port(1) . '/mcp' } 1 .. 3);
    open my $fh, '-|', @cmd or die "curl: $!";
    my $out = do { local $/; <$fh> };
    close $fh;
    my @errors = $out =~ /did not answer within 400 ms/g;
    is(scalar @errors, 3, 'HTTP/2: three timed-out calls, three tool errors');
    is(scalar(() = $out =~ /^2$/mg), 3, 'HTTP/2: all over HTTP/2');
    ok(wait_for('closed-h2'), 'HTTP/2: the backend connections were closed');
}

# a deadline that passes while the call waits for proxy_cache_lock: the
# request is blocked and cannot be stopped, so the call waits too; the
# first call fills the cache, and the waiting one is answered from it
{
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        call_2026('cached_long', 'cl', h => [ -path => '/mcp-long' ]);
        POSIX::_exit(0);
    }
    wait_for('started-cl');
    my $t0 = time;
    my $r = call_2026('cached_short', 'cs');
    my $took = time - $t0;
    waitpid $pid, 0;
    is($r->{json}{result}{content}[0]{text}, 'too late',
       'cache lock: answered from the cache the first call filled');
    cmp_ok($took, '<', 8, 'cache lock: not hung');
    ok(!-e "$work/started-cs", 'cache lock: the backend was called once');
}

# a streamed call times out after its first event: the error ends the stream
{
    my $r = call_2026('stream', 't3', progress => 1, h => [ -path => '/mcp' ]);
    my @m = @{ $r->{messages} || [] };
    is(($m[0] || {})->{method}, 'notifications/progress',
       'streamed timeout: the event came');
    is($m[-1]{result}{content}[0]{text},
       "The tool's backend did not answer within 700 ms",
       'streamed timeout: then the tool error');
    ok(wait_for('closed-t3'), 'streamed timeout: the backend let go');
}

# notifications/cancelled, through whichever worker takes it
{
    my $sid = mcp_init('2025-11-25', headers => [ -path => '/mcp-long' ]);
    my $n = 12;
    my %pid;
    $pid{$_} = call_in_child($sid, 'slow_default', "c$_") for 1 .. $n;
    my $started = grep { wait_for("started-c$_", 5) } 1 .. $n;
    is($started, $n, "cancel: $n calls reached the backend");

    my $accepted = grep { cancel($sid, "c$_", "x$_")->{status} == 202 } 1 .. $n;
    is($accepted, $n, 'cancel: every notification accepted (202)');

    my ($ended, $empty, $fast) = (0, 0, 0);
    for (1 .. $n) {
        my $a = answer_of($pid{$_}, "c$_");
        $ended++ if ($a->{status} // 0) == 200
                    && $a->{type} =~ m{^text/event-stream};
        $empty++ if !@{ $a->{messages} || [] };
        $fast++ if ($a->{elapsed} // 99) < 3;
    }
    is($ended, $n, 'cancel: each call\'s POST ended as an event stream');
    is($empty, $n, 'cancel: ... with no response in it');
    is($fast, $n, 'cancel: ... well before the backend would answer');
    is(scalar(grep { wait_for("closed-c$_") } 1 .. $n), $n,
       'cancel: every backend connection was closed');

    # which worker served the call, which one the notification
    my %pids;
    if (open my $fh, '<', testdir() . '/tags.log') {
        while (<$fh>) { $pids{$2} = $1 if /^(\d+) (\S+)$/; }
    }
    my $across = grep { $pids{"c$_"} && $pids{"x$_"}
                        && $pids{"c$_"} != $pids{"x$_"} } 1 .. $n;
    cmp_ok($across, '>=', 1, "cancel: $across of $n notifications reached "
           . 'another worker than their call');
}

# a cancellation from another session, or of another id, changes nothing
{
    my $sid = mcp_init('2025-11-25');
    my $other = mcp_init('2025-11-25');
    my $pid = call_in_child($sid, 'slow_default', 'k1', path => '/mcp');
    wait_for('started-k1');
    is(cancel($other, 'k1', 'y1', path => '/mcp')->{status}, 202,
       'foreign cancel: accepted');
    is(cancel($sid, 'k2', 'y2', path => '/mcp')->{status}, 202,
       'unknown id: accepted');
    my $a = answer_of($pid, 'k1');
    is($a->{json}{result}{content}[0]{text},
       "The tool's backend did not answer within 700 ms",
       'foreign cancel: the call ran on to its timeout');
}

# a streamed call cancelled after its first event
{
    my $sid = mcp_init('2025-11-25', headers => [ -path => '/mcp-long' ]);
    my $pid = call_in_child($sid, 'stream', 's1', progress => 1);
    wait_for('started-s1');
    sleep 0.3;
    cancel($sid, 's1', 'z1');
    my $a = answer_of($pid, 's1');
    my @m = @{ $a->{messages} || [] };
    is_deeply([ map { $_->{method} // 'response' } @m ],
              [ 'notifications/progress' ],
              'streamed cancel: the event, then the stream ends');
    cmp_ok($a->{elapsed} // 99, '<', 3, 'streamed cancel: promptly');
    ok(wait_for('closed-s1'), 'streamed cancel: the backend let go');
}

stop_nginx();

# ---------------------------------------------------------------------------
# one worker: the cancellation finds the call in its own worker

start_nginx(conf(1));

{
    my $sid = mcp_init('2025-11-25', headers => [ -path => '/mcp-long' ]);
    my $pid = call_in_child($sid, 'slow_default', 'o1');
    wait_for('started-o1');
    cancel($sid, 'o1', 'w1');
    my $a = answer_of($pid, 'o1');
    is($a->{status}, 200, 'one worker: cancelled');
    is(scalar @{ $a->{messages} || [] }, 0, 'one worker: no response');
    ok(wait_for('closed-o1'), 'one worker: the backend let go');

    # a client that takes JSON only gets a bare 202
    $pid = call_in_child($sid, 'slow_default', 'o2',
                         h => [ Accept => 'application/json' ]);
    wait_for('started-o2');
    cancel($sid, 'o2', 'w2');
    $a = answer_of($pid, 'o2');
    is($a->{status}, 202, 'JSON-only client: 202');
    is($a->{body} // '', '', 'JSON-only client: no body');

    my $r = legacy_post($sid, '2025-11-25', 'ping', {},
                        headers => [ -path => '/mcp-long' ]);
    is_deeply($r->{json}{result}, {}, 'one worker: still serving');
}

stop_nginx();
done_testing();
