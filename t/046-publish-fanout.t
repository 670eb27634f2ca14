#!/usr/bin/perl
# Publications to many GET streams (issue 14): a publication's message is
# kept once in mcp_sse_buffer and every session's event refers to it; it
# stays whole while the sessions used least recently give way in a full
# zone, and the sessions still kept replay it after Last-Event-ID.  A light
# stream sends at once while nothing waits; a client that reads slowly gets
# what its socket could not take later, in order and whole, and the stream
# goes on sending at once after that.  4 workers.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF inet_aton pack_sockaddr_in);
use Time::HiRes qw(sleep);

start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 256; }
http {
    access_log off;
    mcp_session_zone s:4m;
    mcp_sse_buffer 256k events=100000 per_session=128k;
    mcp_sse_keepalive 30s;

    mcp_server r {
        tool t { description "t"; text "t"; }
    }

    server {
        listen 127.0.0.1:%%PORT%% sndbuf=4k;
        location = /mcp { mcp_pass r; }
        location = /publish { mcp_publish r; }
    }
}
EOF

sub headers_of {
    my ($sid, $last) = @_;
    return "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           . "Accept: text/event-stream\r\nMcp-Session-Id: $sid\r\n"
           . "MCP-Protocol-Version: 2025-11-25\r\n"
           . (defined $last ? "Last-Event-ID: $last\r\n" : '') . "\r\n";
}

# a GET stream of the session, after its priming event: (socket, its name)
sub open_stream {
    my ($sid, %o) = @_;
    my $s = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!";
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, $o{rcvbuf}) or die "rcvbuf: $!"
        if $o{rcvbuf};
    connect($s, pack_sockaddr_in(port(), inet_aton('127.0.0.1')))
        or die "connect: $!";
    binmode $s;
    syswrite $s, headers_of($sid, $o{last});
    my ($buf) = read_for($s, 3, $o{until} // qr/data: \r\n\r\n/);
    my ($name) = $buf =~ /\r\nid: (g[0-9a-f]{16})-\d+\r\n/;
    return ($s, $name, $buf);
}

sub publish {
    return mcp_post({ jsonrpc => '2.0',
                      method => 'notifications/tools/list_changed' },
                    -path => '/publish')->{status};
}

# the events of a chunked SSE body: [id, message] in order; dies on a
# chunk that is not whole
sub events_of {
    my ($raw) = @_;
    my ($body) = $raw =~ /\r\n\r\n(.*)\z/s or return ();
    my $sse = '';
    while (length $body) {
        $body =~ s/\A([0-9a-f]+)\r\n//i or die "bad chunk size";
        my $n = hex $1;
        last if $n == 0;
        die "short chunk" if length($body) < $n + 2;
        $sse .= substr($body, 0, $n);
        die "chunk without CRLF" if substr($body, $n, 2) ne "\r\n";
        substr($body, 0, $n + 2) = '';
    }
    my @ev;
    for my $e (split /\r\n\r\n/, $sse) {
        my ($id) = $e =~ /^id: (\S+)\r?$/m;
        my ($data) = $e =~ /^data: (.*?)\r?$/m;
        push @ev, [ $id, $data ] if defined $id;
    }
    return @ev;
}

# ---------------------------------------------------------------------------
# a full zone: 40 sessions, 300 publications that each keep an event of
# every session (64 bytes each beside the one message: the zone fills after
# about 100); the sessions used least recently give way again and again

my @sids = map { scalar mcp_init('2025-11-25') } 1 .. 40;
ok(!grep({ !defined } @sids), '40 sessions');

my (@socks, @names, @bufs);
for my $sid (@sids) {
    my ($s, $name, $b) = open_stream($sid);
    push @socks, $s;
    push @names, $name;
    push @bufs, $b;
}
is(scalar(grep { defined } @names), 40, '40 GET streams, primed');

my $ok = 0;
for (1 .. 300) { $ok++ if publish() == 202 }
is($ok, 300, '300 publications taken');

# the streams got them all, in order (what the zone keeps is apart)
my ($buf) = read_for($socks[7], 5, qr/id: $names[7]-300\r\n.*?\r\n\r\n\r\n/s,
                     $bufs[7]);
my @ev = events_of($buf);
is_deeply([ map { $_->[0] } @ev ],
          [ map { "$names[7]-$_" } 0 .. 300 ],
          'a stream has every publication, in order');
is(scalar(grep { defined $_->[1] && $_->[1] =~ m{tools/list_changed} }
          @ev[1 .. $#ev]), 300, '... each one whole');

close $_ for @socks;
sleep 0.5;

# each session resumed after event $after: what follows replayed whole, or
# (its events gave way) a new stream; never a part of them
sub resume_all {
    my ($after) = @_;
    my ($kept, $fresh, $bad) = (0, 0, 0);
    for my $i (0 .. $#sids) {
        my ($s, $name, $b) = open_stream(
            $sids[$i], last => "$names[$i]-$after",
            until => qr/-300\r\n.*?\r\n\r\n\r\n|data: \r\n\r\n\r\n/s);
        my @got = events_of($b);
        my @ids = map { $_->[0] } @got;
        if ($name && $name ne $names[$i] && @ids == 1) {
            $fresh++;
        } elsif ($name && "@ids" eq join(' ', map { "$names[$i]-$_" }
                                               $after + 1 .. 300)
                 && @got == grep { $_->[1] =~ m{tools/list_changed} } @got)
        {
            $kept++;
        } else {
            $bad++;
            diag("session $i after $after: @ids");
        }
        close $s;
    }
    return ($kept, $fresh, $bad);
}

my ($kept, $fresh, $bad) = resume_all(297);
ok($kept >= 20, "resumed after 297: the last events replayed whole ($kept)");
is($bad, 0, '... the others a new stream, nothing partial');

sleep 0.5;                      # the streams just closed are gone
($kept, $fresh, $bad) = resume_all(1);
ok($fresh >= 1, "resumed after 1: what gave way, a new stream ($fresh)");
is($bad, 0, '... nothing partial');

unlike(error_log_text(), qr/\[(alert|crit|emerg)\]/, 'no alert in the log');

# ---------------------------------------------------------------------------
# a client that reads slowly: small socket buffers on both ends, so most of
# 200 publications wait in the stream; read at last, all of them in order

my $sid = mcp_init('2025-11-25');
my ($s, $name, $first) = open_stream($sid, rcvbuf => 2048);
ok($name, 'a GET stream with a small receive buffer');

$ok = 0;
for (1 .. 200) { $ok++ if publish() == 202 }
is($ok, 200, '200 publications while it does not read');

($buf) = read_for($s, 10, qr/id: $name-200\r\n.*?\r\n\r\n\r\n/s, $first);
@ev = events_of($buf);
is_deeply([ map { $_->[0] } @ev ], [ map { "$name-$_" } 0 .. 200 ],
          'read at last: every event, in order');
is(scalar(grep { defined $_->[1] && $_->[1] =~ m{tools/list_changed} }
          @ev[1 .. $#ev]), 200, '... each one whole');

# nothing waits any more: the next one goes at once
is(publish(), 202, 'one more publication');
my ($more) = read_for($s, 3, qr/id: $name-201\r\n.*?\r\n\r\n\r\n/s, $buf);
@ev = events_of($more);
is($ev[-1][0], "$name-201", '... reaches it');
close $s;

# a reload while most of 200 publications wait in such a stream: the old
# worker sends them and the end (a retry: hint, the last chunk) as the
# client reads, then exits

$sid = mcp_init('2025-11-25');
($s, $name, $first) = open_stream($sid, rcvbuf => 2048);
ok($name, 'another slow stream');
$ok = 0;
for (1 .. 200) { $ok++ if publish() == 202 }
is($ok, 200, '200 publications it does not read');
open(my $pf, '<', testdir() . '/nginx.pid') or die "pid: $!";
chomp(my $master = <$pf>);
close $pf;
kill 'HUP', $master;
sleep 0.5;
($buf) = read_for($s, 10, qr/\r\n0\r\n\r\n\z/, $first);
@ev = events_of($buf);
is_deeply([ map { $_->[0] } @ev ], [ map { "$name-$_" } 0 .. 200 ],
          'a reload: read at last, every event');
like($buf, qr/\r\nretry: \d+\r\n\r\n\r\n0\r\n\r\n\z/,
     '... then the end, whole, with a retry: hint');
close $s;
my $exited = 0;
for (1 .. 100) {
    $exited = () = error_log_text() =~ /worker process \d+ exited with code 0/g;
    last if $exited >= 4;
    sleep 0.05;
}
ok($exited >= 4, 'the old workers exited');

unlike(error_log_text(), qr/\[(alert|crit|emerg)\]/, 'no alert in the log');

stop_nginx();
done_testing();
