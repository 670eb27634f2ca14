#!/usr/bin/perl
# 2026-07-28: every method answers with resultType, lists and reads carry
# ttlMs and cacheScope, errors use the 2026 codes and HTTP statuses.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MIME::Base64 qw(decode_base64);

my $png = png_1x1();

start_nginx(<<'EOF', files => { 'html/pixel.png' => $png });
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server full {
        name "full-test"; version 2.3.4;
        cache_ttl 1m;

        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
        tool lookup {
            description "Look up an order";
            argument id integer required "Order id";
            structured '{"id":1,"status":"shipped"}';
        }
        tool picture { description "Returns an image"; image html/pixel.png; }
        tool failing { description "Always fails"; error "Something went wrong"; }
        tool needs_sampling {
            description "Needs sampling";
            requires_capability sampling;
            text "sampled";
        }
        tool needs_two {
            description "Needs elicitation and roots";
            requires_capability elicitation roots;
            text "both";
        }

        resource docs://inline { name inline; text "Inline text"; }
        resource docs://pixel { name pixel; file html/pixel.png; }
        resource docs://third { name third; text "3"; }
        resource_template "docs://orders/{id}" {
            name order; text "Order {id}"; complete id 100 101 200;
        }

        prompt greet {
            description "Greets someone";
            argument who required;
            message user "Please greet {who}.";
            complete who Alice Bob Albert;
        }
        prompt second { description "Second"; message user "2"; }
        prompt third { description "Third"; message user "3"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; mcp_page_size 2; }
    }
}
EOF

sub err { my ($r) = @_; return $r->{json} && ref $r->{json}{error} eq 'HASH' ? $r->{json}{error} : {} }
sub res { my ($r) = @_; return $r->{json} && ref $r->{json}{result} eq 'HASH' ? $r->{json}{result} : {} }

sub cacheable {
    my ($r, $what) = @_;
    my $res = res($r);
    is($r->{status}, 200, "$what: 200");
    is($res->{resultType}, 'complete', "$what: resultType complete");
    is($res->{ttlMs}, 60000, "$what: ttlMs");
    is($res->{cacheScope}, 'public', "$what: cacheScope");
    ok(!defined $r->{headers}{'mcp-session-id'}, "$what: no Mcp-Session-Id");
}

# lists, with pagination: every page has the hints
for my $list ([ 'tools/list', 'tools', 6 ], [ 'resources/list', 'resources', 3 ],
              [ 'resources/templates/list', 'resourceTemplates', 1 ],
              [ 'prompts/list', 'prompts', 3 ])
{
    my ($method, $key, $count) = @$list;
    my ($cursor, @items, $pages);
    while (1) {
        my $r = modern_post($method, defined $cursor ? { cursor => $cursor } : {});
        $pages++;
        cacheable($r, "$method page $pages");
        push @items, @{ res($r)->{$key} || [] };
        $cursor = res($r)->{nextCursor};
        last if !defined $cursor || $pages > 5;
    }
    is(scalar @items, $count, "$method: $count items over $pages pages");

    my $r = modern_post($method, { cursor => 'bogus!' }, id => 'c1');
    is(err($r)->{code}, -32602, "$method: invalid cursor is -32602");
    is($r->{json} && $r->{json}{id}, 'c1', "$method: ... id echoed");
}

# deterministic order over repeated calls
{
    my @seen = map { json_encode(res(modern_post('tools/list', {}))->{tools}) } 1 .. 3;
    ok($seen[0] eq $seen[1] && $seen[1] eq $seen[2], 'tools/list is deterministic');
}

# reads
{
    my $r = modern_post('resources/read', { uri => 'docs://inline' });
    cacheable($r, 'resources/read text');
    is_deeply(res($r)->{contents},
              [ { uri => 'docs://inline', mimeType => 'text/plain', text => 'Inline text' } ],
              'resources/read text contents');

    $r = modern_post('resources/read', { uri => 'docs://pixel' });
    cacheable($r, 'resources/read blob');
    my $c = (res($r)->{contents} || [])->[0] || {};
    ok(defined $c->{blob} && decode_base64($c->{blob}) eq $png, 'blob');

    $r = modern_post('resources/read', { uri => 'docs://orders/42' });
    cacheable($r, 'resources/read template');
    is((res($r)->{contents} || [])->[0]{text}, 'Order 42', 'template substitution');

    $r = modern_post('resources/read', { uri => 'docs://missing' }, id => 'r9');
    is(err($r)->{code}, -32602, 'unknown resource is -32602 in 2026');
    isnt(err($r)->{code}, -32002, '... never -32002');
    is(ref err($r)->{data} eq 'HASH' && err($r)->{data}{uri}, 'docs://missing',
       '... with data.uri');
    is($r->{json} && $r->{json}{id}, 'r9', '... id echoed');
    ok(!exists res($r)->{contents}, '... and no empty contents');
}

# tools/call
{
    my $r = modern_post('tools/call', { name => 'echo_hello', arguments => {} });
    is($r->{status}, 200, 'tools/call 200');
    is(res($r)->{resultType}, 'complete', 'tools/call resultType');
    is_deeply(res($r)->{content}, [ { type => 'text', text => 'Hello from nginx' } ],
              'tools/call content');

    $r = modern_post('tools/call', { name => 'echo_hello' });
    is(res($r)->{resultType}, 'complete', 'tools/call without arguments');

    $r = modern_post('tools/call', { name => 'lookup', arguments => { id => 3 } });
    is_deeply(res($r)->{structuredContent}, { id => 1, status => 'shipped' },
              'structuredContent');

    $r = modern_post('tools/call', { name => 'picture', arguments => {} });
    is((res($r)->{content} || [])->[0]{type}, 'image', 'image content');

    $r = modern_post('tools/call', { name => 'failing', arguments => {} });
    ok(res($r)->{isError}, 'isError result');
    is(res($r)->{resultType}, 'complete', '... still resultType complete');

    $r = modern_post('tools/call', { name => 'lookup', arguments => { id => 'x' } });
    ok(res($r)->{isError}, 'invalid arguments give isError:true');
    is(res($r)->{resultType}, 'complete', '... with resultType');

    $r = modern_post('tools/call', { name => 'nosuch', arguments => {} }, id => 77);
    is(err($r)->{code}, -32602, 'unknown tool is -32602');
    is($r->{json} && $r->{json}{id}, 77, '... id echoed');
}

# required client capabilities
{
    my $r = modern_post('tools/call', { name => 'needs_sampling', arguments => {} },
                        id => 'cap1');
    is($r->{status}, 400, 'missing client capability: 400');
    is(err($r)->{code}, -32021, '... -32021');
    is($r->{json} && $r->{json}{id}, 'cap1', '... id echoed');
    my $data = err($r)->{data} || {};
    is(ref $data->{requiredCapabilities}, 'HASH', '... data.requiredCapabilities is an object');
    is(ref($data->{requiredCapabilities} && $data->{requiredCapabilities}{sampling}), 'HASH',
       '... naming sampling as an object');

    $r = modern_post('tools/call', { name => 'needs_sampling', arguments => {} },
                     caps => { sampling => {} });
    is_deeply(res($r)->{content}, [ { type => 'text', text => 'sampled' } ],
              'with sampling declared the tool runs');

    $r = modern_post('tools/call', { name => 'needs_sampling', arguments => {} },
                     caps => { elicitation => {} });
    is(err($r)->{code}, -32021, 'another capability does not count');

    $r = modern_post('tools/call', { name => 'needs_two', arguments => {} },
                     caps => { roots => {} });
    is(err($r)->{code}, -32021, 'one of two needed capabilities is not enough');
    ok(exists((err($r)->{data}{requiredCapabilities} || {})->{elicitation}),
       '... the missing one is named');

    $r = modern_post('tools/call', { name => 'needs_two', arguments => {} },
                     caps => { roots => {}, elicitation => {} });
    is_deeply(res($r)->{content}, [ { type => 'text', text => 'both' } ],
              'both capabilities: the tool runs');

    # capabilities are per request: nothing carries over
    $r = modern_post('tools/call', { name => 'needs_sampling', arguments => {} });
    is(err($r)->{code}, -32021, 'capabilities of an earlier request do not carry over');

    # listing does not need the capability
    $r = modern_post('tools/list', {});
    ok(grep({ $_->{name} eq 'echo_hello' } @{ res($r)->{tools} || [] }),
       'tools/list works without capabilities');
}

# prompts/get and completion
{
    my $r = modern_post('prompts/get', { name => 'greet', arguments => { who => 'Ann' } });
    is(res($r)->{resultType}, 'complete', 'prompts/get resultType');
    is_deeply(res($r)->{messages},
              [ { role => 'user', content => { type => 'text', text => 'Please greet Ann.' } } ],
              'prompts/get messages');

    $r = modern_post('prompts/get', { name => 'greet', arguments => {} }, id => 'p2');
    is(err($r)->{code}, -32602, 'missing required argument is -32602');
    is($r->{json} && $r->{json}{id}, 'p2', '... id echoed');

    $r = modern_post('prompts/get', { name => 'nosuch' });
    is(err($r)->{code}, -32602, 'unknown prompt is -32602');

    $r = modern_post('completion/complete',
                     { ref => { type => 'ref/prompt', name => 'greet' },
                       argument => { name => 'who', value => 'B' } });
    is(res($r)->{resultType}, 'complete', 'completion/complete resultType');
    is_deeply(res($r)->{completion}{values}, ['Bob'], 'completion values');

    $r = modern_post('completion/complete',
                     { ref => { type => 'ref/prompt', name => 'nosuch' },
                       argument => { name => 'who', value => 'B' } });
    is(err($r)->{code}, -32602, 'completion for an unknown prompt is -32602');
}

# no session header on any answer, whatever the method
{
    my $r = modern_post('tools/call', { name => 'echo_hello' },
                        headers => [ 'Mcp-Session-Id' => 'x' x 64 ]);
    is($r->{status}, 200, 'an unknown Mcp-Session-Id is ignored in 2026');
    ok(!defined $r->{headers}{'mcp-session-id'}, '... and nothing is echoed');
}

stop_nginx();
done_testing();
