#!/usr/bin/perl
# Sessions of the legacy revisions: shared by every worker, DELETE, unknown
# ids, requests without a session, batches (2025-03-26 only).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;

# reuseport: the kernel spreads new connections over the 4 workers
start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 64; }
http {
    log_format pids '$pid $status';
    access_log %%TESTDIR%%/access.log pids;

    mcp_server full {
        name "full-test";
        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
        resource docs://inline { name inline; text "Inline text"; }
    }

    server {
        listen 127.0.0.1:%%PORT%% reuseport;
        location = /mcp { mcp_pass full; }
        location = /same-zone { mcp_pass full; }
        location = /other-zone { mcp_pass full; mcp_session_zone other:64k; }
    }
}
EOF

sub err_code {
    my ($r) = @_;
    return $r->{json} && ref $r->{json}{error} eq 'HASH'
         ? $r->{json}{error}{code} : undef;
}

my $v = '2025-11-25';

# one session, used from every worker
{
    my $sid = mcp_init($v);
    ok($sid, 'session created');
    my ($ok, $n) = (0, 40);
    for my $i (1 .. $n) {
        my $r = legacy_post($sid, $v, $i % 2 ? 'tools/list' : 'ping', {}, id => $i);
        $ok++ if $r->{status} == 200 && $r->{json} && $r->{json}{id} == $i
                 && $r->{json}{result};
    }
    is($ok, $n, "$n requests on new connections all succeed");

    open my $fh, '<', testdir() . '/access.log';
    my %pids;
    while (<$fh>) { $pids{$1}++ if /^(\d+) 200/ }
    close $fh;
    cmp_ok(scalar keys %pids, '>=', 2, 'they were served by several workers ('
           . scalar(keys %pids) . ')');
}

# DELETE ends the session
{
    my $sid = mcp_init($v);
    my $r = http('DELETE', '/mcp', headers => { 'Mcp-Session-Id' => $sid,
                                               'MCP-Protocol-Version' => $v });
    ok($r->{status} >= 200 && $r->{status} < 300, "DELETE is 2xx ($r->{status})");

    for my $i (1 .. 8) {
        $r = legacy_post($sid, $v, 'tools/list', {});
        is($r->{status}, 404, "request $i after DELETE is 404");
    }
    $r = http('DELETE', '/mcp', headers => { 'Mcp-Session-Id' => $sid,
                                            'MCP-Protocol-Version' => $v });
    is($r->{status}, 404, 'a second DELETE is 404');
}

# unknown, malformed, and missing session ids
{
    my $r = legacy_post('a' x 64, $v, 'tools/list', {});
    is($r->{status}, 404, 'unknown session id is 404');
    $r = legacy_post('nope', $v, 'tools/list', {});
    ok($r->{status} == 404 || $r->{status} == 400,
       "malformed session id is 404 or 400 ($r->{status})");
    $r = legacy_post(undef, $v, 'tools/list', {});
    is($r->{status}, 400, 'a request without a session is 400');
    $r = legacy_post(undef, undef, 'ping', {});
    is($r->{status}, 400, 'ping without a session is 400');
    $r = http('DELETE', '/mcp', headers => { 'Mcp-Session-Id' => 'b' x 64 });
    is($r->{status}, 404, 'DELETE of an unknown session is 404');
    $r = http('DELETE', '/mcp');
    is($r->{status}, 400, 'DELETE without a session id is 400');

    # a session id is not a credential for another client's catalog use, but
    # it must survive a bad request in the same session
    my $sid = mcp_init($v);
    $r = mcp_post('{"jsonrpc":', 'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => $v);
    is($r->{status}, 400, 'bad JSON in a session is 400');
    $r = legacy_post($sid, $v, 'ping', undef, id => 1);
    is_deeply($r->{json} && $r->{json}{result}, {}, '... the session survives');
}

# the MCP-Protocol-Version header must match the session's version
{
    my $sid = mcp_init('2025-06-18');
    my $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' },
                     'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => '2025-11-25');
    is($r->{status}, 400, 'header version other than the session version: 400');
    $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' },
                  'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => 'garbage');
    is($r->{status}, 400, 'an invalid MCP-Protocol-Version: 400');
    $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' }, 'Mcp-Session-Id' => $sid);
    is_deeply($r->{json} && $r->{json}{result}, {},
              'no header in a 2025-06-18 session is fine (the session knows)');
}

# sessions live in the zone of the location: shared where the zone is
{
    my $sid = mcp_init($v);
    my $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' },
                     'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => $v,
                     -path => '/same-zone');
    is_deeply($r->{json} && $r->{json}{result}, {}, 'a session works on another location with the same zone');
    $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' },
                  'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => $v,
                  -path => '/other-zone');
    is($r->{status}, 404, 'a session is unknown in another zone');

    my $other = mcp_init($v, headers => [ -path => '/other-zone' ]);
    $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'ping' },
                  'Mcp-Session-Id' => $other, 'MCP-Protocol-Version' => $v,
                  -path => '/other-zone');
    is_deeply($r->{json} && $r->{json}{result}, {}, 'a session of the other zone works there');
}

# batches: accepted in 2025-03-26, refused later
{
    my $sid = mcp_init('2025-03-26');
    my $r = mcp_post([ { jsonrpc => '2.0', id => 1, method => 'ping' },
                       { jsonrpc => '2.0', id => 'two', method => 'tools/list', params => {} },
                       { jsonrpc => '2.0', method => 'notifications/cancelled',
                         params => { requestId => 55 } } ],
                     'Mcp-Session-Id' => $sid);
    is($r->{status}, 200, '2025-03-26 batch is 200');
    my $j = $r->{json};
    is(ref $j, 'ARRAY', '... answered with an array');
    $j = [] unless ref $j eq 'ARRAY';
    is(scalar @$j, 2, '... of two responses (none for the notification)');
    my %by = map { $_->{id} => $_ } @$j;
    is_deeply($by{1} && $by{1}{result}, {}, '... ping answered');
    is(ref($by{two} && $by{two}{result} && $by{two}{result}{tools}), 'ARRAY',
       '... tools/list answered');

    $r = mcp_post([ { jsonrpc => '2.0', method => 'notifications/cancelled',
                      params => { requestId => 1 } } ],
                  'Mcp-Session-Id' => $sid);
    is($r->{status}, 202, '2025-03-26 batch of notifications only is 202');

    $r = mcp_post([], 'Mcp-Session-Id' => $sid);
    is($r->{status}, 400, 'an empty batch is 400');
    is(err_code($r), -32600, '... -32600');

    for my $later ('2025-06-18', '2025-11-25') {
        my $s2 = mcp_init($later);
        $r = mcp_post([ { jsonrpc => '2.0', id => 1, method => 'ping' } ],
                      'Mcp-Session-Id' => $s2, 'MCP-Protocol-Version' => $later);
        is($r->{status}, 400, "$later: a batch is 400");
        is(err_code($r), -32600, "$later: ... -32600");
    }
}

stop_nginx();
done_testing();
