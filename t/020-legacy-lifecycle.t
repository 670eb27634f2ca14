#!/usr/bin/perl
# Legacy wire (2025-03-26, 2025-06-18, 2025-11-25): initialize and version
# negotiation, the Mcp-Session-Id header, notifications/initialized, ping.

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
        description "A catalog for the tests";
        instructions "Use the tools wisely";

        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
        resource docs://inline { name inline; text "Inline text"; }
        prompt greet {
            description "Greets someone";
            argument who required "Who to greet";
            message user "Please greet {who}.";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; }
    }
}
EOF

my %seen_sid;

for my $v (LEGACY_VERSIONS) {
    my $init = mcp_post({
        jsonrpc => '2.0', id => 1, method => 'initialize',
        params => { protocolVersion => $v, capabilities => {},
                    clientInfo => { name => 't', version => '0' } },
    });
    is($init->{status}, 200, "$v: initialize is 200");
    my $res = $init->{json} && $init->{json}{result};
    is(ref $res, 'HASH', "$v: initialize has a result") or next;
    is($init->{json}{id}, 1, "$v: id echoed");
    is($init->{json}{jsonrpc}, '2.0', "$v: jsonrpc 2.0");
    is($res->{protocolVersion}, $v, "$v: supported version echoed");
    is($res->{serverInfo}{name}, 'full-test', "$v: serverInfo.name");
    is($res->{serverInfo}{version}, '2.3.4', "$v: serverInfo.version");
    is($res->{instructions}, 'Use the tools wisely', "$v: instructions");
    ok(!exists $res->{resultType}, "$v: no resultType on a legacy result");
    for my $cap (qw(tools resources prompts)) {
        is(ref $res->{capabilities}{$cap}, 'HASH', "$v: capability $cap");
    }
    if ($v ne '2025-03-26') {
        is($res->{serverInfo}{title}, 'Full Test', "$v: serverInfo.title");
    }

    my $sid = $init->{headers}{'mcp-session-id'};
    ok(defined $sid, "$v: Mcp-Session-Id header") or next;
    like($sid, qr/^[\x21-\x7e]{64}\z/, "$v: session id is 64 visible ASCII");
    ok(!$seen_sid{$sid}++, "$v: session id is new");
    like($init->{headers}{'content-type'} // '',
         qr{^(?:application/json|text/event-stream)}, "$v: content type");

    my @vh = $v eq '2025-03-26' ? () : ('MCP-Protocol-Version' => $v);

    my $n = mcp_post({ jsonrpc => '2.0', method => 'notifications/initialized' },
                     'Mcp-Session-Id' => $sid, @vh);
    is($n->{status}, 202, "$v: notifications/initialized is 202");
    is($n->{body}, '', "$v: ... with no body");

    my $p = legacy_post($sid, $v, 'ping', undef, id => 'ping-1');
    is($p->{status}, 200, "$v: ping 200");
    is_deeply($p->{json}, { jsonrpc => '2.0', id => 'ping-1', result => {} },
              "$v: ping result is exactly {}");

    $p = legacy_post($sid, $v, 'ping', {}, id => 77);
    is_deeply($p->{json}, { jsonrpc => '2.0', id => 77, result => {} },
              "$v: ping with empty params, integer id");
}

# versions the server does not speak: it answers its latest legacy version,
# never 2026-07-28 to an initialize
for my $asked ('2024-01-01', '2026-07-28', '1.0') {
    my $init = mcp_post({
        jsonrpc => '2.0', id => 'x', method => 'initialize',
        params => { protocolVersion => $asked, capabilities => {},
                    clientInfo => { name => 't', version => '0' } },
    });
    is($init->{status}, 200, "initialize asking $asked is 200");
    is($init->{json} && $init->{json}{result}
       && $init->{json}{result}{protocolVersion},
       '2025-11-25', "asking $asked gets 2025-11-25");
}

# conformance sends initialize with MCP-Protocol-Version: 2025-11-25 and
# Mcp-Method: initialize; that is still the legacy handshake
{
    my $init = mcp_post({
        jsonrpc => '2.0', id => 5, method => 'initialize',
        params => { protocolVersion => '2025-11-25', capabilities => {},
                    clientInfo => { name => 't', version => '0' } },
    }, 'MCP-Protocol-Version' => '2025-11-25', 'Mcp-Method' => 'initialize');
    is($init->{status}, 200, 'initialize with 2025-11-25 headers');
    is($init->{json}{result}{protocolVersion}, '2025-11-25', '... negotiated');
    like($init->{headers}{'mcp-session-id'} // '', qr/^[\x21-\x7e]{64}\z/,
         '... session id');
}

# ping may come before notifications/initialized
{
    my $init = mcp_post({
        jsonrpc => '2.0', id => 1, method => 'initialize',
        params => { protocolVersion => '2025-11-25', capabilities => {},
                    clientInfo => { name => 't', version => '0' } },
    });
    my $sid = $init->{headers}{'mcp-session-id'};
    my $p = legacy_post($sid, '2025-11-25', 'ping', undef, id => 9);
    is_deeply($p->{json} && $p->{json}{result}, {},
              'ping before notifications/initialized');

    # a second initialize in a live session is an error
    my $again = mcp_post({
        jsonrpc => '2.0', id => 2, method => 'initialize',
        params => { protocolVersion => '2025-11-25', capabilities => {},
                    clientInfo => { name => 't', version => '0' } },
    }, 'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => '2025-11-25');
    ok($again->{status} >= 400
       || ($again->{json} && $again->{json}{error}),
       'a second initialize on a live session is refused');
}

# initialize is a request: without an id it is not valid
{
    my $r = mcp_post({
        jsonrpc => '2.0', method => 'initialize',
        params => { protocolVersion => '2025-11-25', capabilities => {},
                    clientInfo => { name => 't', version => '0' } },
    });
    ok(!defined $r->{headers}{'mcp-session-id'},
       'initialize as a notification creates no session');
    isnt($r->{status}, 200, '... and is not answered 200');
}

stop_nginx();
done_testing();
