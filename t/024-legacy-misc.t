#!/usr/bin/perl
# Legacy wire: logging/setLevel, notifications/cancelled, unknown methods,
# GET on the endpoint, and capabilities that follow the catalog.

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
        name "full-test"; version 2.3.4;
        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
        resource docs://inline { name inline; text "Inline text"; }
        prompt greet {
            description "Greets someone";
            argument who required;
            message user "Please greet {who}.";
        }
    }

    mcp_server tools_only {
        name "tools-only";
        tool echo_hello { description "Says hello"; text "Hello"; }
    }

    mcp_server prompts_only {
        name "prompts-only";
        prompt greet { description "Greets"; message user "Hi"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; }
        location = /tools-only { mcp_pass tools_only; }
        location = /prompts-only { mcp_pass prompts_only; }
    }
}
EOF

sub err_code {
    my ($r) = @_;
    return $r->{json} && ref $r->{json}{error} eq 'HASH'
         ? $r->{json}{error}{code} : undef;
}

for my $v (LEGACY_VERSIONS) {
    my $sid = mcp_init($v);
    ok($sid, "$v: session") or next;

    for my $level (qw(debug info notice warning error critical alert emergency)) {
        my $r = legacy_post($sid, $v, 'logging/setLevel', { level => $level }, id => 3);
        is_deeply($r->{json}, { jsonrpc => '2.0', id => 3, result => {} },
                  "$v: logging/setLevel $level is {}");
    }
    for my $bad ('verbose', 'DEBUG', '', 5) {
        my $r = legacy_post($sid, $v, 'logging/setLevel', { level => $bad });
        is(err_code($r), -32602, "$v: setLevel '$bad' is -32602");
    }
    my $r = legacy_post($sid, $v, 'logging/setLevel', {});
    is(err_code($r), -32602, "$v: setLevel without level is -32602");

    $r = legacy_notify($sid, $v, 'notifications/cancelled',
                       { requestId => 99, reason => 'changed my mind' });
    is($r->{status}, 202, "$v: notifications/cancelled is 202");
    is($r->{body}, '', "$v: ... no body");

    $r = legacy_notify($sid, $v, 'notifications/roots/list_changed', {});
    is($r->{status}, 202, "$v: notifications/roots/list_changed is 202");

    $r = legacy_notify($sid, $v, 'notifications/whatever', {});
    is($r->{status}, 202, "$v: an unknown notification is accepted (202)");

    $r = legacy_post($sid, $v, 'no/such/method', {}, id => 'u1');
    is(err_code($r), -32601, "$v: unknown method is -32601");
    is($r->{json} && $r->{json}{id}, 'u1', "$v: ... id echoed");

    $r = legacy_post($sid, $v, 'server/discover', {});
    is(err_code($r), -32601, "$v: server/discover in a legacy session is -32601");

    # GET: the session's stream (t/036-get-stream.t), an event stream only
    $r = http('GET', '/mcp', headers => {
        Accept => 'application/json', 'Mcp-Session-Id' => $sid,
        ($v eq '2025-03-26' ? () : ('MCP-Protocol-Version' => $v)) });
    is($r->{status}, 406, "$v: GET without text/event-stream in Accept is 406");

    # the session still works
    $r = legacy_post($sid, $v, 'ping', undef, id => 1);
    is_deeply($r->{json} && $r->{json}{result}, {}, "$v: session still fine");
}

# capabilities follow the catalog
{
    my ($sid, $init) = mcp_init('2025-11-25', headers => [ -path => '/tools-only' ]);
    my $caps = $init->{json} && $init->{json}{result}{capabilities} || {};
    is(ref $caps->{tools}, 'HASH', 'tools-only: tools advertised');
    ok(!exists $caps->{prompts}, 'tools-only: no prompts capability');
    ok(!exists $caps->{resources}, 'tools-only: no resources capability');

    my $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'prompts/list', params => {} },
                     'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => '2025-11-25',
                     -path => '/tools-only');
    is(err_code($r), -32601, 'tools-only: prompts/list is -32601');
    $r = mcp_post({ jsonrpc => '2.0', id => 2, method => 'prompts/get',
                    params => { name => 'greet' } },
                  'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => '2025-11-25',
                  -path => '/tools-only');
    is(err_code($r), -32601, 'tools-only: prompts/get is -32601');
    $r = mcp_post({ jsonrpc => '2.0', id => 3, method => 'resources/list', params => {} },
                  'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => '2025-11-25',
                  -path => '/tools-only');
    is(err_code($r), -32601, 'tools-only: resources/list is -32601');
    $r = mcp_post({ jsonrpc => '2.0', id => 4, method => 'tools/list', params => {} },
                  'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => '2025-11-25',
                  -path => '/tools-only');
    is(scalar @{ $r->{json} && $r->{json}{result}{tools} || [] }, 1,
       'tools-only: tools/list works');
}

{
    my ($sid, $init) = mcp_init('2025-11-25', headers => [ -path => '/prompts-only' ]);
    my $caps = $init->{json} && $init->{json}{result}{capabilities} || {};
    is(ref $caps->{prompts}, 'HASH', 'prompts-only: prompts advertised');
    ok(!exists $caps->{tools}, 'prompts-only: no tools capability');
    my $r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'tools/list', params => {} },
                     'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => '2025-11-25',
                     -path => '/prompts-only');
    is(err_code($r), -32601, 'prompts-only: tools/list is -32601');
    $r = mcp_post({ jsonrpc => '2.0', id => 2, method => 'tools/call',
                    params => { name => 'echo_hello' } },
                  'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => '2025-11-25',
                  -path => '/prompts-only');
    is(err_code($r), -32601, 'prompts-only: tools/call is -32601');
}

{
    my (undef, $init) = mcp_init('2025-11-25');
    my $caps = $init->{json} && $init->{json}{result}{capabilities} || {};
    for my $c (qw(tools resources prompts)) {
        is(ref $caps->{$c}, 'HASH', "full catalog: $c advertised");
    }
}

stop_nginx();
done_testing();
