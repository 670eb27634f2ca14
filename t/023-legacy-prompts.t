#!/usr/bin/perl
# Legacy wire: prompts/list, prompts/get (substitution, errors, image and
# embedded-resource messages), completion/complete.

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

        tool echo_hello { description "Says hello"; text "Hello from nginx"; }

        resource_template "docs://orders/{id}" {
            name order;
            text "Order {id}";
            complete id 100 101 200;
        }

        prompt greet {
            title "Greeting";
            description "Greets someone";
            argument who required "Who to greet";
            argument mood "How to greet";
            message user "Please greet {who}.";
            message assistant "Hello, {who}!";
            complete who Alice Bob Albert;
            complete mood happy sad;
        }
        prompt show_image {
            description "Shows an image";
            message_image user html/pixel.png;
            message assistant "Nice pixel.";
        }
        prompt with_resource {
            description "Embeds a resource";
            argument topic required;
            message_resource user "docs://topics/{topic}" text/plain "All about {topic}";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass full; }
    }
}
EOF

sub err_code {
    my ($r) = @_;
    return $r->{json} && ref $r->{json}{error} eq 'HASH'
         ? $r->{json}{error}{code} : undef;
}

sub result { my ($r) = @_; return $r->{json} && $r->{json}{result} || {} }

for my $v (LEGACY_VERSIONS) {
    my $sid = mcp_init($v);
    ok($sid, "$v: session") or next;

    my $r = legacy_post($sid, $v, 'prompts/list', {});
    my @p = @{ result($r)->{prompts} || [] };
    is_deeply([ map { $_->{name} } @p ], [qw(greet show_image with_resource)],
              "$v: prompts in declared order");
    is($p[0]{description}, 'Greets someone', "$v: description");
    is($p[0]{title}, 'Greeting', "$v: title") if $v ne '2025-03-26';
    my @args = @{ $p[0]{arguments} || [] };
    is(scalar @args, 2, "$v: two arguments");
    is($args[0]{name}, 'who', "$v: argument name");
    ok($args[0]{required}, "$v: argument required");
    is($args[0]{description}, 'Who to greet', "$v: argument description");
    is($args[1]{name}, 'mood', "$v: second argument");
    ok(!$args[1]{required}, "$v: ... not required");

    $r = legacy_post($sid, $v, 'prompts/get',
                     { name => 'greet', arguments => { who => 'Ann' } });
    my $res = result($r);
    is($res->{description}, 'Greets someone', "$v: prompts/get description");
    is_deeply($res->{messages},
              [ { role => 'user', content => { type => 'text', text => 'Please greet Ann.' } },
                { role => 'assistant', content => { type => 'text', text => 'Hello, Ann!' } } ],
              "$v: messages with {who} substituted");

    $r = legacy_post($sid, $v, 'prompts/get',
                     { name => 'greet', arguments => { who => "{mood} \"x\" \x{e9}" } });
    is(result($r)->{messages}[0]{content}{text}, "Please greet {mood} \"x\" \x{e9}.",
       "$v: values are inserted literally, once, JSON-escaped");

    $r = legacy_post($sid, $v, 'prompts/get', { name => 'greet', arguments => {} });
    is(err_code($r), -32602, "$v: missing required argument is -32602");

    $r = legacy_post($sid, $v, 'prompts/get', { name => 'greet' });
    is(err_code($r), -32602, "$v: no arguments at all is -32602");

    $r = legacy_post($sid, $v, 'prompts/get', { name => 'nosuch', arguments => {} });
    is(err_code($r), -32602, "$v: unknown prompt is -32602");

    $r = legacy_post($sid, $v, 'prompts/get', { name => 'show_image' });
    my $m = result($r)->{messages} || [];
    is($m->[0]{role}, 'user', "$v: image message role");
    is($m->[0]{content}{type}, 'image', "$v: image message");
    is($m->[0]{content}{mimeType}, 'image/png', "$v: image mime");
    ok(defined $m->[0]{content}{data} && decode_base64($m->[0]{content}{data}) eq $png,
       "$v: image data");
    is_deeply($m->[1], { role => 'assistant', content => { type => 'text', text => 'Nice pixel.' } },
              "$v: text message after the image");

    $r = legacy_post($sid, $v, 'prompts/get',
                     { name => 'with_resource', arguments => { topic => 'nginx' } });
    is_deeply(result($r)->{messages},
              [ { role => 'user',
                  content => { type => 'resource',
                               resource => { uri => 'docs://topics/nginx',
                                             mimeType => 'text/plain',
                                             text => 'All about nginx' } } } ],
              "$v: embedded resource message with substitution");

    # completion
    my $complete = sub {
        my ($ref, $name, $value) = @_;
        return legacy_post($sid, $v, 'completion/complete',
                           { ref => $ref, argument => { name => $name, value => $value } });
    };
    my $greet = { type => 'ref/prompt', name => 'greet' };

    $r = $complete->($greet, 'who', 'Al');
    is_deeply([ sort @{ result($r)->{completion}{values} || [] } ], [qw(Albert Alice)],
              "$v: completion by prefix");
    $r = $complete->($greet, 'who', '');
    is_deeply([ sort @{ result($r)->{completion}{values} || [] } ], [qw(Albert Alice Bob)],
              "$v: empty prefix gives every value");
    $r = $complete->($greet, 'who', 'Z');
    is_deeply(result($r)->{completion}{values}, [], "$v: no match gives []");
    $r = $complete->($greet, 'mood', 'h');
    is_deeply(result($r)->{completion}{values}, ['happy'], "$v: second argument");
    $r = $complete->({ type => 'ref/resource', uri => 'docs://orders/{id}' }, 'id', '10');
    is_deeply([ sort @{ result($r)->{completion}{values} || [] } ], [qw(100 101)],
              "$v: completion of a template variable");
    $r = $complete->({ type => 'ref/prompt', name => 'nosuch' }, 'who', 'A');
    is(err_code($r), -32602, "$v: completion for an unknown prompt is -32602");
}

stop_nginx();
done_testing();
