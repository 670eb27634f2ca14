#!/usr/bin/perl
# Subscriptions and mcp_publish (issue 14, item 3): resources/subscribe and
# unsubscribe in 2025 sessions; an operator's POST to an mcp_publish
# location reaching the GET streams of subscribed sessions (not others) on
# any of 4 workers, list_changed reaching every stream; hostile publish
# bodies; subscriptions/listen (2026) with its filter and subscription id;
# one GET stream per session in a worker (409); a client that never reads
# dropped, not the worker; a reload whose catalog changed telling open
# streams so before they end.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use IO::Socket::INET;
use IO::Select;
use Socket;
use JSON::PP ();
use Time::HiRes qw(time sleep);

my $conf = <<'EOF';
load_module %%MODULE%%;
worker_processes %%WORKERS%%;
events { worker_connections 512; }
http {
    access_log off;
    mcp_session_zone s:1m;
    mcp_sse_keepalive 5s;

    mcp_server full {
        name "sub-test";
        tool echo_hello { description "Says hello"; text "Hello"; }
        %%EXTRA%%
        resource test://x { name x; text "x"; }
        resource test://y { name y; text "y"; }
        resource_template "test://t/{id}" { name t; text "t {id}"; }
        prompt p1 { description "A prompt"; message user "hi"; }
    }

    server {
        listen 127.0.0.1:%%PORT%% sndbuf=16k;
        location = /mcp { mcp_pass full; }
        location = /publish {
            client_max_body_size 8k;
            mcp_publish full;
        }
        location = /metrics { mcp_metrics; }
    }
}
EOF

sub conf_for {
    my (%o) = @_;
    my $c = $conf;
    $c =~ s/%%WORKERS%%/$o{workers}/;
    $c =~ s/%%EXTRA%%//;
    return $c;
}


sub status_of { return $_[0] =~ m{^HTTP/1\.1 (\d{3})} ? $1 : 0 }

sub connect_raw {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    binmode $s;
    return $s;
}

# a session's GET stream: (socket, what came first)
sub get_stream {
    my ($sid, %o) = @_;
    my $s = connect_raw();
    print $s "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           . "Accept: text/event-stream\r\nMcp-Session-Id: $sid\r\n"
           . "MCP-Protocol-Version: 2025-11-25\r\n\r\n";
    my ($buf) = read_for($s, 3, $o{until} // qr/data: \r\n\r\n/);
    return ($s, $buf);
}

# a 2026 subscriptions/listen POST: (socket, what came first)
sub listen_stream {
    my ($notifications, %o) = @_;
    my $body = json_encode(modern_body('subscriptions/listen',
                                       { notifications => $notifications },
                                       id => $o{id} // 'L1'));
    my $s = connect_raw();
    print $s "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           . "Accept: application/json, text/event-stream\r\n"
           . "Content-Type: application/json\r\n"
           . "MCP-Protocol-Version: " . MODERN . "\r\n"
           . "Mcp-Method: subscriptions/listen\r\n"
           . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    my ($buf) = read_for($s, 3, qr/acknowledged.*\r\n\r\n/s);
    return ($s, $buf);
}

# the JSON messages (data: lines) in what a stream sent
sub messages {
    my ($buf) = @_;
    return map { json_decode($_) } $buf =~ /^data: (\{.*\})\r$/mg;
}

sub publish {
    my ($body, %o) = @_;
    $body = json_encode($body) if ref $body;
    return http($o{method} // 'POST', '/publish',
                headers => [ 'Content-Type' => 'application/json' ],
                body => $body);
}

sub streams_open {
    my $b = http('GET', '/metrics')->{body} // '';
    return $b =~ /^mcp_server_streams_open (\d+)$/m ? $1 : undef;
}

sub subscribe {
    my ($sid, $uri, $method) = @_;
    return legacy_post($sid, '2025-11-25', $method // 'resources/subscribe',
                       { uri => $uri })->{json};
}

start_nginx(conf_for(workers => 4));

# ---------------------------------------------------------------------------
# capabilities, resources/subscribe and unsubscribe

my ($sa, $init) = mcp_init('2025-11-25');
my $caps = $init->{json}{result}{capabilities};
is_deeply($caps->{resources}, { subscribe => JSON::PP::true,
                                listChanged => JSON::PP::true },
          'initialize: resources.subscribe and listChanged');
ok($caps->{tools}{listChanged} && $caps->{prompts}{listChanged},
   'initialize: tools and prompts listChanged');

my $d = modern_post('server/discover', {})->{json}{result}{capabilities};
ok($d->{resources}{subscribe} && $d->{tools}{listChanged}
   && $d->{prompts}{listChanged}, 'server/discover advertises them too');

my $j = subscribe($sa, 'test://x');
is_deeply($j->{result}, {}, 'resources/subscribe: {}');
$j = subscribe($sa, 'test://x');
is_deeply($j->{result}, {}, '... twice: {}');

$j = legacy_post($sa, '2025-11-25', 'resources/subscribe', {})->{json};
is($j->{error}{code}, -32602, 'subscribe without uri: -32602');
$j = legacy_post($sa, '2025-11-25', 'resources/subscribe', { uri => 7 })->{json};
is($j->{error}{code}, -32602, 'subscribe with a uri that is no string: -32602');
$j = subscribe($sa, 'test://nope');
is($j->{error}{code}, -32002, 'subscribe to an unknown resource: -32002');
$j = subscribe($sa, 'test://t/' . ('a' x 2100));
is($j->{error}{code}, -32602, 'subscribe to a URI over 2048 bytes: -32602');

my $sf = mcp_init('2025-11-25');
my $ok = 0;
for my $i (1 .. 16) { $ok++ if subscribe($sf, "test://t/$i")->{result} }
is($ok, 16, '16 subscriptions in a session');
$j = subscribe($sf, 'test://t/17');
is($j->{error}{code}, -32602, 'a 17th: -32602');
like($j->{error}{message}, qr/at most 16/, '... saying the bound');
ok(subscribe($sf, 'test://t/3', 'resources/unsubscribe')->{result},
   'unsubscribe one');
ok(subscribe($sf, 'test://t/17')->{result}, '... then the 17th fits');
ok(subscribe($sf, 'test://gone', 'resources/unsubscribe')->{result},
   'unsubscribe from what was never subscribed (or went): {}');

$j = modern_post('resources/subscribe', { uri => 'test://x' });
is($j->{status}, 404, '2026: resources/subscribe is 404');

# ---------------------------------------------------------------------------
# publish reaches subscribed sessions' GET streams on any worker

my $sb = mcp_init('2025-11-25');          # subscribes, then unsubscribes
ok(subscribe($sb, 'test://x')->{result}, 'session B subscribes');
ok(subscribe($sb, 'test://x', 'resources/unsubscribe')->{result},
   '... and unsubscribes');
my $sc = mcp_init('2025-11-25');          # subscribes after its stream opens

my ($ga, $ba) = get_stream($sa);
my ($gb, $bb) = get_stream($sb);
my ($gc, $bc) = get_stream($sc);
is(status_of($_), 200, 'a GET stream opens') for ($ba, $bb, $bc);
my ($ida) = $ba =~ /\r\nid: (g[0-9a-f]{16})-0\r\n/;

ok(subscribe($sc, 'test://y')->{result}, 'session C subscribes, its stream open');
sleep 0.3;

my $r = publish({ jsonrpc => '2.0', method => 'notifications/resources/updated',
                  params => { uri => 'test://x' } });
is($r->{status}, 202, 'publish resources/updated: 202');
is($r->{body} // '', '', '... with no body');

my ($ma) = read_for($ga, 3, qr/resources\/updated.*\r\n\r\n/s);
my @m = messages($ma);
is(scalar(@m), 1, 'the subscribed session hears one message');
is($m[0]{method}, 'notifications/resources/updated', '... resources/updated');
is($m[0]{params}{uri}, 'test://x', '... of its URI');
ok(!exists $m[0]{id}, '... a notification');
like($ma, qr/^id: \Q$ida\E-1\r$/m, '... with the stream\'s next event id');

my ($mb) = read_for($gb, 1, qr/resources\/updated/);
unlike($mb, qr/resources\/updated/, 'an unsubscribed session hears nothing');
my ($mc) = read_for($gc, 1, qr/resources\/updated/);
unlike($mc, qr/resources\/updated/, 'nor one subscribed to another URI');

$r = publish({ method => 'notifications/resources/updated',
               params => { uri => 'test://y' } });
is($r->{status}, 202, 'publish without "jsonrpc": 202');
($mc) = read_for($gc, 3, qr/resources\/updated.*\r\n\r\n/s);
@m = messages($mc);
is($m[0]{params}{uri}, 'test://y',
   'a subscription made after the stream opened is heard (another worker '
   . 'may hold the stream)');

$r = publish({ jsonrpc => '2.0', method => 'notifications/tools/list_changed' });
is($r->{status}, 202, 'publish tools/list_changed: 202');
for my $s ($ga, $gb, $gc) {
    my ($x) = read_for($s, 3, qr/list_changed.*\r\n\r\n/s);
    my @n = messages($x);
    is($n[0]{method}, 'notifications/tools/list_changed',
       'list_changed reaches every stream of the server');
}

# a second GET of a session whose stream is open: 409 in the worker that
# holds it, 200 in another (one per session per worker; one worker below)
my %seen;
for (1 .. 8) {
    my ($g2, $b2) = get_stream($sa, until => qr/\r\n\r\n.*(?:\}|data: \r\n\r\n)/s);
    $seen{ status_of($b2) }++;
    close $g2;
}
is(join(',', grep { $_ != 200 && $_ != 409 } keys %seen), '',
   'a second GET stream of a session: 200 or 409, nothing else');

close $_ for ($gb, $gc);

# ---------------------------------------------------------------------------
# publish: no listeners, hostile bodies

$r = publish({ method => 'notifications/resources/updated',
               params => { uri => 'test://t/999' } });
is($r->{status}, 202, 'a publish that no stream wants: 202');

my @bad = (
    [ '', 'an empty body' ],
    [ 'not json', 'not JSON', -32700 ],
    [ '[]', 'an array' ],
    [ '"x"', 'a string' ],
    [ '{"method":"notifications/tools/list_changed","id":1}', 'an id' ],
    [ '{"method":"tools/list"}', 'another method' ],
    [ '{"method":7}', 'a method that is no string' ],
    [ '{}', 'no method' ],
    [ '{"jsonrpc":"1.0","method":"notifications/tools/list_changed"}', 'jsonrpc 1.0' ],
    [ '{"method":"notifications/tools/list_changed","x":1}', 'an unknown member' ],
    [ '{"method":"notifications/tools/list_changed","params":[]}', 'params an array' ],
    [ '{"method":"notifications/resources/updated"}', 'updated without params' ],
    [ '{"method":"notifications/resources/updated","params":{}}', 'updated without uri' ],
    [ '{"method":"notifications/resources/updated","params":{"uri":1}}', 'a uri that is no string' ],
    [ '{"method":"notifications/resources/updated","params":{"uri":""}}', 'an empty uri' ],
    [ '{"method":"notifications/resources/updated","params":{"uri":"a\u0001b"}}', 'a uri with a control character' ],
    [ '{"method":"notifications/resources/updated","params":{"uri":"' . ('u' x 2049) . '"}}', 'a uri over 2048 bytes' ],
    [ '{"method":"notifications/resources/updated","params":{"uri":"a","y":2}}', 'an unknown member of params' ],
    [ '{"method":"notifications/tools/list_changed"', 'truncated JSON', -32700 ],
);

for my $b (@bad) {
    $r = publish($b->[0]);
    is($r->{status}, 400, "publish of $b->[1]: 400");
    my $e = json_decode($r->{body} // '');
    is($e && $e->{error}{code}, $b->[2] // -32600, '... with a JSON-RPC error body');
}

$r = publish('{"method":"notifications/resources/updated","params":{"uri":"test://x","_meta":{"a":1}}}');
is($r->{status}, 202, 'params._meta is allowed');

$r = publish(undef, method => 'GET');
is($r->{status}, 405, 'publish with GET: 405');
is($r->{headers}{allow}, 'POST', '... Allow: POST');
$r = publish('{"method":"notifications/resources/updated","params":{"uri":"'
             . ('v' x 9000) . '"}}');
is($r->{status}, 413, 'a body over client_max_body_size: 413');

# ---------------------------------------------------------------------------
# subscriptions/listen (2026)

my ($l1, $lb) = listen_stream({ toolsListChanged => JSON::PP::true,
                                resourceSubscriptions => [ 'test://x',
                                                           'test://nope' ] },
                              id => 'L1');
is(status_of($lb), 200, 'subscriptions/listen: 200');
like($lb, qr{^Content-Type: text/event-stream\r$}mi, '... an event stream');
@m = messages($lb);
is($m[0]{method}, 'notifications/subscriptions/acknowledged', 'the first message: the acknowledgement');
is($m[0]{params}{_meta}{'io.modelcontextprotocol/subscriptionId'}, 'L1',
   '... tagged with the listen request id');
is_deeply($m[0]{params}{notifications},
          { toolsListChanged => JSON::PP::true,
            resourceSubscriptions => [ 'test://x' ] },
          '... naming what was taken (not an unknown resource)');
unlike($lb, qr/^id: /m, '... no event ids on 2026');

my ($l2, $lb2) = listen_stream({ promptsListChanged => JSON::PP::true }, id => 42);
@m = messages($lb2);
is($m[0]{params}{_meta}{'io.modelcontextprotocol/subscriptionId'}, 42,
   'an integer id stays an integer');

publish({ method => 'notifications/prompts/list_changed' });
publish({ method => 'notifications/tools/list_changed' });
publish({ method => 'notifications/resources/updated', params => { uri => 'test://y' } });
publish({ method => 'notifications/resources/updated', params => { uri => 'test://x' } });

my ($x1) = read_for($l1, 3, qr/resources\/updated.*\r\n\r\n/s);
@m = messages($x1);
is_deeply([ map { $_->{method} } @m ],
          [ 'notifications/tools/list_changed', 'notifications/resources/updated' ],
          'the listen stream hears what it asked for, nothing else');
is($m[1]{params}{uri}, 'test://x', '... the URI it subscribed to');
is(scalar(grep { ($_->{params}{_meta}{'io.modelcontextprotocol/subscriptionId'} // '') eq 'L1' } @m),
   2, '... every notification tagged with the subscription id');

my ($x2) = read_for($l2, 2, qr/list_changed.*\r\n\r\n/s);
@m = messages($x2);
is_deeply([ map { $_->{method} } @m ], [ 'notifications/prompts/list_changed' ],
          'a prompts-only listen hears prompts list_changed only');

# hostile listens
$r = modern_post('subscriptions/listen', {});
is($r->{json}{error}{code}, -32602, 'listen without notifications: -32602');
$r = modern_post('subscriptions/listen', { notifications => { toolsListChanged => 'yes' } });
is($r->{json}{error}{code}, -32602, 'listen with a filter that is no boolean: -32602');
$r = modern_post('subscriptions/listen',
                 { notifications => { resourceSubscriptions => [ map { "test://t/$_" } 1 .. 17 ] } });
is($r->{json}{error}{code}, -32602, 'listen to 17 resources: -32602');
$r = modern_post('subscriptions/listen', { notifications => { resourceSubscriptions => 'test://x' } });
is($r->{json}{error}{code}, -32602, 'resourceSubscriptions not an array: -32602');
$r = legacy_post($sa, '2025-11-25', 'subscriptions/listen', { notifications => {} });
is($r->{json}{error}{code}, -32601, 'listen in a 2025 session: -32601');

# ---------------------------------------------------------------------------
# a reload whose catalog changed: open streams hear list_changed, then end

my $cf = MCP::Test::_read_file(testdir() . '/nginx.conf');
my $new = $cf;
$new =~ s/(tool echo_hello \{[^\n]*\n)/$1        tool added { description "New"; text "new"; }\n/;
ok($new ne $cf, 'the configuration gains a tool');
MCP::Test::write_file(testdir() . '/nginx.conf', $new);

read_for($ga, 0.5);                     # what the publications above sent
reload_nginx();
my ($ta) = read_for($ga, 10, qr/retry: \d+\r\n\r\n/);
@m = messages($ta);
is_deeply([ map { $_->{method} } @m ], [ 'notifications/tools/list_changed' ],
          'a reload that adds a tool: the GET stream hears tools/list_changed');
like($ta, qr/tools\/list_changed.*retry: 1000\r\n\r\n/s, '... then retry:');

my ($tl) = read_for($l1, 10, qr/"resultType":"complete".*\r\n\r\n/s);
@m = messages($tl);
is($m[0]{method}, 'notifications/tools/list_changed',
   'the tools listen stream hears tools/list_changed');
is($m[0]{params}{_meta}{'io.modelcontextprotocol/subscriptionId'}, 'L1', '... tagged');
is($m[-1]{id}, 'L1', '... then the listen response ends it');
is($m[-1]{result}{resultType}, 'complete', '... resultType complete');

my ($tl2) = read_for($l2, 10, qr/"resultType":"complete".*\r\n\r\n/s);
@m = messages($tl2);
is_deeply([ map { $_->{method} // 'response' } @m ], [ 'response' ],
          'a prompts listen hears no tools change, only the end');
close $_ for ($ga, $l1, $l2);

# a reload that changes nothing: no list_changed
my ($ga2) = get_stream($sa);
reload_nginx();
my ($ta2) = read_for($ga2, 10, qr/retry: \d+\r\n\r\n/);
unlike($ta2, qr/list_changed/, 'a reload that changes no list: no list_changed');
like($ta2, qr/retry: 1000/, '... the stream still ends with retry:');
close $ga2;

unlike(error_log_text(), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');
stop_nginx();

# ---------------------------------------------------------------------------
# one worker: a client that never reads is dropped, the worker lives

start_nginx(conf_for(workers => 1));

my $se = mcp_init('2025-11-25');
my ($g1, $b1) = get_stream($se);
is(status_of($b1), 200, 'one worker: a GET stream');
my ($g2, $b2) = get_stream($se, until => qr/\r\n\r\n.*\}/s);
is(status_of($b2), 409, 'a second GET stream of the session: 409 Conflict');
like($b2, qr/GET stream open already/, '... saying why');
close $g2;
close $g1;
sleep 0.2;
my ($g3, $b3) = get_stream($se);
is(status_of($b3), 200, 'once the first is gone, a new GET stream opens');
close $g3;
sleep 0.2;

my $sd = mcp_init('2025-11-25');
ok(subscribe($sd, 'test://x')->{result}, 'a session subscribes');
my $slow = connect_raw();
setsockopt($slow, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 4096);
print $slow "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
          . "Mcp-Session-Id: $sd\r\nMCP-Protocol-Version: 2025-11-25\r\n\r\n";
sleep 0.3;
is(streams_open(), 1, 'its stream is open (and never read)');

my $uri = 'test://x';
# small messages, many of them, fill the socket buffers, then the stream's
my $n = 0;
for (1 .. 4000) {
    publish({ method => 'notifications/resources/updated', params => { uri => $uri } });
    $n++;
    last if ($n % 200 == 0) && (streams_open() // 1) == 0;
}
is(streams_open(), 0, "a stream that does not read is dropped (after $n publications)");
like(error_log_text(), qr/the client does not read, \d+ bytes unsent: stream dropped/,
     '... and the log says why');
is(http('GET', '/metrics')->{status}, 200, '... the worker serves on');
close $slow;

unlike(error_log_text(), qr/\[(alert|crit|emerg)\]/, 'no alert in the error log');
stop_nginx();

done_testing();
