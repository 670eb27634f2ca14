#!/usr/bin/perl
# The session store interface (state/ngx_http_mcp_store.h) when a store
# answers later: every step of a POST and a DELETE resumed from a store's
# answer, on a store that waits (t/store/ngx_http_mcp_test_store.c, a
# test-only module wrapping the shared-memory store, answering from a
# timer) and on the shared-memory one, over the same zone, in four workers;
# a session's log level set in one worker governs the calls of every other;
# and the module's log lines never carry a session id.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX ();
use Time::HiRes qw(time);
use Test::More;
use MCP::Test;

my $store = do {
    local $ENV{SANITIZE} = ($ENV{MCP_TEST_ASAN} || '') eq '1' ? 1 : 0;
    my $out = `$FindBin::Bin/store/build.sh 2>&1`;
    plan(skip_all => "no test store module: $out") if $? >> 8 == 2;
    die "t/store/build.sh failed:\n$out" if $?;
    (split /\n/, $out)[-1];
};

my $conf = <<'EOF';
load_module %%MODULE%%;
load_module STORE_MODULE;
worker_processes 4;
events { worker_connections 256; }
http {
    log_format pids '$pid $status $uri';
    access_log %%TESTDIR%%/access.log pids;
    error_log %%TESTDIR%%/debug.log debug;

    mcp_server full {
        name "full-test";
        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
        tool events { description "log events"; pass /files/events.ndjson; }
    }

    server {
        listen 127.0.0.1:%%PORT%% reuseport;
        location = /mcp { mcp_pass full; }
        location = /later { mcp_pass full; mcp_test_store_delay 20ms; }
        location = /slower { mcp_pass full; mcp_test_store_delay 300ms; }
        location /files/ {
            internal;
            alias %%TESTDIR%%/;
            default_type application/x-ndjson;
            error_page 405 =200 $uri;
        }
    }
}
EOF
$conf =~ s/STORE_MODULE/$store/;

start_nginx($conf);
write_file(testdir() . '/events.ndjson', join("\n",
    '{"log":{"level":"info","data":"working"}}',
    '{"log":{"level":"debug","data":"details"}}',
    '{"content":[{"type":"text","text":"done"}]}') . "\n");

my $v = '2025-11-25';
my @sids;

sub err_code {
    my ($r) = @_;
    return $r->{json} && ref $r->{json}{error} eq 'HASH'
         ? $r->{json}{error}{code} : undef;
}

sub later { return (headers => [ -path => '/later' ]) }

# the log messages of one call of `events`
sub logs {
    my ($r) = @_;
    return join ',', map { $_->{params}{data} }
                     grep { ($_->{method} // '') eq 'notifications/message' }
                     @{ $r->{messages} || [] };
}

# create, lookup and update resumed later
{
    my ($sid, $init, $notif) = mcp_init($v, later());
    push @sids, $sid if $sid;
    like($sid // '', qr/^[0-9a-f]{64}$/, 'initialize (create later): an id');
    is($init->{status}, 200, '... 200');
    is($init->{json}{result}{protocolVersion}, $v, '... the version');
    is($notif->{status}, 202,
       'notifications/initialized (lookup and update later): 202');

    my $r = legacy_post($sid, $v, 'tools/list', {}, id => 't1',
                        headers => [ -path => '/later' ]);
    is($r->{status}, 200, 'tools/list (lookup later): 200');
    is($r->{json}{id}, 't1', '... its id');
    is(scalar @{ $r->{json}{result}{tools} || [] }, 2, '... the tools');

    $r = legacy_post($sid, $v, 'tools/list', {}, id => 't2');
    is($r->{status}, 200, 'the session serves the shared-memory location');

    my $t0 = time;
    $r = legacy_post($sid, $v, 'ping', undef,
                     headers => [ -path => '/slower' ]);
    my $took = time - $t0;
    is_deeply($r->{json} && $r->{json}{result}, {}, 'ping (lookup 300 ms '
              . 'later)');
    cmp_ok($took, '>=', 0.25, '... answered when the store did');

    $r = legacy_post($sid, $v, 'ping', undef, id => 'sse',
                     headers => [ Accept => 'text/event-stream',
                                  -path => '/later' ]);
    like($r->{headers}{'content-type'} // '', qr{^text/event-stream},
         'ping, event stream only (lookup later): one event');
    is_deeply($r->{json} && $r->{json}{result}, {}, '... the response');

    $r = legacy_post('0' x 64, $v, 'ping', undef, id => 'gone',
                     headers => [ -path => '/later' ]);
    is($r->{status}, 404, 'an unknown session (lookup later): 404');
    is(err_code($r), -32001, '... -32001');
    is($r->{json} && $r->{json}{id}, 'gone', '... with the request\'s id');

    # the log level, set in one worker, read in all; a backend call started
    # from a store's answer

    $r = legacy_post($sid, $v, 'logging/setLevel', { level => 'debug' },
                     headers => [ -path => '/later' ]);
    is_deeply($r->{json} && $r->{json}{result}, {},
              'logging/setLevel debug (lookup and update later)');

    my $n = 8;
    my $ok = grep { logs($_) eq 'working,details' }
             map { legacy_post($sid, $v, 'tools/call', { name => 'events' }) }
             1 .. $n;
    is($ok, $n, "$n calls in any worker send debug messages");

    $r = legacy_post($sid, $v, 'logging/setLevel', { level => 'info' });
    is_deeply($r->{json} && $r->{json}{result}, {}, 'logging/setLevel info');

    my @r = map { legacy_post($sid, $v, 'tools/call', { name => 'events' },
                              headers => [ -path => '/later' ]) } 1 .. $n;
    $ok = grep { logs($_) eq 'working'
                 && $_->{json}{result}{content}[0]{text} eq 'done' } @r;
    is($ok, $n, "$n calls after a lookup later: info messages only, the "
                . 'result');

    open my $fh, '<', testdir() . '/access.log';
    my %pids;
    while (<$fh>) { $pids{$1}++ if m{^(\d+) 200 /later$} }
    close $fh;
    cmp_ok(scalar keys %pids, '>=', 2, 'answers later came from several '
           . 'workers (' . scalar(keys %pids) . ')');
}

# two requests on one connection, each answered later

sub request {
    my ($method, $sid, $body, $close) = @_;
    return "$method /later HTTP/1.1\r\nHost: 127.0.0.1:" . port() . "\r\n"
         . "Content-Type: application/json\r\n"
         . "Accept: application/json, text/event-stream\r\n"
         . "Mcp-Session-Id: $sid\r\nMCP-Protocol-Version: $v\r\n"
         . ($close ? "Connection: close\r\n" : '')
         . 'Content-Length: ' . length($body) . "\r\n\r\n" . $body;
}

{
    my $sid = mcp_init($v);
    push @sids, $sid if $sid;

    my $r = raw_send(request('POST', $sid, json_encode(
                         { jsonrpc => '2.0', id => 'k1', method => 'ping' }))
                     . request('POST', $sid, json_encode(
                         { jsonrpc => '2.0', id => 'k2', method => 'ping' }),
                               1),
                     until_close => 1);
    my @status = $r->{raw} =~ m{HTTP/1\.1 (\d{3}) }g;
    is_deeply(\@status, [ 200, 200 ], 'keep-alive: two answers later on one '
              . 'connection') or diag($r->{raw});
    like($r->{raw}, qr/"k1".*"k2"/s, '... in order');

    $r = raw_send(request('DELETE', $sid, '')
                  . request('POST', $sid, json_encode(
                      { jsonrpc => '2.0', id => 'k3', method => 'ping' }), 1),
                  until_close => 1);
    @status = $r->{raw} =~ m{HTTP/1\.1 (\d{3}) }g;
    is_deeply(\@status, [ 204, 404 ], 'keep-alive: DELETE (delete later) '
              . '204, then the session is gone: 404') or diag($r->{raw});

    my $gone = grep { $_->{status} == 404 }
               map { legacy_post($sid, $v, 'ping', undef) } 1 .. 8;
    is($gone, 8, 'gone from every worker');

    $r = http('DELETE', '/later', headers => { 'Mcp-Session-Id' => $sid,
                                               'MCP-Protocol-Version' => $v });
    is($r->{status}, 404, 'a second DELETE (delete later): 404');
}

# many at once

{
    my $sid = mcp_init($v, later());
    push @sids, $sid if $sid;

    my ($clients, $each) = (8, 15);
    my @pids;

    for my $c (1 .. $clients) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;

        if ($pid == 0) {
            my $bad = 0;
            for my $i (1 .. $each) {
                my $r = legacy_post($sid, $v, $i % 3 ? 'ping' : 'tools/call',
                                    $i % 3 ? undef : { name => 'echo_hello' },
                                    id => $i,
                                    headers => [ -path => '/later' ]);
                $bad++ unless $r->{status} == 200 && $r->{json}
                              && $r->{json}{result};
            }
            POSIX::_exit($bad > 255 ? 255 : $bad);  # not the harness END
        }

        push @pids, $pid;
    }

    my $failed = 0;
    for my $pid (@pids) {
        waitpid($pid, 0);
        $failed += $? >> 8;
    }

    is($failed, 0, ($clients * $each) . ' concurrent requests answered later '
                   . 'all succeed');
}

# the debug log: the store's steps, and never a whole session id

{
    open my $fh, '<', testdir() . '/debug.log';
    local $/;
    my $log = <$fh> // '';
    close $fh;

    # nginx's own debug lines show the headers, Mcp-Session-Id among them;
    # the module's lines begin with "mcp"

    my $ours = join "\n", grep { /^\S+ \S+ \[\w+\] \d+#\d+: (?:\*\d+ )?mcp/ }
                          split /\n/, $log;
    my $all = $ours . error_log_text();

  SKIP: {
        skip 'nginx without --with-debug', 7
            unless $log =~ /\[debug\]/;

        for my $line ('mcp shm store: lookup', 'mcp shm store: create',
                      'mcp shm store: update', 'mcp: waiting for the '
                      . 'session store', 'mcp: session lookup resumes',
                      'mcp: session create or update resumes',
                      'mcp: session delete resumes')
        {
            like($ours, qr/\Q$line\E/, "debug log: \"$line\"");
        }
    }

    is(scalar(@sids), 3, 'three sessions made');
    my $seen = grep { index($all, $_) >= 0 } @sids;
    is($seen, 0, 'no session id in the module\'s log lines');
}

stop_nginx();
done_testing();
