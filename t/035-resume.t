#!/usr/bin/perl
# Resumable POST streams of 2025-11-25 sessions (issue 14, item 2): the
# priming event and event ids; mcp_sse_poll ends a slow call's stream early
# with a retry: hint and the call goes on; a client that goes away does not
# cancel its call; GET with Last-Event-ID replays what was kept and the rest
# as it comes, on any of 4 workers and on another replica (Redis); garbage,
# foreign and too old ids get a new stream; a finished stream resumed after
# its end just ends.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MCP::Redis;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

# the backend: /slow answers after 1.5 s; /stream sends N progress lines
# 0.4 s apart, then its result

my $bport = backend(sub {
    my ($s) = @_;
    my $req = backend_request($s) or return;
    if ($req->{path} =~ m{^/slow}) {
        sleep 1.5;
        backend_reply($s, 200, 'application/json',
                      '{"content":[{"type":"text","text":"slow done"}]}');
        return;
    }
    my ($n) = $req->{path} =~ m{^/stream/(\d+)};
    $n //= 3;
    syswrite $s, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                 . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    for my $i (1 .. $n) {
        my $l = qq({"progress":$i,"total":$n}\n);
        syswrite $s, sprintf("%x\r\n%s\r\n", length $l, $l) or return;
        sleep 0.4;
    }
    my $l = qq({"content":[{"type":"text","text":"stream done"}]}\n);
    syswrite $s, sprintf("%x\r\n%s\r\n0\r\n\r\n", length $l, $l);
});

sub conf {
    my (%o) = @_;
    my $store = session_store($o{redis}, 't035:');
    # the same locations on HTTP/1.1 and on HTTP/2
    my $servers = join '', map { <<"EOS" } '%%PORT%%', '%%PORT_1%% http2';
    server {
        listen 127.0.0.1:$_;
        location = /mcp { mcp_pass r; }
        location = /poll { mcp_pass r; mcp_sse_poll 400ms; }
        location = /publish { mcp_publish r; }
        location /b/ {
            internal;
            proxy_pass http://127.0.0.1:$bport/;
            proxy_buffering off;
        }
    }
EOS
    return <<"EOF";
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 256; }
http {
    access_log off;
    $store
    mcp_sse_buffer 1m events=4;
    mcp_sse_keepalive 1s;

    mcp_server r {
        tool slow { description "1.5 s"; pass /b/slow; }
        tool stream3 { description "3 progress lines"; pass /b/stream/3; }
        tool stream6 { description "6 progress lines"; pass /b/stream/6; }
        tool stream12 { description "12 progress lines"; pass /b/stream/12; }
    }

$servers
}
EOF
}

# a request on a connection of its own; returns (socket, what came within
# $wait seconds or until $until matched, closed)
sub request {
    my (%o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $o{port} // port(),
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    binmode $s;
    my $body = $o{body} // '';
    my $h = ($o{body} ? 'POST' : 'GET') . " $o{path} HTTP/1.1\r\n"
          . "Host: 127.0.0.1\r\nAccept: "
          . ($o{body} ? 'application/json, text/event-stream'
                      : 'text/event-stream') . "\r\n";
    $h .= "Content-Type: application/json\r\nContent-Length: "
          . length($body) . "\r\n" if $o{body};
    for (my $i = 0; $i < @{ $o{headers} || [] }; $i += 2) {
        $h .= "$o{headers}[$i]: $o{headers}[$i + 1]\r\n";
    }
    print $s "$h\r\n$body";
    my ($buf, $closed) = read_for($s, $o{wait} // 3, $o{until});
    return ($s, $buf, $closed);
}


sub call_body {
    my ($tool, $id, %o) = @_;
    my $p = { name => $tool, arguments => {} };
    $p->{_meta} = { progressToken => "pt$id" } if $o{progress};
    return json_encode({ jsonrpc => '2.0', id => $id, method => 'tools/call',
                         params => $p });
}

sub session_headers {
    return ('Mcp-Session-Id' => $_[0], 'MCP-Protocol-Version' => '2025-11-25');
}

sub ids { return $_[0] =~ /^id: ([gp][0-9a-f]{16}-\d+)\r$/mg }

sub resume {
    my ($sid, $last, %o) = @_;
    return request(path => '/mcp', port => $o{port},
                   headers => [ session_headers($sid), 'Last-Event-ID' => $last ],
                   wait => $o{wait} // 4, until => $o{until});
}

sub results {
    my ($buf) = @_;
    return grep { $_ && exists $_->{result} } sse_messages($buf);
}

my ($s, $buf, $closed, $r);

# ---------------------------------------------------------------------------
# mcp_sse_buffer at nginx -t

my $bad_buffer = sub {
    my ($line) = @_;
    return <<"EOF";
load_module %%MODULE%%;
events { worker_connections 64; }
http {
    $line #<-
    mcp_server r { tool t { description "t"; text "t"; } }
    server { listen 127.0.0.1:%%PORT%%; location = /mcp { mcp_pass r; } }
}
EOF
};
nginx_t_fails($bad_buffer->('mcp_sse_buffer 16k;'), qr/not a size of at least/,
              name => 'nginx -t: mcp_sse_buffer too small');
nginx_t_fails($bad_buffer->('mcp_sse_buffer 1m events=0;'),
              qr/invalid parameter "events=0"/,
              name => 'nginx -t: mcp_sse_buffer events=0');
nginx_t_fails($bad_buffer->('mcp_sse_buffer 1m per_session=1m;'),
              qr/invalid parameter "per_session=1m"/,
              name => 'nginx -t: per_session more than half the zone');
nginx_t_fails($bad_buffer->('mcp_sse_buffer 1m; mcp_sse_buffer 2m;'),
              qr/is duplicate/, name => 'nginx -t: mcp_sse_buffer twice');
nginx_t_fails($bad_buffer->('mcp_sse_poll soon;'), qr/invalid value/,
              name => 'nginx -t: mcp_sse_poll needs a time');

# ---------------------------------------------------------------------------
# shared memory, 4 workers

start_nginx(conf());

my $sid = mcp_init('2025-11-25');
ok($sid, 'a 2025-11-25 session');

# polling: the stream ends early, the call goes on, a GET takes the rest

my $t0 = time;
($s, $buf, $closed) = request(path => '/poll', body => call_body('slow', 1),
                              headers => [ session_headers($sid) ],
                              until => qr/0\r\n\r\n$/);
my $ended = time - $t0;
like($buf, qr{^HTTP/1\.1 200 }, 'mcp_sse_poll: a slow call answers 200');
like($buf, qr{^Content-Type: text/event-stream\r$}mi, '... an event stream');
like($buf, qr{^Connection: close\r$}mi, '... whose connection is the call\'s');
my ($prime) = $buf =~ /\r\nid: (p[0-9a-f]{16}-0)\r\ndata: \r\n\r\n/;
ok($prime, 'a priming event: an id of a POST stream, no data');
like($buf, qr/\r\nretry: 400\r\n\r\n/, '... then retry: mcp_sse_poll');
ok($ended < 1.2, sprintf('... and the stream ended early (%.2f s)', $ended));
is(scalar results($buf), 0, '... without the response');
close $s;

# the GET lands on some worker: the response reaches it when the call ends

($s, $buf, $closed) = resume($sid, $prime, until => qr/0\r\n\r\n$/);
like($buf, qr{^HTTP/1\.1 200 }, 'GET with Last-Event-ID: 200');
(my $stream = $prime) =~ s/-0$//;
is_deeply([ ids($buf) ], [ "$stream-1" ],
          '... the rest of that stream, with its ids');
my ($res) = results($buf);
is($res && $res->{id}, 1, '... the response to the call');
is($res && $res->{result}{content}[0]{text}, 'slow done',
   '... as the backend answered it');
ok($closed || $buf =~ /0\r\n\r\n$/, '... then the resumed stream ends');
close $s;

# after the call: the same from the buffer, on several workers at once

my @socks;
for (1 .. 6) {
    my ($x, $b) = resume($sid, $prime, until => qr/0\r\n\r\n$/);
    push @socks, $x;
    my ($m) = results($b);
    is($m && $m->{result}{content}[0]{text}, 'slow done',
       "replayed from the buffer ($_)");
}
close $_ for @socks;

# resumed from the response itself: nothing more, the stream just ends

($s, $buf, $closed) = resume($sid, "$stream-1", until => qr/0\r\n\r\n$/,
                             wait => 2);
like($buf, qr{^HTTP/1\.1 200 }, 'resumed after its last event: 200');
is(scalar results($buf), 0, '... nothing replayed');
ok($closed || $buf =~ /0\r\n\r\n$/, '... and it ends at once');
close $s;

# a client that goes away does not cancel its call

($s, $buf) = request(path => '/mcp',
                     body => call_body('stream3', 2, progress => 1),
                     headers => [ session_headers($sid) ],
                     until => qr/"progress":1/);
my @seen = ids($buf);
like($seen[0] // '', qr/^p[0-9a-f]{16}-0$/, 'a streamed call: primed');
like($buf, qr/"progress":1/, '... its first progress event');
close $s;
sleep 2.2;

($s, $buf) = resume($sid, $seen[-1], until => qr/0\r\n\r\n$/);
my @msgs = grep { $_ } sse_messages($buf);
is_deeply([ map { $_->{params}{progress} // 'result' } @msgs ],
          [ 2, 3, 'result' ],
          'the client went away: the call went on, its rest is replayed');
close $s;

# hostile Last-Event-ID values: a new stream of the session, nothing else

my $sid2 = mcp_init('2025-11-25');
for my $bad ('garbage', 'p' . ('z' x 16) . '-1',
             "$stream-99999999999999999999999", "$stream--1",
             'g' x 4000, "$stream-0") {
    my $who = ($bad eq "$stream-0") ? 'another session\'s stream'
            : substr($bad, 0, 24);
    ($s, $buf) = request(path => '/mcp',
                         headers => [ session_headers($sid2),
                                      'Last-Event-ID' => $bad ],
                         until => qr/data: \r\n\r\n/, wait => 2);
    my $status = $buf =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0;
    ok($status == 200 || ($status == 400 && length $bad > 1000),
       "Last-Event-ID $who: answered ($status)");
    if ($status == 200) {
        like($buf, qr/\r\nid: g[0-9a-f]{16}-0\r\ndata: \r\n\r\n/,
             '... a new GET stream');
    }
    is(scalar results($buf), 0, '... nothing replayed');
    close $s;
}

# too old: the buffer keeps 4 events of a session, a stream of 8 lost some

($s, $buf) = request(path => '/mcp',
                     body => call_body('stream6', 3, progress => 1),
                     headers => [ session_headers($sid2) ],
                     until => qr/0\r\n\r\n$/, wait => 5);
@seen = ids($buf);
is(scalar @seen, 8, 'a call of 6 progress events: 8 ids');
close $s;
($s, $buf) = resume($sid2, $seen[0], until => qr/data: \r\n\r\n/, wait => 2);
like($buf, qr/\r\nid: g[0-9a-f]{16}-0\r\n/,
     'resumed from an event no longer kept: a new stream');
is(scalar results($buf), 0, '... and no partial replay');
close $s;
($s, $buf) = resume($sid2, $seen[4], until => qr/0\r\n\r\n$/, wait => 2);
is_deeply([ ids($buf) ], [ @seen[5 .. 7] ],
          'resumed from an event still kept: the rest of it');
close $s;

# a GET stream resumed: what went out while its client was away (sent,
# never read); a notification while no stream is open is not kept

sub publish_changed {
    return mcp_post({ jsonrpc => '2.0',
                      method => 'notifications/tools/list_changed' },
                    -path => '/publish');
}

my $sid3 = mcp_init('2025-11-25');
($s, $buf) = request(path => '/mcp', headers => [ session_headers($sid3) ],
                     until => qr/data: \r\n\r\n/, wait => 2);
my ($g0) = $buf =~ /\r\nid: (g[0-9a-f]{16}-0)\r\n/;
ok($g0, 'a GET stream, primed');
(my $gname = $g0) =~ s/-0$//;
is(publish_changed()->{status}, 202, 'two publications its client does not read');
publish_changed();
sleep 0.3;
close $s;
sleep 0.3;
($s, $buf) = resume($sid3, $g0, until => qr/-2\r\n.*list_changed/s, wait => 2);
is_deeply([ ids($buf) ], [ "$gname-1", "$gname-2" ],
          'resumed by Last-Event-ID: what it did not read, in the same stream');
like($buf, qr/tools\/list_changed/, '... the notifications');
is(publish_changed()->{status}, 202, 'then another publication');
my ($more) = read_for($s, 2, qr/list_changed/);
like($more, qr/\r\nid: $gname-3\r\n/, '... reaches it as that stream\'s next');
close $s;
sleep 0.3;
($s, $buf) = resume($sid3, "$gname-3", wait => 1);
like($buf, qr{^HTTP/1\.1 200 }, 'resumed with nothing missed: the stream opens');
is(scalar(() = ids($buf)), 0, '... and replays nothing');
close $s;

# HTTP/2: the h2 stream is HTTP/2's own; a slow call is not ended early
# (that would end its request), a GET stream works and is let go

my $h2 = port(1);

sub h2curl {
    my (@args) = @_;
    open my $fh, '-|', 'curl', '-s', '--http2-prior-knowledge', @args
        or return '';
    local $/;
    my $out = <$fh>;
    close $fh;
    return $out // '';
}

my @post = ('-H', 'Content-Type: application/json',
            '-H', 'Accept: application/json, text/event-stream');
my $hs = h2curl(@post, '-D', '-', '-o', '/dev/null', "http://127.0.0.1:$h2/mcp",
                '-d', json_encode({ jsonrpc => '2.0', id => 0,
                                    method => 'initialize',
                                    params => { protocolVersion => '2025-11-25',
                                                capabilities => {},
                                                clientInfo => { name => 'c',
                                                                version => '1' } } }));
my ($sid4) = $hs =~ /^mcp-session-id: (\w+)/mi;
ok($sid4, 'HTTP/2: a session');
my @in = ('-H', "Mcp-Session-Id: " . ($sid4 // ''),
          '-H', 'MCP-Protocol-Version: 2025-11-25');
my $h2call = h2curl(@post, @in, "http://127.0.0.1:$h2/poll", '-d',
                    call_body('slow', 9));
like($h2call, qr/slow done/, 'HTTP/2: mcp_sse_poll does not end the call early');
my $h2get = h2curl('-N', '-m', '1', '-H', 'Accept: text/event-stream', @in,
                   "http://127.0.0.1:$h2/mcp");
like($h2get, qr/^id: g[0-9a-f]{16}-0\r$/m, 'HTTP/2: a GET stream, primed');

# a reload ends an HTTP/2 GET stream as it ends an HTTP/1 one: whole, with
# a retry: hint (nginx tells the HTTP/2 connection, not its streams: the old
# worker would cut the stream and log "open socket left")
open(my $h2fh, '-|', 'curl', '-s', '-N', '--http2-prior-knowledge',
     '-m', '10', '-H', 'Accept: text/event-stream', @in,
     "http://127.0.0.1:$h2/mcp") or die "curl: $!";
my ($h2open) = read_for($h2fh, 3, qr/data: \r\n\r\n/);
like($h2open, qr/^id: g[0-9a-f]{16}-0\r$/m, 'HTTP/2: a GET stream open');
reload_nginx();
my ($h2end, $h2closed) = read_for($h2fh, 5, undef, $h2open);
ok($h2closed, '... a reload ends it');
like($h2end, qr/\r\nretry: \d+\r\n\r\n\z/, '... whole, with a retry: hint');
close $h2fh;
is($? >> 8, 0, '... curl saw a complete response');
unlike(error_log_text(), qr/open socket .* left/, '... no socket left open');

# the same for an HTTP/2 GET that resumes a POST's stream (the call goes on:
# 12 progress lines 0.4 s apart)
($s, $buf) = request(path => '/poll', headers => [ session_headers($sid4) ],
                     body => call_body('stream12', 12, progress => 1),
                     until => qr/retry: \d+\r\n\r\n/);
my ($p12) = $buf =~ /\r\nid: (p[0-9a-f]{16}-0)\r\n/;
ok($p12, 'a long call, its POST stream ended early');
close $s;
open($h2fh, '-|', 'curl', '-s', '-N', '--http2-prior-knowledge', '-m', '10',
     '-H', 'Accept: text/event-stream', '-H', "Last-Event-ID: $p12", @in,
     "http://127.0.0.1:$h2/mcp") or die "curl: $!";
($h2open) = read_for($h2fh, 3, qr/"progress"/);
like($h2open, qr/notifications\/progress/, 'HTTP/2: resumed, progress comes');
reload_nginx();
($h2end, $h2closed) = read_for($h2fh, 5, undef, $h2open);
ok($h2closed, '... a reload ends it');
like($h2end, qr/\r\nretry: \d+\r\n\r\n\z/, '... with a retry: hint');
unlike($h2end, qr/stream done/, '... before the call ends');
close $h2fh;
is($? >> 8, 0, '... curl saw a complete response');
unlike(error_log_text(), qr/open socket .* left/, '... no socket left open');

unlike(error_log_text(), qr/\[(alert|crit|emerg)\]/, 'no alerts');

stop_nginx();

# ---------------------------------------------------------------------------
# two replicas with Redis: the call on one, the client resumes on the other

my $redis = MCP::Redis->new;
my @rep = map { start_instance(conf(redis => $redis->port)) } 1 .. 2;
my ($pa, $pb) = map { $_->{ports}{0} } @rep;

$sid = mcp_init('2025-11-25', headers => [ -port => $pa ]);
ok($sid, 'a session on replica A');

($s, $buf) = request(path => '/poll', port => $pa, body => call_body('slow', 4),
                     headers => [ session_headers($sid) ],
                     until => qr/0\r\n\r\n$/);
($prime) = $buf =~ /\r\nid: (p[0-9a-f]{16}-0)\r\n/;
ok($prime, 'replica A: the stream ended early');
close $s;

($s, $buf) = resume($sid, $prime, port => $pb, until => qr/0\r\n\r\n$/);
($res) = results($buf);
is($res && $res->{result}{content}[0]{text}, 'slow done',
   'replica B: the response came when the call on A ended');
close $s;

($s, $buf) = resume($sid, $prime, port => $pb, until => qr/0\r\n\r\n$/);
($res) = results($buf);
is($res && $res->{result}{content}[0]{text}, 'slow done',
   '... and again from the Redis list');
close $s;

stop_instance($_) for @rep;

done_testing();
