#!/usr/bin/perl
# Tools whose location answers application/x-ndjson: progress and log events
# reach the client as SSE while the backend still works, then the result;
# without a progress token or a log level the answer is one JSON body.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::INET;
use Socket ();
use POSIX ();
use Time::HiRes qw(time sleep);
use Test::More;
use MCP::Test;

# the backend: HTTP/1.1, chunked NDJSON, a pause between lines

my $marks = "/tmp/mcp-stream-$$";
mkdir $marks;

my @stream = (
    '{"progress":0,"total":100,"message":"start"}',
    '{"log":{"level":"info","logger":"t","data":"working"}}',
    '{"log":{"level":"debug","data":"details"}}',
    '{"progress":50,"total":100}',
    '{"progress":100,"total":100}',
    '{"content":[{"type":"text","text":"streamed done"}]}',
);

sub serve_one {
    my ($c) = @_;
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        my $n = sysread $c, $head, 4096, length $head;
        return unless $n;
    }
    my ($path) = $head =~ m{^POST (\S+)};
    my ($len) = $head =~ /\r\ncontent-length: *(\d+)/i;
    my $body = substr $head, index($head, "\r\n\r\n") + 4;
    while (length $body < ($len // 0)) {
        sysread $c, $body, 4096, length $body or last;
    }

    syswrite $c, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                 . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";

    my $chunk = sub {
        my $l = "$_[0]\n";
        return syswrite($c, sprintf("%x\r\n%s\r\n", length $l, $l));
    };

    if ($path eq '/stream') {
        for my $l (@stream) { $chunk->($l); sleep 0.3; }

    } elsif ($path eq '/many') {
        my $batch = '';
        for my $i (1 .. 5000) {
            $batch .= qq({"progress":$i,"total":5000,"message":"step $i"}\n);
            if (length $batch > 3000) {
                syswrite $c, sprintf("%x\r\n%s\r\n", length $batch, $batch);
                $batch = '';
            }
        }
        syswrite $c, sprintf("%x\r\n%s\r\n", length $batch, $batch)
            if length $batch;
        $chunk->($stream[-1]);

    } elsif ($path eq '/noresult') {
        $chunk->($stream[0]);

    } elsif ($path eq '/hang') {
        $chunk->($stream[0]);
        for (1 .. 50) {
            sleep 0.1;
            if (!defined $chunk->('{"progress":1}')) {
                open my $fh, '>', "$marks/aborted"; close $fh;
                return;
            }
        }
    }

    syswrite $c, "0\r\n\r\n";
}

my $bport = backend(\&serve_one);

END {
    system('rm', '-rf', $marks) if $marks && -d $marks;
}

my $conf = <<'EOF';
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 1024; }
http {
    access_log off;

    mcp_server s {
        tool slow { description "streams"; pass /b/stream; }
        tool noresult { description "no result line"; pass /b/noresult; }
        tool hang { description "never ends"; pass /b/hang; }
        tool file { description "an NDJSON file"; pass /files/events.ndjson; }
        tool many { description "5000 events"; pass /b/many; }
        tool longline { description "lines over max_size";
                        pass /b/stream max_size=50; }
    }

    server {
        listen 127.0.0.1:%%PORT%% sndbuf=8k;    # so that a slow reader blocks writes
        location = /mcp { mcp_pass s; }
        location /b/ {
            internal;
            proxy_buffering off;
            proxy_http_version 1.1;
            proxy_pass http://127.0.0.1:BACKEND_PORT/;
        }
        location /files/ {
            internal;
            alias %%TESTDIR%%/;
            default_type application/x-ndjson;
            error_page 405 =200 $uri;
        }
    }
}
EOF
$conf =~ s/BACKEND_PORT/$bport/g;

start_nginx($conf);
write_file(testdir() . '/events.ndjson', join("\n", @stream) . "\n");

sub modern_call {
    my ($tool, %meta) = @_;
    my $body = modern_body('tools/call', { name => $tool }, id => 'c1');
    $body->{params}{_meta}{$_} = $meta{$_} for keys %meta;
    return mcp_post($body, 'MCP-Protocol-Version' => MODERN,
                    'Mcp-Method' => 'tools/call', 'Mcp-Name' => $tool,
                    -timeout => 10);
}

sub methods { return map { $_->{method} // 'response' } @{ $_[0] } }

# 2026: a progress token and a log level
{
    my $r = modern_call('slow', progressToken => 'tok',
                        'io.modelcontextprotocol/logLevel' => 'info');
    is($r->{status}, 200, '2026 streamed: 200');
    like($r->{headers}{'content-type'} // '', qr{^text/event-stream},
         '2026 streamed: an event stream');
    is($r->{headers}{'x-accel-buffering'}, 'no', '2026 streamed: '
       . 'X-Accel-Buffering: no');
    my @m = @{ $r->{messages} || [] };
    is_deeply([ methods(\@m) ],
              [ 'notifications/progress', 'notifications/message',
                'notifications/progress', 'notifications/progress',
                'response' ],
              '2026 streamed: progress, info log (debug dropped), result last');
    is_deeply([ map { $_->{params}{progressToken} } @m[0, 2, 3] ],
              [ 'tok', 'tok', 'tok' ], '2026 streamed: the token echoed');
    is_deeply([ map { $_->{params}{progress} } @m[0, 2, 3] ], [ 0, 50, 100 ],
              '2026 streamed: progress values in order');
    is($m[0]{params}{message}, 'start', '2026 streamed: progress message');
    is_deeply($m[1]{params}, { level => 'info', logger => 't',
                               data => 'working' }, '2026 streamed: the log');
    is($m[-1]{id}, 'c1', '2026 streamed: the response has the id');
    is($m[-1]{result}{content}[0]{text}, 'streamed done',
       '2026 streamed: the result');
    is($m[-1]{result}{resultType}, 'complete', '2026 streamed: resultType');
}

# events reach the client while the backend still works
{
    my $body = json_encode(modern_body('tools/call', { name => 'slow' },
                                       id => 2));
    $body =~ s/"_meta":\{/"_meta":{"progressToken":2,/;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!\n";
    print $s "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           . "Content-Type: application/json\r\n"
           . "Accept: application/json, text/event-stream\r\n"
           . "MCP-Protocol-Version: " . MODERN . "\r\n"
           . "Mcp-Method: tools/call\r\nMcp-Name: slow\r\n"
           . "Connection: close\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    my ($buf, $t0, $first, $result) = ('', time);
    while (time - $t0 < 10) {
        my $n = sysread $s, $buf, 65536, length $buf;
        last unless $n;
        $first //= time if $buf =~ /notifications\/progress/;
        if ($buf =~ /"result"/) { $result = time; last; }
    }
    close $s;
    ok($first && $result, 'raw: an event, then the result');
    cmp_ok(($result // 0) - ($first // 0), '>=', 0.9,
           'raw: the first event came well before the result (the backend '
           . 'pauses 0.3 s a line)');
}

# nobody asked for events: one JSON body with the result line
{
    my $r = modern_call('slow');
    like($r->{headers}{'content-type'} // '', qr{^application/json},
         '2026 plain: JSON');
    is($r->{json}{result}{content}[0]{text}, 'streamed done',
       '2026 plain: the result line');

    $r = modern_call('slow', 'io.modelcontextprotocol/logLevel' => 'error');
    like($r->{headers}{'content-type'} // '', qr{^application/json},
         '2026 with a log level above every event: JSON');
}

# the legacy wire: the session's level, a progress token
{
    my $v = '2025-11-25';
    my $sid = mcp_init($v);
    my $r = legacy_post($sid, $v, 'logging/setLevel', { level => 'debug' },
                        id => 1);
    is_deeply($r->{json}{result}, {}, 'legacy: setLevel debug');
    $r = legacy_post($sid, $v, 'tools/call',
                     { name => 'slow', _meta => { progressToken => 7 } },
                     id => 2, -timeout => 10);
    my @m = @{ $r->{messages} || [] };
    is_deeply([ methods(\@m) ],
              [ 'notifications/progress', 'notifications/message',
                'notifications/message', 'notifications/progress',
                'notifications/progress', 'response' ],
              'legacy: debug logs too, then the result');
    is($m[0]{params}{progressToken}, 7, 'legacy: an integer token');
    ok(!exists $m[-1]{result}{resultType}, 'legacy: no resultType');
}

# a static NDJSON file
{
    my $r = modern_call('file', progressToken => 'f');
    my @m = @{ $r->{messages} || [] };
    is(scalar(grep { ($_->{method} // '') eq 'notifications/progress' } @m),
       3, 'file: three progress events');
    is($m[-1]{result}{content}[0]{text}, 'streamed done', 'file: the result');
}

# max_size= bounds a line: the first line (45 bytes) passes, the second
# (56) does not
{
    my $r = modern_call('longline', progressToken => 'l');
    my @m = @{ $r->{messages} || [] };
    is(scalar(grep { ($_->{method} // '') eq 'notifications/progress' } @m),
       1, 'max_size: the short line went out as an event');
    is($m[-1]{result}{content}[0]{text},
       "The tool's backend answered more than 50 bytes in a line",
       'max_size: the long line is a tool error');
}

# 5000 events through reused buffers, in order and intact; then the
# client reads slowly, so that buffers wait for the socket
{
    my $r = modern_call('many', progressToken => 'm');
    my @m = @{ $r->{messages} || [] };
    my @p = map { $_->{params}{progress} } grep { ($_->{method} // '') eq
                                                  'notifications/progress' } @m;
    is(scalar @p, 5000, 'many: 5000 events');
    is_deeply(\@p, [ 1 .. 5000 ], 'many: in order');
    is(scalar(grep { $_->{params}{message} ne "step $_->{params}{progress}" }
              @m[0 .. $#m - 1]), 0, 'many: every event intact');
    is($m[-1]{result}{content}[0]{text}, 'streamed done', 'many: the result');

    my $body = json_encode(modern_body('tools/call', { name => 'many' },
                                       id => 'slow-reader'));
    $body =~ s/"_meta":\{/"_meta":{"progressToken":"s",/;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!\n";
    setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 16384);
    print $s "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           . "Content-Type: application/json\r\n"
           . "Accept: application/json, text/event-stream\r\n"
           . "MCP-Protocol-Version: " . MODERN . "\r\n"
           . "Mcp-Method: tools/call\r\nMcp-Name: many\r\n"
           . "Connection: close\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    sleep 1;                     # nginx fills the socket and waits
    my $buf = '';
    while (1) {
        my $n = sysread $s, $buf, 1024, length $buf;
        last unless $n;
        sleep 0.001 if length($buf) < 100000;
    }
    close $s;
    my ($bad, @seen) = (0);
    for my $line (split /\r\n/, $buf) {
        next unless $line =~ /^data: (.*progress.*)$/;
        my $m = json_decode($1) or do { $bad++; next };
        next unless ($m->{method} // '') eq 'notifications/progress';
        push @seen, $m->{params}{progress};
        $bad++ if $m->{params}{message} ne "step $m->{params}{progress}";
    }
    is_deeply(\@seen, [ 1 .. 5000 ], 'slow reader: 5000 events in order');
    is($bad, 0, 'slow reader: none overwritten');
    like($buf, qr/"text":"streamed done"/, 'slow reader: the result');
}

# no result line: a tool error after the events
{
    my $r = modern_call('noresult', progressToken => 'n');
    my @m = @{ $r->{messages} || [] };
    is($m[-1]{result}{isError}, JSON::XS::true(), 'no result line: isError');
}

# the client goes away mid-stream: the backend's connection is closed
{
    my $body = json_encode(modern_body('tools/call', { name => 'hang' },
                                       id => 3));
    $body =~ s/"_meta":\{/"_meta":{"progressToken":3,/;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!\n";
    print $s "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           . "Content-Type: application/json\r\n"
           . "Accept: application/json, text/event-stream\r\n"
           . "MCP-Protocol-Version: " . MODERN . "\r\n"
           . "Mcp-Method: tools/call\r\nMcp-Name: hang\r\n"
           . "Content-Length: " . length($body) . "\r\n\r\n$body";
    my $buf = '';
    my $t0 = time;
    while (time - $t0 < 5 && $buf !~ /notifications\/progress/) {
        sysread $s, $buf, 65536, length $buf or last;
    }
    like($buf, qr/notifications\/progress/, 'hang: the first event arrived');
    close $s;

    my $t1 = time;
    sleep 0.2 until -e "$marks/aborted" || time - $t1 > 4;
    ok(-e "$marks/aborted", 'hang: closing the stream cancels the backend '
       . 'call');
}

# many streamed calls at once, over four workers
{
    my ($clients, $each) = (20, 3);
    my @pids;
    for my $c (1 .. $clients) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $bad = 0;
            for my $i (1 .. $each) {
                my $r = modern_call('slow', progressToken => "$c.$i");
                my @m = @{ $r->{messages} || [] };
                $bad++ unless @m == 4 && $m[0]{params}{progressToken} eq "$c.$i"
                              && $m[-1]{result};
            }
            POSIX::_exit($bad);
        }
        push @pids, $pid;
    }
    my $failed = 0;
    for (@pids) { waitpid $_, 0; $failed += $? >> 8; }
    is($failed, 0, ($clients * $each) . ' concurrent streamed calls');
}

my $r = modern_call('slow', progressToken => 'after');
is(scalar @{ $r->{messages} || [] }, 4, 'still serving afterwards');

stop_nginx();
done_testing();
