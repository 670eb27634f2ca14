#!/usr/bin/perl
# Legacy wire: tools/list (pagination, order, tool objects) and tools/call
# (every content kind, structuredContent, isError, argument validation).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MIME::Base64 qw(decode_base64);

my $png = png_1x1();
my $wav = wav_tiny();

start_nginx(<<'EOF', files => { 'html/pixel.png' => $png, 'html/beep.wav' => $wav });
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server full {
        name "full-test"; version 2.3.4;

        tool echo_hello {
            title "Hello";
            description "Says hello";
            text "Hello from nginx";
        }
        tool lookup {
            description "Look up an order";
            argument id integer required "Order id";
            argument verbose boolean "More detail";
            annotations read_only idempotent;
            structured '{"id":1,"status":"shipped"}';
        }
        tool picture { description "Returns an image"; image html/pixel.png; }
        tool sound { description "Returns audio"; audio html/beep.wav audio/wav; }
        tool embedded {
            description "Returns an embedded resource";
            resource docs://embedded text/plain "Embedded text";
        }
        tool multi {
            description "Several items";
            text "first";
            text "second";
            resource_link docs://readme readme text/markdown;
        }
        tool failing { description "Always fails"; error "Something went wrong"; }
        tool search {
            description "Search with a JSON Schema";
            input_schema '{"type":"object","properties":{"q":{"type":"string"},"limit":{"type":"integer"}},"required":["q"],"additionalProperties":false}';
            text "found";
        }
        tool both {
            description "Text and structured";
            text "custom text";
            structured '{"a":[1,2,3]}';
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; mcp_page_size 2; }
    }
}
EOF

my @declared = qw(echo_hello lookup picture sound embedded multi failing
                  search both);

sub call_tool {
    my ($sid, $v, $name, $args) = @_;
    my %p = (name => $name);
    $p{arguments} = $args if defined $args;
    return legacy_post($sid, $v, 'tools/call', \%p);
}

for my $v (LEGACY_VERSIONS) {
    my $sid = mcp_init($v);
    ok($sid, "$v: session") or next;

    # pagination: 9 tools, 2 per page
    my (@names, @cursors, %tools);
    my $cursor;
    my $pages = 0;
    while (1) {
        my $r = legacy_post($sid, $v, 'tools/list',
                            defined $cursor ? { cursor => $cursor } : {});
        my $res = $r->{json} && $r->{json}{result};
        last unless is(ref $res, 'HASH', "$v: tools/list page " . ($pages + 1));
        $pages++;
        ok(@{ $res->{tools} } <= 2, "$v: page holds at most 2 tools");
        for my $t (@{ $res->{tools} }) {
            push @names, $t->{name};
            $tools{ $t->{name} } = $t;
        }
        last unless defined $res->{nextCursor};
        push @cursors, $res->{nextCursor};
        $cursor = $res->{nextCursor};
        last if $pages > 10;
    }
    is($pages, 5, "$v: 5 pages");
    is_deeply(\@names, \@declared, "$v: all tools, in declared order");

    # the same walk gives the same pages
    my $r = legacy_post($sid, $v, 'tools/list', { cursor => $cursors[1] });
    is_deeply([ map { $_->{name} } @{ $r->{json}{result}{tools} || [] } ],
              [ @declared[4, 5] ], "$v: a cursor can be replayed");
    is($r->{json}{result}{nextCursor}, $cursors[2], "$v: ... with the same next");

    $r = legacy_post($sid, $v, 'tools/list', undef);
    is_deeply([ map { $_->{name} } @{ $r->{json}{result}{tools} || [] } ],
              [ @declared[0, 1] ], "$v: tools/list without params");

    for my $bad ('garbage', 'AAAA', '999999', '-1') {
        $r = legacy_post($sid, $v, 'tools/list', { cursor => $bad });
        is($r->{json} && $r->{json}{error} && $r->{json}{error}{code}, -32602,
           "$v: invalid cursor '$bad' is -32602");
    }

    # tool objects
    my $t = $tools{echo_hello};
    is($t->{description}, 'Says hello', "$v: description");
    is_deeply($t->{inputSchema}, { type => 'object', additionalProperties => JSON::XS::false },
              "$v: schema of a tool without arguments");
    is($t->{title}, 'Hello', "$v: title") if $v ne '2025-03-26';

    $t = $tools{lookup};
    is($t->{inputSchema}{type}, 'object', "$v: lookup schema type");
    is($t->{inputSchema}{properties}{id}{type}, 'integer', "$v: id is integer");
    is($t->{inputSchema}{properties}{id}{description}, 'Order id',
       "$v: argument description");
    is($t->{inputSchema}{properties}{verbose}{type}, 'boolean', "$v: verbose");
    is_deeply($t->{inputSchema}{required}, ['id'], "$v: required");
    ok(defined $t->{inputSchema}{additionalProperties}
       && !$t->{inputSchema}{additionalProperties},
       "$v: additionalProperties false");
    ok($t->{annotations}{readOnlyHint}, "$v: readOnlyHint");
    ok($t->{annotations}{idempotentHint}, "$v: idempotentHint");

    is_deeply($tools{search}{inputSchema},
              json_decode('{"type":"object","properties":{"q":{"type":"string"},"limit":{"type":"integer"}},"required":["q"],"additionalProperties":false}'),
              "$v: input_schema published unchanged");

    # calls
    $r = call_tool($sid, $v, 'echo_hello', {});
    my $res = $r->{json} && $r->{json}{result};
    is_deeply($res && $res->{content},
              [ { type => 'text', text => 'Hello from nginx' } ],
              "$v: text result");
    ok(!($res && $res->{isError}), "$v: not an error");

    $r = call_tool($sid, $v, 'echo_hello', undef);
    is_deeply($r->{json} && $r->{json}{result} && $r->{json}{result}{content},
              [ { type => 'text', text => 'Hello from nginx' } ],
              "$v: a call without arguments");

    $r = call_tool($sid, $v, 'picture', {});
    my $c = $r->{json}{result}{content}[0] || {};
    is($c->{type}, 'image', "$v: image item");
    is($c->{mimeType}, 'image/png', "$v: image mime type from the extension");
    ok(defined $c->{data} && decode_base64($c->{data}) eq $png,
       "$v: image data is the file, base64");

    $r = call_tool($sid, $v, 'sound', {});
    $c = $r->{json}{result}{content}[0] || {};
    is($c->{type}, 'audio', "$v: audio item");
    is($c->{mimeType}, 'audio/wav', "$v: audio mime type");
    ok(defined $c->{data} && decode_base64($c->{data}) eq $wav,
       "$v: audio data is the file, base64");

    $r = call_tool($sid, $v, 'embedded', {});
    is_deeply($r->{json}{result}{content},
              [ { type => 'resource',
                  resource => { uri => 'docs://embedded', mimeType => 'text/plain',
                                text => 'Embedded text' } } ],
              "$v: embedded resource");

    $r = call_tool($sid, $v, 'multi', {});
    $c = $r->{json}{result}{content} || [];
    is(scalar @$c, 3, "$v: three items");
    is_deeply([ @$c[0, 1] ], [ { type => 'text', text => 'first' },
                               { type => 'text', text => 'second' } ],
              "$v: items in order");
    is($c->[2]{type}, 'resource_link', "$v: resource_link");
    is($c->[2]{uri}, 'docs://readme', "$v: resource_link uri");
    is($c->[2]{name}, 'readme', "$v: resource_link name");
    is($c->[2]{mimeType}, 'text/markdown', "$v: resource_link mime");

    $r = call_tool($sid, $v, 'lookup', { id => 7 });
    $res = $r->{json}{result} || {};
    ok(!$res->{isError}, "$v: lookup with a valid id");
    my ($txt) = grep { $_->{type} eq 'text' } @{ $res->{content} || [] };
    is_deeply($txt && json_decode($txt->{text}), { id => 1, status => 'shipped' },
              "$v: structured JSON also as a text item");
    if ($v ne '2025-03-26') {
        is_deeply($res->{structuredContent}, { id => 1, status => 'shipped' },
                  "$v: structuredContent");
    }

    $r = call_tool($sid, $v, 'both', {});
    $res = $r->{json}{result} || {};
    is_deeply($res->{content}, [ { type => 'text', text => 'custom text' } ],
              "$v: an explicit text item is not duplicated");
    is_deeply($res->{structuredContent}, { a => [1, 2, 3] },
              "$v: structuredContent beside a text item") if $v ne '2025-03-26';

    $r = call_tool($sid, $v, 'failing', {});
    $res = $r->{json}{result} || {};
    ok($res->{isError}, "$v: isError true");
    is_deeply($res->{content}, [ { type => 'text', text => 'Something went wrong' } ],
              "$v: error text");

    $r = call_tool($sid, $v, 'nosuch', {});
    is($r->{json} && $r->{json}{error} && $r->{json}{error}{code}, -32602,
       "$v: unknown tool is -32602");

    $r = legacy_post($sid, $v, 'tools/call', { arguments => {} });
    is($r->{json} && $r->{json}{error} && $r->{json}{error}{code}, -32602,
       "$v: tools/call without a name is -32602");

    # argument validation: 2025-11-25 answers a tool error, earlier -32602
    for my $case ([ 'wrong type', 'lookup', { id => 'abc' } ],
                  [ 'missing required', 'lookup', {} ],
                  [ 'unknown property', 'lookup', { id => 1, extra => 2 } ],
                  [ 'boolean as string', 'lookup', { id => 1, verbose => 'yes' } ],
                  [ 'number for integer', 'lookup', { id => 1.5 } ],
                  [ 'schema: wrong type', 'search', { q => 5 } ],
                  [ 'schema: missing', 'search', { limit => 5 } ],
                  [ 'no-argument tool given one', 'echo_hello', { x => 1 } ])
    {
        my ($what, $tool, $args) = @$case;
        $r = call_tool($sid, $v, $tool, $args);
        if ($v eq '2025-11-25') {
            ok($r->{json} && $r->{json}{result} && $r->{json}{result}{isError},
               "$v: invalid arguments ($what) give isError:true")
                or diag($r->{body});
        } else {
            is($r->{json} && $r->{json}{error} && $r->{json}{error}{code}, -32602,
               "$v: invalid arguments ($what) give -32602")
                or diag($r->{body});
        }
    }

    $r = call_tool($sid, $v, 'search', { q => 'x', limit => 3 });
    ok($r->{json} && $r->{json}{result} && !$r->{json}{result}{isError},
       "$v: valid arguments against input_schema");

    $r = legacy_post($sid, $v, 'tools/call', { name => 'lookup', arguments => 'x' });
    ok($r->{json} && ($r->{json}{error} && $r->{json}{error}{code} == -32602
                      || $r->{json}{result} && $r->{json}{result}{isError}),
       "$v: arguments that are not an object are refused");
}

stop_nginx();
done_testing();
