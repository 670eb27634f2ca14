#!/usr/bin/perl
# The module loads into Debian's nginx and the documented demo configuration
# (docs/directives.md) parses and serves.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;

my $demo = <<'EOF2';
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server demo {
        name "demo"; version 1.0.0;
        instructions "Tools to explore ngx_http_mcp_module";

        tool echo_hello {
            description "Says hello";
            text "Hello from nginx";
        }

        tool lookup {
            description "Look up an order";
            argument id integer required "Order id";
            annotations read_only idempotent;
            structured '{"id":1,"status":"shipped"}';
        }

        resource docs://readme {
            name readme; mime_type text/markdown;
            file html/README.md;
        }

        prompt greet {
            description "Greets someone";
            argument who required "Who to greet";
            message user "Please greet {who}.";
            complete who Alice Bob;
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass demo; }
        location = /health/live  { mcp_health live; }
        location = /health/ready { mcp_health ready; }
    }
}
EOF2

my %files = ('html/README.md' => "# Demo\n\nHello.\n");

ok(-f ($ENV{MCP_TEST_MODULE} || ($ENV{MCP_TEST_ASAN}
        ? "$FindBin::Bin/../build/asan/ngx_http_mcp_module.so"
        : "$FindBin::Bin/../build/ngx_http_mcp_module.so")),
   'module file exists');

nginx_t_ok(<<'EOF2', name => 'module loads (empty http block)');
load_module %%MODULE%%;
events { }
http { access_log off; }
EOF2

nginx_t_ok($demo, files => \%files, name => 'demo configuration passes nginx -t');

start_nginx($demo, files => \%files);
my $r = http('GET', '/nothing-here');
is($r->{status}, 404, 'nginx with the module answers plain HTTP');
stop_nginx();

# the shipped demo (conf/demo.conf, what `make run` serves), rendered by
# scripts/render-conf.sh; its `pid` line is dropped because the harness
# passes its own with -g
my $shipped = "$FindBin::Bin/../conf/demo.conf";
ok(-f $shipped, 'conf/demo.conf exists');
if (-f $shipped) {
    my $conf = `'$FindBin::Bin/../scripts/render-conf.sh' '$shipped' %%MODULE%% %%PORT%% %%TESTDIR%%`;
    is($?, 0, 'render-conf.sh renders conf/demo.conf');
    $conf =~ s/^pid\s[^\n]*$/# pid set by the harness/m;
    mkdir "$FindBin::Bin/tmp";
    nginx_t_ok($conf, name => 'conf/demo.conf passes nginx -t', files => { 'logs/.keep' => '' });

    start_nginx($conf, files => { 'logs/.keep' => '' });
    my $init = mcp_post({
        jsonrpc => '2.0', id => 1, method => 'initialize',
        params => { protocolVersion => '2025-11-25', capabilities => {},
                    clientInfo => { name => 't', version => '0' } },
    });
    is($init->{status}, 200, 'the shipped demo answers initialize');
    my $sid = $init->{headers}{'mcp-session-id'};
    my $tl = legacy_post($sid, '2025-11-25', 'tools/list', {});
    ok(@{ $tl->{json} && $tl->{json}{result} && $tl->{json}{result}{tools} || [] } > 0,
       'the shipped demo lists tools');

    # its location-backed tools: nginx answers them itself (a return, and a
    # second server on a Unix socket behind proxy_pass)
    my $r = legacy_post($sid, '2025-11-25', 'tools/call',
                        { name => 'echo_call', arguments => { message => 'hi' } });
    is_deeply($r->{json} && $r->{json}{result} && $r->{json}{result}{structuredContent},
              { tool => 'echo_call',
                received => { name => 'echo_call', arguments => { message => 'hi' } } },
              'the shipped demo: echo_call answers from its location');
    $r = legacy_post($sid, '2025-11-25', 'tools/call',
                     { name => 'server_time', arguments => {} }, id => 'clock-1');
    my $sc = $r->{json} && $r->{json}{result} && $r->{json}{result}{structuredContent} || {};
    ok(($sc->{time} // '') =~ /^\d{4}-\d\d-\d\dT/ && ($sc->{request_id} // '') eq 'clock-1',
       'the shipped demo: server_time answers through proxy_pass') or diag($r->{body});

    # a client's X-MCP-Request-Id never reaches the location, and what the
    # demo prints into JSON is quoted and checked
    $r = legacy_post($sid, '2025-11-25', 'tools/call',
                     { name => 'server_time', arguments => {} }, id => 'clock-2',
                     headers => [ 'X-MCP-Request-Id' => '1,"injected":true' ]);
    $sc = $r->{json} && $r->{json}{result} && $r->{json}{result}{structuredContent} || {};
    ok(($sc->{request_id} // '') eq 'clock-2' && !exists $sc->{injected},
       'the shipped demo: a client X-MCP-Request-Id header injects nothing') or diag($r->{body});
    $r = legacy_post($sid, '2025-11-25', 'tools/call',
                     { name => 'server_time', arguments => {} }, id => 'a","injected":"1');
    $sc = $r->{json} && $r->{json}{result} && $r->{json}{result}{structuredContent} || {};
    ok(exists $sc->{request_id} && $sc->{request_id} eq '' && !exists $sc->{injected},
       'the shipped demo: an id with quotes is left out, not printed') or diag($r->{body});

    # its location-backed resource and prompt
    $r = legacy_post($sid, '2025-11-25', 'resources/read',
                     { uri => 'demo://server/status' });
    my $c = $r->{json} && $r->{json}{result} && $r->{json}{result}{contents}[0] || {};
    my $status = json_decode($c->{text} // '') || {};
    ok(($c->{mimeType} // '') eq 'application/json' && ($status->{nginx} // '') =~ /^1\./,
       'the shipped demo: server_status is read through proxy_pass') or diag($r->{body});
    $r = legacy_post($sid, '2025-11-25', 'prompts/get', { name => 'daily_briefing' });
    like($r->{json} && $r->{json}{result} && $r->{json}{result}{messages}[0]{content}{text} // '',
         qr/^Write a short briefing for today, \d{4}-/,
         'the shipped demo: daily_briefing comes from its location') or diag($r->{body});

    # its authenticated endpoint: API keys, a scoped tool, the metadata document
    $r = modern_post('tools/list', {}, path => '/mcp/private');
    is($r->{status}, 401, 'the shipped demo: /mcp/private without a key is 401');
    $r = modern_post('tools/list', {}, path => '/mcp/private',
                     headers => [ 'X-API-Key' => 'demo-key-not-secret' ]);
    my @names = map { $_->{name} } @{ mcp_result($r)->{tools} || [] };
    ok(@names && !grep({ $_ eq 'refund_order' } @names),
       'the shipped demo: the reader key lists no refund_order');
    $r = modern_post('tools/call', { name => 'refund_order', arguments => { id => 42 } },
                     path => '/mcp/private',
                     headers => [ 'X-API-Key' => 'demo-key-not-secret' ]);
    is($r->{status}, 403, 'the shipped demo: the reader key may not refund');
    $r = modern_post('tools/call', { name => 'refund_order', arguments => { id => 42 } },
                     path => '/mcp/private',
                     headers => [ Authorization => 'Bearer demo-ops-key-not-secret' ]);
    is(mcp_tool_text($r), 'Order refunded.', 'the shipped demo: the ops key refunds');
    $r = http('GET', '/.well-known/oauth-protected-resource/mcp/private');
    is((json_decode($r->{body}) || {})->{resource}, 'http://127.0.0.1:' . port() . '/mcp/private',
       'the shipped demo: its protected-resource metadata');
    stop_nginx();
}

done_testing();
