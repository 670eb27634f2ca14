#!/usr/bin/perl
# The standalone GET stream of a 2025 session: refused without a session,
# on the 2026 wire, without text/event-stream in Accept, for an unknown
# session; otherwise an event stream, primed with an event id on
# 2025-11-25, kept alive by comments every mcp_sse_keepalive, counted in
# mcp_server_streams_open while open (4 workers), and ended whole with a
# retry: hint when a reload makes its worker shut down.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 256; }
http {
    access_log off;
    mcp_session_zone s:1m;
    mcp_sse_keepalive 1s;

    mcp_server full {
        name "stream-test";
        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; }
        location = /metrics { mcp_metrics; }
    }
}
EOF

# a GET of /mcp on a connection of its own; returns (socket, what came
# within $wait seconds, closed)
sub get_stream {
    my (%o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    binmode $s;
    my $h = "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          . 'Accept: ' . ($o{accept} // 'text/event-stream') . "\r\n";
    for (my $i = 0; $i < @{ $o{headers} || [] }; $i += 2) {
        $h .= "$o{headers}[$i]: $o{headers}[$i + 1]\r\n";
    }
    print $s "$h\r\n";
    my ($buf, $closed) = read_for($s, $o{wait} // 0.5, $o{until});
    return ($s, $buf, $closed);
}


sub status_of { return $_[0] =~ m{^HTTP/1\.1 (\d{3})} ? $1 : 0 }

sub streams_open {
    my $b = http('GET', '/metrics')->{body} // '';
    return $b =~ /^mcp_server_streams_open (\d+)$/m ? $1 : undef;
}

my ($s, $buf, $closed);

# ---------------------------------------------------------------------------
# refusals

($s, $buf) = get_stream(until => qr/\r\n\r\n.*\}/s);
is(status_of($buf), 400, 'GET without Mcp-Session-Id: 400');
like($buf, qr/Mcp-Session-Id header is required/, '... and says why');
close $s;

($s, $buf) = get_stream(headers => [ 'MCP-Protocol-Version' => MODERN ],
                        until => qr/\r\n\r\n.*\}/s);
is(status_of($buf), 405, 'GET on the 2026 wire: 405');
like($buf, qr/^Allow: POST\r$/mi, '... Allow: POST');
close $s;

my $sid = mcp_init('2025-11-25');
ok($sid, 'a 2025-11-25 session');

($s, $buf) = get_stream(accept => 'application/json',
                        headers => [ 'Mcp-Session-Id' => $sid,
                                     'MCP-Protocol-Version' => '2025-11-25' ],
                        until => qr/\r\n\r\n.*\}/s);
is(status_of($buf), 406, 'GET without text/event-stream in Accept: 406');
close $s;

for my $id ('a' x 64, 'not-a-session', 'Z' x 300, uc('ab' x 32)) {
    ($s, $buf) = get_stream(headers => [ 'Mcp-Session-Id' => $id,
                                         'MCP-Protocol-Version' => '2025-11-25' ],
                            until => qr/\r\n\r\n.*\}/s);
    is(status_of($buf), 404, 'GET of an unknown session (' . substr($id, 0, 16) . '): 404');
    close $s;
}

for my $bad ('2025-06-18', '1999-01-01') {
    ($s, $buf) = get_stream(headers => [ 'Mcp-Session-Id' => $sid,
                                         'MCP-Protocol-Version' => $bad ],
                            until => qr/\r\n\r\n.*\}/s);
    is(status_of($buf), 400, "GET with MCP-Protocol-Version $bad on a 2025-11-25 session: 400");
    like($buf, qr/does not match the session's protocol version/, '... and says why');
    close $s;
}

# ---------------------------------------------------------------------------
# a 2025-11-25 stream: primed, kept alive, counted

is(streams_open(), 0, 'no stream open yet');

($s, $buf) = get_stream(headers => [ 'Mcp-Session-Id' => $sid,
                                     'MCP-Protocol-Version' => '2025-11-25' ],
                        until => qr/data: \r\n\r\n/);
is(status_of($buf), 200, 'GET of the session: 200');
like($buf, qr{^Content-Type: text/event-stream\r$}mi, '... an event stream');
like($buf, qr{^Cache-Control: no-cache\r$}mi, '... not cached');
like($buf, qr/\r\nid: (g[0-9a-f]{16})-0\r\ndata: \r\n\r\n/,
     '2025-11-25: a priming event, an id and no data');
my ($first) = $buf =~ /\r\nid: (g[0-9a-f]{16})-0\r\n/;

my ($more) = read_for($s, 3, qr/: keep-alive\r\n\r\n/);
like($more, qr/: keep-alive\r\n\r\n/, 'a keep-alive comment within mcp_sse_keepalive');
unlike($more, qr/^data: \{/m, '... and no message on a quiet stream');

is(streams_open(), 1, 'mcp_server_streams_open counts the stream');

# another session's stream has an id of its own (a second GET stream of
# one session in the same worker is 409: t/039-subscriptions.t)
my $sidb = mcp_init('2025-11-25');
my ($s2, $buf2) = get_stream(headers => [ 'Mcp-Session-Id' => $sidb,
                                          'MCP-Protocol-Version' => '2025-11-25' ],
                             until => qr/data: \r\n\r\n/);
my ($second) = $buf2 =~ /\r\nid: (g[0-9a-f]{16})-0\r\n/;
ok($second && $first && $second ne $first, 'two streams, two stream ids');
is(streams_open(), 2, 'two streams open');

close $s2;
my $n;
for (1 .. 50) { $n = streams_open(); last if defined $n && $n == 1; sleep 0.1 }
is($n, 1, 'a client that goes away ends its stream');

# the session still works beside its stream
my $r = legacy_post($sid, '2025-11-25', 'tools/call', { name => 'echo_hello' }, id => 9);
is($r->{status}, 200, 'a POST of the session while its stream is open');

# ---------------------------------------------------------------------------
# a 2025-06-18 stream: no priming event

my $sid2 = mcp_init('2025-06-18');
my ($s3, $buf3) = get_stream(headers => [ 'Mcp-Session-Id' => $sid2,
                                          'MCP-Protocol-Version' => '2025-06-18' ],
                             wait => 2.5, until => qr/\n: keep-alive\r\n\r\n/);
is(status_of($buf3), 200, '2025-06-18: GET of the session: 200');
unlike($buf3, qr/^id: /m, '2025-06-18: no priming event');
like($buf3, qr/\n: keep-alive\r\n\r\n/, '2025-06-18: kept alive');

# a DELETEd session's GET is 404
my $sid3 = mcp_init('2025-11-25');
$r = http('DELETE', '/mcp', headers => [ 'Mcp-Session-Id' => $sid3,
                                          'MCP-Protocol-Version' => '2025-11-25' ]);
is($r->{status}, 204, 'a session deleted');
my ($s4, $buf4) = get_stream(headers => [ 'Mcp-Session-Id' => $sid3,
                                          'MCP-Protocol-Version' => '2025-11-25' ],
                             until => qr/\r\n\r\n.*\}/s);
is(status_of($buf4), 404, 'GET of a deleted session: 404');
close $s4;

# ---------------------------------------------------------------------------
# a reload: the old workers end their streams with a retry: hint

my $t0 = time;
reload_nginx();
my ($tail, $gone) = read_for($s, 10, qr/0\r\n\r\n$/);
my ($tail3, $gone3) = read_for($s3, 10, qr/0\r\n\r\n$/);
like($tail, qr/retry: 1000\r\n\r\n/, 'a reload: the stream gets a retry: hint');
like($tail, qr/\r\n0\r\n\r\n$/, '... and ends whole (the last chunk)');
like($tail3, qr/retry: 1000\r\n\r\n\r\n0\r\n\r\n$|retry: 1000\r\n\r\n/,
     '... the other stream too');
cmp_ok(time - $t0, '<', 8, '... at once, not at the end of a timeout');
close $s;
close $s3;

for (1 .. 50) { $n = streams_open(); last if defined $n && $n == 0; sleep 0.1 }
is($n, 0, 'no stream counted after the reload');

unlike(error_log_text(), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');

stop_nginx();

done_testing();
