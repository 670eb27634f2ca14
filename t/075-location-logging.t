#!/usr/bin/perl
# Logging the nginx way: with a --with-debug nginx (Debian's is) and
# `error_log ... debug`, every step of a backend call has its debug line;
# while the module stops or answers a call, log->action says so, and no
# line of the module's shows a session id.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use Time::HiRes qw(sleep);

my $bport = backend(sub {
    my ($s) = @_;
    my $q = backend_request($s) or return;
    if ($q->{path} eq '/slow') {
        sleep 3;
        backend_reply($s, 200, 'text/plain', 'too late');
        return;
    }
    if ($q->{path} eq '/stream') {
        syswrite $s, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                     . "Connection: close\r\n\r\n"
                     . qq({"progress":1,"total":2}\n)
                     . qq({"content":[{"type":"text","text":"streamed"}]}\n);
        return;
    }
    backend_reply($s, 200, 'text/plain', 'fine');
});

my $conf = <<'EOF';
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server logs {
        name "logging";
        tool fine { description "answers"; pass /b/fine; }
        tool slow { description "too slow"; pass /b/slow timeout=300ms; }
        tool stream { description "NDJSON"; pass /b/stream; }
        tool hello { description "static"; text "hi"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        error_log %%TESTDIR%%/debug.log debug;

        location = /mcp { mcp_pass logs; }
        location /b/ { internal; proxy_pass http://127.0.0.1:BACKEND_PORT/; }
    }
}
EOF
$conf =~ s/BACKEND_PORT/$bport/g;

start_nginx($conf);

my $sid = mcp_init('2025-11-25');

my $r = legacy_post($sid, '2025-11-25', 'tools/call', { name => 'fine', arguments => {} });
is($r->{json} && $r->{json}{result}{content}[0]{text}, 'fine', 'a pass tool answers');

$r = legacy_post($sid, '2025-11-25', 'tools/call',
                 { name => 'stream', arguments => {}, _meta => { progressToken => 'p1' } });
is($r->{json} && $r->{json}{result}{content}[0]{text}, 'streamed', 'a streamed tool answers');
is(scalar @{ $r->{messages} }, 2, 'a progress event, then the result');

$r = legacy_post($sid, '2025-11-25', 'tools/call', { name => 'slow', arguments => {} });
like($r->{json} && $r->{json}{result}{content}[0]{text} // '', qr/did not answer within 300 ms/,
     'a slow tool times out');

$r = legacy_post($sid, '2025-11-25', 'tools/call', { name => 'hello', arguments => {} });
is($r->{json} && $r->{json}{result}{content}[0]{text}, 'hi', 'a static tool answers');

sleep 0.3;

my $log = do { local $/; open my $fh, '<', testdir() . '/debug.log' or die; <$fh> };

for my $re (qr/mcp dispatch: "tools\/call", kind \d+, era 1/,
            qr/mcp call: start "fine" \(pass\), timeout 60000/,
            qr/mcp location: call "\/b\/fine" started, \d+ bytes/,
            qr/mcp location: call "\/b\/fine" done, status 200/,
            qr/mcp dispatch: resume "fine", result \d/,
            qr/mcp call: done "fine", result \d/,
            qr/mcp call: event of "stream"/,
            qr/mcp sse: stream started/,
            qr/mcp call: abort "slow" \(1\)/)
{
    like($log, $re, "debug log: $re");
}

like($log, qr/\[info\].*mcp: timeout, aborting the call to "\/b\/slow" while stopping the backend call of an MCP method/,
     'the timeout line says what the module was doing');

# nginx's own debug lines show every header; the module's lines never show
# the session id
my @ours = grep { /\] \d+#\d+: (?:\*\d+ )?mcp[ :]/ } split /\n/, $log;
ok(@ours > 10, 'the module wrote its debug lines');
ok(!grep({ /\Q$sid\E/ } @ours), 'the session id is in none of the module\'s lines');

stop_nginx();

done_testing();
