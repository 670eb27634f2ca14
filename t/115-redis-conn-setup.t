#!/usr/bin/perl
# A Redis connection opened for a command counts as connected once its
# set-up (AUTH, SELECT) is answered, whatever else was queued on it: its
# connect timer must not end it later.  (It did: the connection waited for
# every pending reply, the command's included, before it counted as
# connected, so the connect timer closed each connection made for a command
# after connect_timeout, failing the commands in flight with it: 503s under
# load, a "did not answer in time" line and a failure counted against the
# server every time.)  Without set-up, with AUTH, with AUTH and SELECT.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use MCP::Redis;
use MCP::Test;

my $plain = MCP::Redis->new;
my $auth = MCP::Redis->new(password => 'setup-secret-7');
my ($pp, $ap) = ($plain->port, $auth->port);

my $conf = <<"EOF";
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;

    upstream plain {
        mcp_redis_server 127.0.0.1:$pp connect_timeout=300ms;
        mcp_redis_keepalive 2;
    }
    upstream auth {
        mcp_redis_server 127.0.0.1:$ap password=setup-secret-7 connect_timeout=300ms;
        mcp_redis_keepalive 2;
    }
    upstream select {
        mcp_redis_server redis://:setup-secret-7\@127.0.0.1:$ap/3 connect_timeout=300ms;
        mcp_redis_keepalive 2;
    }

    mcp_server s { tool hello { description "Hi"; text "hi"; } }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /plain  { mcp_pass s; mcp_session_store redis=plain near=0; }
        location = /auth   { mcp_pass s; mcp_session_store redis=auth near=0; }
        location = /select { mcp_pass s; mcp_session_store redis=select near=0; }
    }
}
EOF

start_nginx($conf);

sub connections {
    my ($r) = @_;
    my ($n) = $r->cli('INFO', 'stats') =~ /total_connections_received:(\d+)/;
    return $n;
}

my %before = (plain => connections($plain), auth => connections($auth));

for my $path (qw(/plain /auth /select)) {
    my $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'initialize',
                       params => { protocolVersion => '2025-06-18',
                                   capabilities => {},
                                   clientInfo => { name => 't',
                                                   version => '1' } } },
                     -path => $path);
    my $sid = $r->{headers}{'mcp-session-id'};
    ok($sid, "$path: a session");

    # pings for three times connect_timeout: each one a Redis round trip
    my (%st, $n);
    my $end = time + 0.9;
    while (time < $end) {
        my $p = mcp_post({ jsonrpc => '2.0', id => 2, method => 'ping' },
                         -path => $path, 'Mcp-Session-Id' => $sid,
                         'MCP-Protocol-Version' => '2025-06-18');
        $st{ $p->{status} }++;
        $n++;
        sleep 0.01;
    }
    is_deeply(\%st, { 200 => $n }, "$path: $n pings over 0.9 s, all 200");
}

unlike(error_log_text(), qr/did not answer in time/,
       'no connection ended by its connect timer');

# plain: the subscriber and one connection for commands; auth: the same for
# each of its two upstreams.  A connection closed by its timer would have
# been made again for the next ping.
my $pn = connections($plain) - $before{plain};
my $an = connections($auth) - $before{auth};
ok($pn <= 3, "plain Redis: $pn connections made (at most 3)");
ok($an <= 6, "Redis with a password: $an connections made (at most 6)");

stop_nginx(allow => qr/Redis|redis/);

done_testing();
