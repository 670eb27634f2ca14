#!/usr/bin/perl
# 2026-07-28: server/discover (versions, capabilities, caching hints,
# serverInfo in _meta), and no sessions in the stateless era.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;

start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server full {
        name "full-test"; version 2.3.4; title "Full Test";
        instructions "Use the tools wisely";
        cache_ttl 10s;
        cache_scope private;

        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
        resource docs://inline { name inline; text "Inline text"; }
        prompt greet { description "Greets"; message user "Hi"; }
    }

    mcp_server defaults {
        tool echo_hello { description "Says hello"; text "Hello"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; }
        location = /defaults { mcp_pass defaults; }
    }
}
EOF

my $r = modern_post('server/discover', {}, id => 'd1');
is($r->{status}, 200, 'server/discover is 200');
my $res = $r->{json} && $r->{json}{result} || {};
is($r->{json} && $r->{json}{id}, 'd1', 'id echoed');
is($res->{resultType}, 'complete', 'resultType complete');
my %sv = map { $_ => 1 } @{ $res->{supportedVersions} || [] };
ok($sv{$_}, "supportedVersions has $_")
    for qw(2025-03-26 2025-06-18 2025-11-25 2026-07-28);
for my $c (qw(tools resources prompts)) {
    is(ref $res->{capabilities}{$c}, 'HASH', "capability $c");
}
is($res->{instructions}, 'Use the tools wisely', 'instructions');
is($res->{ttlMs}, 10000, 'ttlMs from cache_ttl 10s');
is($res->{cacheScope}, 'private', 'cacheScope from cache_scope');
my $si = $res->{_meta} && $res->{_meta}{'io.modelcontextprotocol/serverInfo'};
is(ref $si, 'HASH', '_meta has io.modelcontextprotocol/serverInfo');
is($si && $si->{name}, 'full-test', 'serverInfo name');
is($si && $si->{version}, '2.3.4', 'serverInfo version');
ok(!defined $r->{headers}{'mcp-session-id'}, 'no Mcp-Session-Id');
like($r->{headers}{'content-type'} // '', qr{^(?:application/json|text/event-stream)},
     'content type');

# defaults: ttl 5m, public, name = the block's name, version 1.0.0
$r = modern_post('server/discover', {}, path => '/defaults');
$res = $r->{json} && $r->{json}{result} || {};
is($res->{ttlMs}, 300000, 'default ttlMs is 5 minutes');
is($res->{cacheScope}, 'public', 'default cacheScope is public');
$si = $res->{_meta} && $res->{_meta}{'io.modelcontextprotocol/serverInfo'} || {};
is($si->{name}, 'defaults', 'default serverInfo.name is the mcp_server name');
is($si->{version}, '1.0.0', 'default version');
is(ref $res->{capabilities}{tools}, 'HASH', 'tools advertised');
ok(!exists $res->{capabilities}{prompts}, 'no prompts capability without prompts');
ok(!exists $res->{capabilities}{resources}, 'no resources capability without resources');

$r = modern_post('prompts/list', {}, path => '/defaults');
is($r->{status}, 404, 'prompts/list without prompts: 404');
is($r->{json} && $r->{json}{error} && $r->{json}{error}{code}, -32601, '... -32601');

# clientInfo is optional
$r = modern_post('server/discover', {}, meta => { clientInfo => undef });
is($r->{json} && $r->{json}{result} && $r->{json}{result}{resultType}, 'complete',
   'discover without clientInfo');

# params with nothing but _meta, and capabilities with content
$r = modern_post('server/discover', {},
                 caps => { sampling => {}, elicitation => { form => {} }, roots => {} });
is($r->{json} && $r->{json}{result} && $r->{json}{result}{resultType}, 'complete',
   'discover with client capabilities');

# a session id sent along is ignored, never echoed
$r = modern_post('server/discover', {}, headers => [ 'Mcp-Session-Id' => 'c' x 64 ]);
is($r->{status}, 200, 'an Mcp-Session-Id on a 2026 request is ignored');
ok(!defined $r->{headers}{'mcp-session-id'}, '... and not echoed');

# every entry of supportedVersions can be used... for 2026, and the three
# legacy ones through initialize (checked in 020); discover is the same on
# every worker
for (1 .. 6) {
    my $again = modern_post('server/discover', {});
    is_deeply($again->{json} && $again->{json}{result}, 
              modern_post('server/discover', {})->{json}{result},
              'discover is deterministic');
}

stop_nginx();
done_testing();
