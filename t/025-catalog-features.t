#!/usr/bin/perl
# Catalog entries beyond the basics (docs/directives.md): include, the *_file
# variants, output_schema, annotations with =on/=off, explicit MIME types,
# serverInfo fields, relative paths against the prefix.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MIME::Base64 qw(decode_base64);

my $png = png_1x1();
my $schema = '{"type":"object","properties":{"n":{"type":"integer","minimum":1}},'
           . '"required":["n"],"additionalProperties":false}';
my $out_schema = '{"type":"object","properties":{"sum":{"type":"integer"}},"required":["sum"]}';

my %files = (
    'html/pixel.png'    => $png,
    'html/pixel.bin'    => $png,
    'html/notes.txt'    => "line one\nline two\n",
    'html/data.json'    => '{"k":"v"}',
    'schemas/in.json'   => $schema,
    'schemas/out.json'  => $out_schema,
    'catalog/extra.conf' => <<'EOC',
tool included_tool {
    description "Declared in an included file";
    text "from include";
}
prompt included_prompt {
    description "Also included";
    message user "included";
}
EOC
);

start_nginx(<<'EOF', files => \%files);
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server full {
        name "full-test"; version 2.3.4; title "Full Test";
        description "A catalog for the tests";

        tool from_file { description "Text from a file"; text_file html/notes.txt; }
        tool schema_file {
            description "Schema from a file";
            input_schema_file schemas/in.json;
            output_schema_file schemas/out.json;
            structured '{"sum":3}';
        }
        tool inline_out {
            description "Inline output schema";
            output_schema '{"type":"object","properties":{"ok":{"type":"boolean"}}}';
            structured '{"ok":true}';
        }
        tool hints {
            description "Annotations with values";
            annotations read_only=off destructive=on idempotent=off open_world;
            text "x";
        }
        tool typed_image { description "Image with MIME"; image html/pixel.bin image/png; }
        tool file_resources {
            description "Embedded resources from files";
            resource_file docs://notes html/notes.txt;
            resource_file docs://pixel html/pixel.png;
            resource_file docs://data html/data.json application/json;
        }
        tool "quoted-text" { description 'Single "quoted"'; text "Tab\tand \"quotes\""; }

        include catalog/extra.conf;

        resource docs://data { name data; file html/data.json; }
        resource docs://bin { name bin; mime_type image/png; file html/pixel.bin; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; }
    }
}
EOF

my $v = '2025-11-25';
my ($sid, $init) = mcp_init($v);
ok($sid, 'session');
my $si = $init->{json} && $init->{json}{result}{serverInfo} || {};
is($si->{title}, 'Full Test', 'serverInfo.title');
is($si->{description}, 'A catalog for the tests', 'serverInfo.description (2025-11-25)');

sub res { my ($r) = @_; return $r->{json} && ref $r->{json}{result} eq 'HASH' ? $r->{json}{result} : {} }
sub call { return res(legacy_post($sid, $v, 'tools/call', { name => $_[0], arguments => $_[1] || {} })) }

my %tools = map { $_->{name} => $_ } @{ res(legacy_post($sid, $v, 'tools/list', {}))->{tools} || [] };
ok($tools{included_tool}, 'a tool from an included file');
is_deeply([ sort keys %tools ],
          [ sort qw(from_file schema_file inline_out hints typed_image file_resources
                    quoted-text included_tool) ], 'all tools listed');

is_deeply($tools{schema_file}{inputSchema}, json_decode($schema), 'input_schema_file published unchanged');
is_deeply($tools{schema_file}{outputSchema}, json_decode($out_schema), 'output_schema_file as outputSchema');
is($tools{inline_out}{outputSchema}{type}, 'object', 'inline output_schema');
my $ann = $tools{hints}{annotations} || {};
ok(defined $ann->{readOnlyHint} && !$ann->{readOnlyHint}, 'read_only=off: readOnlyHint false');
ok($ann->{destructiveHint}, 'destructive=on');
ok(defined $ann->{idempotentHint} && !$ann->{idempotentHint}, 'idempotent=off');
ok($ann->{openWorldHint}, 'open_world');

is_deeply(call('from_file')->{content}, [ { type => 'text', text => "line one\nline two\n" } ],
          'text_file');
is_deeply(call('schema_file', { n => 2 })->{structuredContent}, { sum => 3 },
          'structured result of a tool with output schema');
ok(call('schema_file', { n => 0 })->{isError}, 'minimum from the schema file is enforced');
my $img = call('typed_image')->{content}[0] || {};
is($img->{mimeType}, 'image/png', 'explicit image MIME');
ok(decode_base64($img->{data} // '') eq $png, 'image data');

my @items = @{ call('file_resources')->{content} || [] };
is($items[0]{resource}{text}, "line one\nline two\n", 'resource_file text');
is($items[0]{resource}{mimeType}, 'text/plain', 'resource_file text MIME from the extension');
ok(!exists $items[1]{resource}{text}, 'resource_file binary has no text');
ok(decode_base64($items[1]{resource}{blob} // '') eq $png, 'resource_file binary blob');
is($items[2]{resource}{text}, '{"k":"v"}', 'resource_file JSON is text');
is($items[2]{resource}{mimeType}, 'application/json', 'resource_file explicit MIME');

is(call('quoted-text')->{content}[0]{text}, "Tab\tand \"quotes\"", 'escapes in quoted values');
is($tools{'quoted-text'}{description}, 'Single "quoted"', 'single-quoted value');
is(call('included_tool')->{content}[0]{text}, 'from include', 'included tool runs');

my %prompts = map { $_->{name} => 1 } @{ res(legacy_post($sid, $v, 'prompts/list', {}))->{prompts} || [] };
ok($prompts{included_prompt}, 'a prompt from an included file');

my $r = legacy_post($sid, $v, 'resources/read', { uri => 'docs://data' });
is_deeply(res($r)->{contents}, [ { uri => 'docs://data', mimeType => 'application/json',
                                   text => '{"k":"v"}' } ], 'JSON file resource is text');
$r = legacy_post($sid, $v, 'resources/read', { uri => 'docs://bin' });
my $c = res($r)->{contents}[0] || {};
is($c->{mimeType}, 'image/png', 'mime_type overrides the extension');
ok(decode_base64($c->{blob} // '') eq $png, 'binary resource as blob');

stop_nginx();
done_testing();
