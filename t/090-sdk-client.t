#!/usr/bin/perl
# The official MCP TypeScript SDK client (@modelcontextprotocol/sdk, pinned
# in t/sdk/package.json) runs a whole session against the module.  The SDK
# is installed into t/sdk/node_modules when it is missing; nothing is
# skipped.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;

my $sdk = "$FindBin::Bin/sdk";

# node and the SDK
my ($node) = grep { -x } map { "$_/node" } split /:/, $ENV{PATH} // '';
unless (ok($node, 'node is installed')) {
    diag('node is missing: scripts/install-deps.sh installs nodejs');
    done_testing();
    exit 1;
}

unless (-d "$sdk/node_modules/\@modelcontextprotocol/sdk") {
    diag('installing the SDK into t/sdk/node_modules');
    my $npm = 'npm install --no-audit --no-fund';
    my $out = `cd '$sdk' && $npm 2>&1`;
    ok($? == 0, "$npm") or diag($out);
}
my $pkg = json_decode(do {
    local $/;
    open my $fh, '<', "$sdk/node_modules/\@modelcontextprotocol/sdk/package.json"
        or die "the SDK is not installed\n";
    <$fh>;
});
is($pkg->{version}, '1.32.2', 'SDK version 1.32.2');

my $png = png_1x1();

my %files = ('html/pixel.png' => $png, 'html/README.md' => "# Read me\n");
start_nginx(<<'EOF', files => \%files);
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server sdk {
        name "sdk-test"; version 1.2.3;
        instructions "Exercised by the TypeScript SDK";

        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
        tool lookup {
            description "Look up an order";
            argument id integer required "Order id";
            structured '{"id":1,"status":"shipped"}';
        }
        tool status {
            description "Structured with an output schema";
            output_schema '{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}';
            structured '{"ok":true}';
        }
        tool picture { description "Returns an image"; image html/pixel.png; }
        tool embedded {
            description "Returns an embedded resource";
            resource docs://embedded text/plain "Embedded text";
        }
        tool failing { description "Always fails"; error "Something went wrong"; }

        resource docs://readme { name readme; mime_type text/markdown; file html/README.md; }
        resource docs://inline { name inline; text "Inline text"; }
        resource docs://pixel { name pixel; file html/pixel.png; }
        resource_template "docs://orders/{id}" { name order; text "Order {id}"; }

        prompt greet {
            description "Greets someone";
            argument who required "Who to greet";
            message user "Please greet {who}.";
            complete who Alice Bob;
        }
        prompt plain { description "No arguments"; message user "Hi"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass sdk; mcp_page_size 2; }
    }
}
EOF

my $url = 'http://127.0.0.1:' . port() . '/mcp';
my $out = `cd '$sdk' && timeout 60 '$node' client.mjs '$url' 2>&1`;
my $rc = $? >> 8;
is($rc, 0, 'the SDK client finished without error') or diag($out);

my (%step, @calls, @reads, @gets, @completes);
for my $line (split /\n/, $out) {
    my $j = json_decode($line);
    next unless ref $j eq 'HASH' && $j->{step};
    $step{ $j->{step} } = $j;
    push @calls, $j if $j->{step} eq 'callTool';
    push @reads, $j if $j->{step} eq 'readResource';
    push @gets, $j if $j->{step} eq 'getPrompt';
    push @completes, $j if $j->{step} eq 'complete';
}

my $c = $step{connect} || {};
is($c->{protocolVersion}, '2025-11-25', 'negotiated 2025-11-25');
like($c->{sessionId} // '', qr/^[\x21-\x7e]{64}\z/, 'session id');
is($c->{serverInfo} && $c->{serverInfo}{name}, 'sdk-test', 'serverInfo.name');
is($c->{instructions}, 'Exercised by the TypeScript SDK', 'instructions');

is_deeply($step{listTools} && $step{listTools}{names},
          [qw(echo_hello lookup status picture embedded failing)],
          'listTools over all pages');
is($step{listTools} && $step{listTools}{pages}, 3, '... in 3 pages');

my %call = map { $_->{name} => $_->{result} } @calls;
is_deeply([ sort keys %call ], [ sort qw(echo_hello status picture embedded failing) ],
          'every tool without required arguments was called');
is_deeply($call{echo_hello} && $call{echo_hello}{content},
          [ { type => 'text', text => 'Hello from nginx' } ], 'echo_hello');
is_deeply($call{status} && $call{status}{structuredContent}, { ok => JSON::XS::true },
          'structuredContent matching outputSchema');
is($call{picture} && $call{picture}{content}[0]{type}, 'image', 'image');
is($call{embedded} && $call{embedded}{content}[0]{resource}{text}, 'Embedded text',
   'embedded resource');
ok($call{failing} && $call{failing}{isError}, 'isError');

is_deeply($step{listResources} && $step{listResources}{uris},
          [qw(docs://readme docs://inline docs://pixel)], 'listResources');
my %read = map { $_->{uri} => $_->{result} } @reads;
is($read{'docs://readme'} && $read{'docs://readme'}{contents}[0]{text}, "# Read me\n",
   'readResource text');
ok($read{'docs://pixel'} && $read{'docs://pixel'}{contents}[0]{blob}, 'readResource blob');
is_deeply($step{listResourceTemplates} && $step{listResourceTemplates}{uriTemplates},
          ['docs://orders/{id}'], 'listResourceTemplates');

is_deeply($step{listPrompts} && $step{listPrompts}{names}, [qw(greet plain)], 'listPrompts');
my %get = map { $_->{name} => $_->{result} } @gets;
is($get{greet} && $get{greet}{messages}[0]{content}{text}, 'Please greet World.',
   'getPrompt with an argument');
is($get{plain} && $get{plain}{messages}[0]{content}{text}, 'Hi', 'getPrompt without');
is_deeply([ sort @{ $completes[0] && $completes[0]{values} || [] } ], [qw(Alice Bob)],
          'complete');

ok($step{setLoggingLevel}, 'setLoggingLevel');
is_deeply($step{ping} && $step{ping}{result}, {}, 'ping');
ok($step{terminateSession}, 'terminateSession');
ok($step{done}, 'client closed');

# the terminated session is gone
if (my $sid = $step{terminateSession} && $step{terminateSession}{sessionId}) {
    my $r = legacy_post($sid, '2025-11-25', 'tools/list', {});
    is($r->{status}, 404, 'the terminated session is 404');
}

stop_nginx();
done_testing();
