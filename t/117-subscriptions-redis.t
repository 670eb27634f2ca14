#!/usr/bin/perl
# Subscriptions across two replicas (each 2 workers) sharing sessions
# through Redis (mcp_session_store redis=): a session subscribes on one
# replica, its GET stream opens on the other and knows the subscription
# (the session record), a subscription made while the stream is open
# reaches it (a letter through Redis), a publication on either replica
# reaches it and a 2026 listen stream on the other; an unsubscribed URI
# is heard no more.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);
use MCP::Redis;
use MCP::Test;

my $redis = MCP::Redis->new;
my $rport = $redis->port;

my $conf = <<"EOF";
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 128; }
http {
    access_log off;

    upstream cache { mcp_redis_server 127.0.0.1:$rport; mcp_redis_keepalive 2; }
    mcp_session_store redis=cache prefix=t117:;

    mcp_server replicas {
        tool hello { description "Says hello"; text "Hello"; }
        resource test://x { name x; text "x"; }
        resource test://y { name y; text "y"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass replicas; }
        location = /publish { mcp_publish replicas; }
    }
}
EOF

my @r = map { start_instance($conf) } 1 .. 2;
my ($pa, $pb) = map { $_->{ports}{0} } @r;


sub messages { return map { json_decode($_) } $_[0] =~ /^data: (\{.*\})\r$/mg }

sub raw {
    my ($port, $req, $until) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    binmode $s;
    print $s $req;
    my ($b) = read_for($s, 3, $until);
    return ($s, $b);
}

sub sub_on {
    my ($port, $sid, $uri, $method) = @_;
    return legacy_post($sid, '2025-11-25', $method // 'resources/subscribe',
                       { uri => $uri }, headers => [ -port => $port ])->{json};
}

sub publish_on {
    my ($port, $body) = @_;
    return http('POST', '/publish', port => $port, body => json_encode($body),
                headers => [ 'Content-Type' => 'application/json' ]);
}

my $sid = mcp_init('2025-11-25', headers => [ -port => $pa ]);
like($sid // '', qr/^[0-9a-f]{64}\z/, 'a session on replica A');
ok(sub_on($pa, $sid, 'test://x')->{result}, 'it subscribes to test://x on A');

my ($g, $gb) = raw($pb, "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        . "Accept: text/event-stream\r\nMcp-Session-Id: $sid\r\n"
                        . "MCP-Protocol-Version: 2025-11-25\r\n\r\n",
                   qr/data: \r\n\r\n/);
like($gb, qr{^HTTP/1\.1 200}, 'its GET stream opens on replica B');

my $body = json_encode(modern_body('subscriptions/listen',
                                   { notifications => { toolsListChanged => \1,
                                                        resourceSubscriptions => [ 'test://y' ] } },
                                   id => 'R1'));
my ($l, $lb) = raw($pb, "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        . "Accept: application/json, text/event-stream\r\n"
                        . "Content-Type: application/json\r\n"
                        . "MCP-Protocol-Version: " . MODERN . "\r\n"
                        . "Mcp-Method: subscriptions/listen\r\n"
                        . 'Content-Length: ' . length($body) . "\r\n\r\n$body",
                   qr/acknowledged.*\r\n\r\n/s);
my @m = messages($lb);
is($m[0]{method}, 'notifications/subscriptions/acknowledged',
   'a 2026 listen stream on replica B');

is(publish_on($pa, { method => 'notifications/resources/updated',
                     params => { uri => 'test://x' } })->{status},
   202, 'a publication on replica A');
my ($x) = read_for($g, 5, qr/resources\/updated.*\r\n\r\n/s);
@m = messages($x);
is($m[0]{params}{uri}, 'test://x',
   'reaches the stream on B, which knew the subscription from the record');

ok(sub_on($pa, $sid, 'test://y')->{result}, 'a subscription to test://y on A, the stream open on B');
sleep 0.5;
publish_on($pb, { method => 'notifications/resources/updated', params => { uri => 'test://y' } });
($x) = read_for($g, 5, qr/resources\/updated.*\r\n\r\n/s);
@m = messages($x);
is($m[0]{params}{uri}, 'test://y', '... heard there (a letter through Redis)');
my ($y) = read_for($l, 5, qr/resources\/updated.*\r\n\r\n/s);
@m = messages($y);
is($m[0]{params}{uri}, 'test://y', 'the listen stream on B hears test://y too');
is($m[0]{params}{_meta}{'io.modelcontextprotocol/subscriptionId'}, 'R1', '... tagged');

publish_on($pa, { method => 'notifications/tools/list_changed' });
($y) = read_for($l, 5, qr/list_changed.*\r\n\r\n/s);
@m = messages($y);
is($m[0]{method}, 'notifications/tools/list_changed',
   'tools/list_changed published on A reaches the listen stream on B');
($x) = read_for($g, 5, qr/list_changed.*\r\n\r\n/s);
like($x, qr/tools\/list_changed/, '... and the GET stream on B');

ok(sub_on($pb, $sid, 'test://x', 'resources/unsubscribe')->{result}, 'unsubscribe test://x on B');
sleep 0.5;
publish_on($pa, { method => 'notifications/resources/updated', params => { uri => 'test://x' } });
($x) = read_for($g, 1.5, qr/resources\/updated/);
unlike($x, qr/resources\/updated/, 'test://x is heard no more');

close $g;
close $l;

for my $t (@r) {
    unlike(MCP::Test::_read_file("$t->{dir}/error.log"), qr/\[(alert|crit|emerg)\]/,
           'no alert in a replica\'s error log');
    stop_instance($t);
}

done_testing();
