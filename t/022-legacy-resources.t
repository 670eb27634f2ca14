#!/usr/bin/perl
# Legacy wire: resources/list, resources/templates/list, resources/read
# (text, blob, template substitution, not found -32002), subscribe and
# unsubscribe.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MIME::Base64 qw(decode_base64);

my $png = png_1x1();
my $readme = "# Read me\n\nSome *markdown*, and UTF-8: caf\xc3\xa9.\n";

start_nginx(<<'EOF', files => { 'html/pixel.png' => $png, 'html/README.md' => $readme });
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server full {
        name "full-test"; version 2.3.4;

        tool echo_hello { description "Says hello"; text "Hello from nginx"; }

        resource docs://readme {
            name readme; title "Read me"; description "The readme";
            mime_type text/markdown;
            file html/README.md;
        }
        resource docs://inline { name inline; text "Inline text"; }
        resource docs://pixel { name pixel; file html/pixel.png; }

        resource_template "docs://orders/{id}" {
            name order; title "An order"; description "One order by id";
            mime_type text/plain;
            text "Order {id} details";
            complete id 100 101 200;
        }
        resource_template "docs://users/{user}/notes/{note}" {
            name note;
            text "Note {note} of {user}";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; mcp_page_size 2; }
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

    # resources/list, 3 resources, 2 per page
    my $r = legacy_post($sid, $v, 'resources/list', {});
    my $res = $r->{json} && $r->{json}{result} || {};
    my @list = @{ $res->{resources} || [] };
    is(scalar @list, 2, "$v: first page of resources");
    ok(defined $res->{nextCursor}, "$v: nextCursor");
    $r = legacy_post($sid, $v, 'resources/list', { cursor => $res->{nextCursor} });
    my $res2 = $r->{json} && $r->{json}{result} || {};
    push @list, @{ $res2->{resources} || [] };
    ok(!defined $res2->{nextCursor}, "$v: last page has no nextCursor");
    is_deeply([ map { $_->{uri} } @list ],
              [ 'docs://readme', 'docs://inline', 'docs://pixel' ],
              "$v: resources in declared order");
    my %by = map { $_->{uri} => $_ } @list;
    is($by{'docs://readme'}{name}, 'readme', "$v: name");
    is($by{'docs://readme'}{description}, 'The readme', "$v: description");
    is($by{'docs://readme'}{mimeType}, 'text/markdown', "$v: mime_type");
    is($by{'docs://readme'}{title}, 'Read me', "$v: title") if $v ne '2025-03-26';
    is($by{'docs://inline'}{mimeType}, 'text/plain', "$v: text defaults to text/plain");
    is($by{'docs://pixel'}{mimeType}, 'image/png', "$v: file mime from the extension");
    is($by{'docs://pixel'}{name}, 'pixel', "$v: pixel name");

    $r = legacy_post($sid, $v, 'resources/list', { cursor => 'not-a-cursor' });
    is(err_code($r), -32602, "$v: invalid cursor is -32602");

    # templates
    $r = legacy_post($sid, $v, 'resources/templates/list', {});
    $res = $r->{json} && $r->{json}{result} || {};
    my @tpl = @{ $res->{resourceTemplates} || [] };
    is_deeply([ map { $_->{uriTemplate} } @tpl ],
              [ 'docs://orders/{id}', 'docs://users/{user}/notes/{note}' ],
              "$v: resource templates");
    is($tpl[0]{name}, 'order', "$v: template name");
    is($tpl[0]{mimeType}, 'text/plain', "$v: template mime");
    is($tpl[0]{description}, 'One order by id', "$v: template description");

    # reads
    $r = legacy_post($sid, $v, 'resources/read', { uri => 'docs://readme' });
    is_deeply($r->{json} && $r->{json}{result} && $r->{json}{result}{contents},
              [ { uri => 'docs://readme', mimeType => 'text/markdown',
                  text => Encode_utf8_decode($readme) } ],
              "$v: file resource as text");

    $r = legacy_post($sid, $v, 'resources/read', { uri => 'docs://inline' });
    is_deeply($r->{json} && $r->{json}{result} && $r->{json}{result}{contents},
              [ { uri => 'docs://inline', mimeType => 'text/plain',
                  text => 'Inline text' } ],
              "$v: inline text resource");

    $r = legacy_post($sid, $v, 'resources/read', { uri => 'docs://pixel' });
    my $c = ($r->{json} && $r->{json}{result} && $r->{json}{result}{contents} || [])->[0] || {};
    is($c->{uri}, 'docs://pixel', "$v: blob uri");
    is($c->{mimeType}, 'image/png', "$v: blob mime");
    ok(!exists $c->{text}, "$v: a binary file has no text");
    ok(defined $c->{blob} && decode_base64($c->{blob}) eq $png, "$v: blob is base64 of the file");

    $r = legacy_post($sid, $v, 'resources/read', { uri => 'docs://orders/123' });
    is_deeply($r->{json} && $r->{json}{result} && $r->{json}{result}{contents},
              [ { uri => 'docs://orders/123', mimeType => 'text/plain',
                  text => 'Order 123 details' } ],
              "$v: template match with substitution");

    $r = legacy_post($sid, $v, 'resources/read', { uri => 'docs://users/ann/notes/7' });
    $c = ($r->{json} && $r->{json}{result} && $r->{json}{result}{contents} || [])->[0] || {};
    is($c->{text}, 'Note 7 of ann', "$v: two template variables");
    is($c->{uri}, 'docs://users/ann/notes/7', "$v: ... uri as asked");

    for my $missing ('docs://nope',
                     'docs://readme2', 'other://readme')
    {
        $r = legacy_post($sid, $v, 'resources/read', { uri => $missing });
        is(err_code($r), -32002, "$v: unknown $missing is -32002");
        is($r->{json} && $r->{json}{error} && ref $r->{json}{error}{data} eq 'HASH'
           && $r->{json}{error}{data}{uri}, $missing, "$v: ... with data.uri");
    }

    $r = legacy_post($sid, $v, 'resources/read', {});
    is(err_code($r), -32602, "$v: resources/read without uri is -32602");

    # subscriptions
    $r = legacy_post($sid, $v, 'resources/subscribe', { uri => 'docs://readme' },
                     id => 's1');
    is_deeply($r->{json}, { jsonrpc => '2.0', id => 's1', result => {} },
              "$v: resources/subscribe is {}");
    $r = legacy_post($sid, $v, 'resources/unsubscribe', { uri => 'docs://readme' },
                     id => 's2');
    is_deeply($r->{json}, { jsonrpc => '2.0', id => 's2', result => {} },
              "$v: resources/unsubscribe is {}");
}

sub Encode_utf8_decode {
    my ($bytes) = @_;
    require Encode;
    return Encode::decode('UTF-8', $bytes);
}

stop_nginx();
done_testing();
