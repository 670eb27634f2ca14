#!/usr/bin/perl
# Mistakes in the configuration are found by `nginx -t`, which fails with a
# message naming the file and the line (docs/directives.md).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;

# the configuration around one mcp_server body; the line marked "#<-" is the
# line the error must name
sub conf {
    my ($body, $extra_http, $extra_loc) = @_;
    $extra_http //= '';
    $extra_loc //= 'mcp_pass demo;';
    return <<"EOF";
load_module %%MODULE%%;
events { }
http {
    access_log off;
$extra_http
    mcp_server demo {
$body
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp {
            $extra_loc
        }
    }
}
EOF
}

sub fails {
    my ($name, $conf, $re, %o) = @_;
    my %opt = (name => $name);
    $opt{files} = $o{files} if $o{files};
    nginx_t_fails($conf, $re, %opt);
}

my $ok_tool = <<'EOT';
        tool hello { description "Says hello"; text "hi"; }
EOT

# sanity: the frame itself is valid
nginx_t_ok(conf($ok_tool), name => 'the base configuration is valid');

# mcp_pass to a server nobody declared
fails('unknown mcp_server in mcp_pass',
      conf($ok_tool, '', "mcp_pass nosuch; #<-"),
      qr/unknown mcp_server.*nosuch|nosuch.*unknown/i);

# the same, with no mcp_server at all
fails('mcp_pass without any mcp_server', <<'EOT', qr/unknown mcp_server.*nosuch/i);
load_module %%MODULE%%;
events { }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass nosuch; } #<-
    }
}
EOT

fails('duplicate tool names', conf(<<'EOT'), qr/duplicate/i);
        tool hello { description "Says hello"; text "hi"; }
        tool hello { description "Again"; text "hi"; } #<-
EOT

fails('duplicate prompt names', conf(<<'EOT'), qr/duplicate/i);
        prompt p { description "d"; message user "x"; }
        prompt p { description "d"; message user "y"; } #<-
EOT

fails('duplicate resource URIs', conf(<<'EOT'), qr/duplicate/i);
        resource docs://a { text "a"; }
        resource docs://a { text "b"; } #<-
EOT

fails('bad JSON in input_schema', conf(<<'EOT'), qr/json|parse|invalid/i);
        tool t {
            description "d";
            input_schema '{"type":"object","properties":{'; #<-
            text "x";
        }
EOT

fails('bad JSON Schema: "required" is not an array', conf(<<'EOT'), qr/required|schema/i);
        tool t {
            description "d";
            input_schema '{"type":"object","required":"x"}'; #<-
            text "x";
        }
EOT

fails('input_schema root is not an object schema', conf(<<'EOT'), qr/object|type|schema/i);
        tool t {
            description "d";
            input_schema '{"type":"string"}'; #<-
            text "x";
        }
EOT

fails('bad JSON in output_schema', conf(<<'EOT'), qr/json|parse|invalid/i);
        tool t {
            description "d";
            output_schema '{"type":'; #<-
            text "x";
        }
EOT

fails('bad JSON in structured', conf(<<'EOT'), qr/json|parse|invalid/i);
        tool t {
            description "d";
            structured '{"id":'; #<-
        }
EOT

fails('missing input_schema_file', conf(<<'EOT'), qr/no-such-schema\.json/);
        tool t {
            description "d";
            input_schema_file no-such-schema.json; #<-
            text "x";
        }
EOT

fails('missing text_file', conf(<<'EOT'), qr/no-such-file\.txt/);
        tool t {
            description "d";
            text_file no-such-file.txt; #<-
        }
EOT

fails('missing image file', conf(<<'EOT'), qr/no-such-image\.png/);
        tool t {
            description "d";
            image no-such-image.png; #<-
        }
EOT

fails('missing resource file', conf(<<'EOT'), qr/no-such-doc\.md/);
        resource docs://x {
            file no-such-doc.md; #<-
        }
EOT

fails('bad JSON in input_schema_file', conf(<<'EOT'), qr/json|parse|invalid|bad\.json/i, files => { 'bad.json' => '{"type":"object",' });
        tool t {
            description "d";
            input_schema_file bad.json; #<-
            text "x";
        }
EOT

fails('unknown argument type', conf(<<'EOT'), qr/integr/);
        tool t {
            description "d";
            argument id integr required "Order id"; #<-
            text "x";
        }
EOT

fails('duplicate argument names', conf(<<'EOT'), qr/duplicate|"id"/i);
        tool t {
            description "d";
            argument id integer;
            argument id string; #<-
            text "x";
        }
EOT

# where a missing entry is reported (the block's first or last line) is the
# implementation's choice: only the message and some file:line are required
fails('tool without description', conf(<<'EOT'), qr/description/i);
        tool nodesc {
            text "x";
        }
EOT

fails('prompt without description', conf(<<'EOT'), qr/description/i);
        prompt nodesc {
            message user "x";
        }
EOT

fails('bad characters in a tool name', conf(<<'EOT'), qr/name|invalid|character/i);
        tool "bad name!" { description "d"; text "x"; } #<-
EOT

fails('tool name longer than 128 characters', conf(
          '        tool ' . ('a' x 129)
          . " { description \"d\"; text \"x\"; } #<-\n"),
      qr/name|long|invalid/i);

nginx_t_ok(conf('        tool ' . ('a' x 128)
                . " { description \"d\"; text \"x\"; }\n"),
           name => 'a tool name of 128 characters is accepted');

fails('bad characters in a prompt name', conf(<<'EOT'), qr/name|invalid|character/i);
        prompt "who/what" { description "d"; message user "x"; } #<-
EOT

fails('unknown entry in a tool block', conf(<<'EOT'), qr/frobnicate/);
        tool t {
            description "d";
            frobnicate yes; #<-
            text "x";
        }
EOT

fails('unknown annotation', conf(<<'EOT'), qr/sometimes|annotation/i);
        tool t {
            description "d";
            annotations read_only sometimes; #<-
            text "x";
        }
EOT

fails('unknown required capability', conf(<<'EOT'), qr/telepathy|capabilit/i);
        tool t {
            description "d";
            requires_capability telepathy; #<-
            text "x";
        }
EOT

fails('message with a bad role', conf(<<'EOT'), qr/system|role/i);
        prompt p {
            description "d";
            message system "x"; #<-
        }
EOT

# one location is either an MCP endpoint or a health probe
fails('mcp_health and mcp_pass in one location',
      conf($ok_tool, '', "mcp_pass demo; mcp_health live; #<-"),
      qr/"mcp_health" directive cannot be used together with "mcp_pass"/);

fails('mcp_pass after mcp_health in one location',
      conf($ok_tool, '', "mcp_health ready; mcp_pass demo; #<-"),
      qr/"mcp_pass" directive cannot be used together with "mcp_health"/);

fails('mcp_session_zone without size',
      conf($ok_tool, "    mcp_session_zone sessions; #<-"),
      qr/mcp_session_zone/);

fails('mcp_session_zone with a bad size',
      conf($ok_tool, "    mcp_session_zone sessions:lots; #<-"),
      qr/mcp_session_zone/);

fails('mcp_session_zone too small (7 pages)',
      conf($ok_tool, "    mcp_session_zone sessions:28k; #<-"),
      qr/too small/);

nginx_t_ok(conf($ok_tool, "    mcp_session_zone sessions:32k;"),
           name => 'mcp_session_zone of 8 pages (32k) is accepted');

fails('mcp_page_size 0', conf($ok_tool, "    mcp_page_size 0; #<-"),
      qr/mcp_page_size|must be|invalid/i);

fails('mcp_pass outside a location',
      conf($ok_tool, "    mcp_pass demo; #<-"),
      qr/not allowed here/);

# the words of mcp_server {} mean nothing elsewhere: nginx's own message
for my $case ([ 'name at http level', '    name "x"; #<-', undef ],
              [ 'version at http level', '    version 1.0.0; #<-', undef ],
              [ 'instructions in a location', '', 'instructions "x"; #<-' ],
              [ 'cache_ttl in a location', '', 'cache_ttl 5m; #<-' ],
              [ 'a tool block at http level', '    tool t { description "d"; text "x"; } #<-', undef ],
              [ 'a prompt block in a location', '', 'prompt p { description "d"; message user "x"; } #<-' ])
{
    my ($what, $http, $loc) = @$case;
    my ($word) = ($http . ($loc // '')) =~ /^\s*(\w+)/;
    fails("$what: unknown directive",
          conf($ok_tool, $http, defined $loc ? "mcp_pass demo; $loc" : undef),
          qr/unknown directive "\Q$word\E"/);
}

fails('mcp_health with a bad argument',
      conf($ok_tool, '', 'mcp_health sometimes; #<-'),
      qr/sometimes|mcp_health/);

done_testing();
