#!/usr/bin/perl
# A full session zone evicts the least recently used session, logs it, and
# keeps serving the newest ones.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;

# the smallest zone allowed: 8 pages
start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;
    mcp_session_zone tiny:32k;

    mcp_server full {
        name "full-test";
        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; }
    }
}
EOF

my $v = '2025-11-25';
my @sids;
my $failed = 0;

# a session takes a few hundred bytes: 600 cannot fit in 32k
for my $i (1 .. 600) {
    my $init = mcp_post({
        jsonrpc => '2.0', id => $i, method => 'initialize',
        params => { protocolVersion => $v, capabilities => {},
                    clientInfo => { name => "client-$i", version => '1.0.0' } },
    });
    my $sid = $init->{headers}{'mcp-session-id'};
    if ($init->{status} != 200 || !$sid) { $failed++; next; }
    push @sids, $sid;
}
is($failed, 0, 'every initialize succeeds although the zone is full');

my $r = legacy_post($sids[0], $v, 'ping', undef);
is($r->{status}, 404, 'the oldest session was evicted (404)');

for my $i (-3 .. -1) {
    $r = legacy_post($sids[$i], $v, 'ping', undef, id => 1);
    is_deeply($r->{json} && $r->{json}{result}, {}, "a newest session works ($i)");
}

like(error_log_text(), qr/evict|least recently used|LRU/i,
     'error.log tells about the eviction');
unlike(error_log_text(), qr/no memory/i, 'no "no memory" complaint from the slab allocator');

# a session in use is not the least recently used one
{
    my $keep = mcp_init($v);
    for my $i (1 .. 300) {
        if ($i % 10 == 0) { legacy_post($keep, $v, 'ping', undef) }
        mcp_post({ jsonrpc => '2.0', id => $i, method => 'initialize',
                   params => { protocolVersion => $v, capabilities => {},
                               clientInfo => { name => 'c', version => '1' } } });
    }
    $r = legacy_post($keep, $v, 'ping', undef, id => 2);
    is_deeply($r->{json} && $r->{json}{result}, {},
              'a session used all along survives the churn');
}

stop_nginx();
done_testing();
