#!/usr/bin/perl
# What a hostile review found on the backend side of `pass` locations:
# client X-MCP-* headers reaching the location ahead of the module's own,
# cut-off answers taken as complete, CallToolResults passed through
# unchecked, and NDJSON lines read in quadratic time.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use Time::HiRes qw(sleep);
use POSIX ();

my $png = png_1x1();

# ---------------------------------------------------------------------------
# the backend

my $items = 2048;               # one NDJSON line of 8 MB

sub cut {
    my ($s, $head, $body) = @_;
    syswrite $s, $head . $body;
    sleep 0.1;
    close $s;
}

sub chunked_head {
    my ($type) = @_;
    return "HTTP/1.1 200 OK\r\nContent-Type: $type\r\nTransfer-Encoding: chunked\r\n"
         . "Connection: close\r\n\r\n";
}

sub chunk { return sprintf("%x\r\n%s\r\n", length $_[0], $_[0]) }

sub serve_one {
    my ($s) = @_;
    my $q = backend_request($s) or return;
    my $path = $q->{path};

    my %shape = (
        '/shape/iserror'     => '{"content":[{"type":"text","text":"x"}],"isError":"yes"}',
        '/shape/item7'       => '{"content":[{"type":"text","text":"x"},7]}',
        '/shape/itemnull'    => '{"content":[null]}',
        '/shape/notype'      => '{"content":[{"text":"x"}]}',
        '/shape/notext'      => '{"content":[{"type":"text"}]}',
        '/shape/textnum'     => '{"content":[{"type":"text","text":5}]}',
        '/shape/unknown'     => '{"content":[{"type":"hologram","data":"x"}]}',
        '/shape/image'       => '{"content":[{"type":"image","data":"AAAA"}]}',
        '/shape/link'        => '{"content":[{"type":"resource_link","uri":"x://y"}]}',
        '/shape/resource'    => '{"content":[{"type":"resource","resource":{"uri":"x://y"}}]}',
        '/shape/annotations' => '{"content":[{"type":"text","text":"x","annotations":[1]}]}',
        '/shape/meta'        => '{"content":[],"_meta":5}',
        '/shape/structured'  => '{"content":[{"type":"text","text":"[1]"}],"structuredContent":[1]}',
        '/shape/inputs5'     => '{"resultType":"input_required","inputRequests":5}',
        '/shape/inputsnone'  => '{"resultType":"input_required"}',
        '/shape/inputsbad'   => '{"resultType":"input_required","inputRequests":{"a":{"method":"tools/call"}}}',
        '/shape/statenum'    => '{"resultType":"input_required","requestState":7}',
        '/shape/good'        => '{"content":[{"type":"text","text":"t"},'
                                . '{"type":"image","data":"AAAA","mimeType":"image/png"},'
                                . '{"type":"audio","data":"AAAA","mimeType":"audio/wav"},'
                                . '{"type":"resource_link","uri":"x://y","name":"y"},'
                                . '{"type":"resource","resource":{"uri":"x://z","blob":"AAAA"}},'
                                . '{"type":"resource","resource":{"uri":"x://z","text":"z"},'
                                . '"annotations":{"priority":1},"_meta":{}}],'
                                . '"isError":false,"structuredContent":{"a":1},"_meta":{"k":1}}',
    );

    if ($path eq '/echo') {
        backend_reply($s, 200, 'application/json',
                      json_encode({ header_list => $q->{header_list} }));
    } elsif (exists $shape{$path}) {
        backend_reply($s, 200, 'application/json', $shape{$path});
    } elsif ($path eq '/cut/length') {
        cut($s, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n"
                . "Connection: close\r\n\r\n", 'fifteen bytes..');
    } elsif ($path eq '/cut/image') {
        cut($s, "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: "
                . (length($png) + 500) . "\r\nConnection: close\r\n\r\n", $png);
    } elsif ($path eq '/cut/chunked') {
        cut($s, chunked_head('text/plain'), chunk('the first chunk, and no more'));
    } elsif ($path eq '/cut/ndjson') {
        cut($s, chunked_head('application/x-ndjson'),
            chunk(qq({"progress":1,"total":2}\n))
            . chunk(qq({"content":[{"type":"text","text":"done?"}]}\n)));
    } elsif ($path eq '/whole/chunked') {
        syswrite $s, chunked_head('text/plain') . chunk('one, ') . chunk('two') . "0\r\n\r\n";
    } elsif ($path eq '/long/ndjson' || $path eq '/long/json') {
        my $nd = $path eq '/long/ndjson';
        syswrite $s, chunked_head($nd ? 'application/x-ndjson' : 'application/json');
        # 2048 items of 4 KB: one line of 8 MB within the parser's limits
        my $item = '{"type":"text","text":"' . ('x' x 4063) . '"}';
        syswrite $s, chunk('{"content":[' . $item);
        for (2 .. $items) { syswrite $s, chunk(",$item") }
        syswrite $s, chunk(']}' . ($nd ? "\n" : '')) . "0\r\n\r\n";
    } else {
        backend_reply($s, 404, 'text/plain', "unknown path $path");
    }
}

my $bport = backend(\&serve_one);

# ---------------------------------------------------------------------------

my $conf = <<'EOF';
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 256; }
http {
    access_log off;

    mcp_server hard {
        name "hardening"; version 1.0.0;

        tool echo { description "The headers the backend got"; pass /b/echo; }
        tool local { description "nginx variables"; pass /local; }

        tool cut_length { description "cut"; pass /b/cut/length; }
        tool cut_image { description "cut"; pass /b/cut/image; }
        tool cut_chunked { description "cut"; pass /b/cut/chunked; }
        tool cut_ndjson { description "cut"; pass /b/cut/ndjson; }
        tool nb_cut_length { description "cut, unbuffered"; pass /nb/cut/length; }
        tool nb_cut_chunked { description "cut, unbuffered"; pass /nb/cut/chunked; }
        tool whole_chunked { description "whole"; pass /b/whole/chunked; }
        tool nb_whole_chunked { description "whole, unbuffered"; pass /nb/whole/chunked; }
        resource cut://text { name cut_text; pass /b/cut/length; }
        resource cut://chunked { name cut_chunked; pass /nb/cut/chunked; }
        prompt cut_prompt { description "cut"; pass /b/cut/chunked; }

        tool shape_iserror { description "s"; pass /b/shape/iserror; }
        tool shape_item7 { description "s"; pass /b/shape/item7; }
        tool shape_itemnull { description "s"; pass /b/shape/itemnull; }
        tool shape_notype { description "s"; pass /b/shape/notype; }
        tool shape_notext { description "s"; pass /b/shape/notext; }
        tool shape_textnum { description "s"; pass /b/shape/textnum; }
        tool shape_unknown { description "s"; pass /b/shape/unknown; }
        tool shape_image { description "s"; pass /b/shape/image; }
        tool shape_link { description "s"; pass /b/shape/link; }
        tool shape_resource { description "s"; pass /b/shape/resource; }
        tool shape_annotations { description "s"; pass /b/shape/annotations; }
        tool shape_meta { description "s"; pass /b/shape/meta; }
        tool shape_structured { description "s"; pass /b/shape/structured; }
        tool shape_inputs5 { description "s"; pass /b/shape/inputs5; }
        tool shape_inputsnone { description "s"; pass /b/shape/inputsnone; }
        tool shape_inputsbad { description "s"; pass /b/shape/inputsbad; }
        tool shape_statenum { description "s"; pass /b/shape/statenum; }
        tool shape_good { description "s"; pass /b/shape/good; }

        tool long_ndjson { description "8 MB line"; pass /nb/long/ndjson max_size=16m timeout=120s; }
        tool long_json { description "8 MB JSON"; pass /nb/long/json max_size=16m timeout=120s; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        # the client's header, evaluated before the call: cached in the
        # variables a subrequest shares with its parent
        set $client_tool $http_x_mcp_tool;
        set $client_id $http_x_mcp_request_id;

        location = /mcp { mcp_pass hard; }

        location /b/ {
            internal;
            proxy_pass http://127.0.0.1:BACKEND_PORT/;
        }
        location /nb/ {
            internal;
            proxy_buffering off;
            proxy_pass http://127.0.0.1:BACKEND_PORT/;
        }
        location = /local {
            internal;
            default_type application/json;
            return 200 '{"tool":"$http_x_mcp_tool","id":"$http_x_mcp_request_id","session":"$http_x_mcp_session_id","tenant":"$http_x_mcp_tenant"}';
        }
    }
}
EOF
$conf =~ s/BACKEND_PORT/$bport/g;

start_nginx($conf);

my $sv = '2025-11-25';
my $sid = mcp_init($sv);
ok($sid, 'a session');

sub call_legacy {
    my ($name, %o) = @_;
    return legacy_post($sid, $sv, 'tools/call', { name => $name, arguments => {} }, %o);
}

sub call_modern {
    my ($name, %o) = @_;
    return modern_post('tools/call', { name => $name, arguments => {} }, %o);
}

sub result { my ($r) = @_; return $r->{json} && $r->{json}{result} || {} }
sub text0 { my ($r) = @_; return result($r)->{content} && result($r)->{content}[0]{text} // '' }

# --- 1. X-MCP-* headers are the module's alone -----------------------------

my @spoof = ('X-MCP-Tool' => 'evil', 'X-MCP-Request-Id' => '"spoofed"',
             'X-MCP-Session-Id' => 'someone-elses-session', 'X-MCP-Tenant' => 'acme',
             'x-mcp-tool' => 'evil2', 'X-Other' => 'kept');

{
    my $r = call_legacy('echo', id => 77, headers => \@spoof);
    my $sc = result($r)->{structuredContent} || {};
    my @h = @{ $sc->{header_list} || [] };
    my %n;
    push @{ $n{ lc $_->[0] } }, $_->[1] for @h;
    is_deeply($n{'x-mcp-tool'}, ['echo'], 'session: one X-MCP-Tool, the module\'s')
        or diag(json_encode(\@h));
    is_deeply($n{'x-mcp-request-id'}, ['77'], 'session: one X-MCP-Request-Id, the call\'s id');
    is_deeply($n{'x-mcp-session-id'}, [$sid], 'session: one X-MCP-Session-Id, the session\'s');
    ok(!exists $n{'x-mcp-tenant'}, 'session: a client X-MCP-Tenant does not arrive');
    is_deeply($n{'x-other'}, ['kept'], 'session: other client headers still arrive');

    $r = call_modern('echo', id => 78, headers => \@spoof);
    $sc = result($r)->{structuredContent} || {};
    %n = ();
    push @{ $n{ lc $_->[0] } }, $_->[1] for @{ $sc->{header_list} || [] };
    is_deeply($n{'x-mcp-tool'}, ['echo'], '2026: one X-MCP-Tool, the module\'s');
    is_deeply($n{'x-mcp-request-id'}, ['78'], '2026: one X-MCP-Request-Id, the call\'s id');
    ok(!exists $n{'x-mcp-session-id'},
       '2026: no X-MCP-Session-Id: a stateless client cannot claim a session')
        or diag(json_encode($n{'x-mcp-session-id'}));
    ok(!exists $n{'x-mcp-tenant'}, '2026: a client X-MCP-Tenant does not arrive');

    # nginx variables in the location, although the parent evaluated them
    $r = call_legacy('local', id => 79, headers => \@spoof);
    $sc = result($r)->{structuredContent} || {};
    is($sc->{tool}, 'local', '$http_x_mcp_tool in the location is the module\'s')
        or diag($r->{body});
    is($sc->{id}, '79', '$http_x_mcp_request_id in the location is the call\'s id');
    is($sc->{session}, $sid, '$http_x_mcp_session_id in the location is the session');
    is($sc->{tenant}, '', '$http_x_mcp_tenant in the location is empty');

    $r = call_modern('local', id => 80, headers => \@spoof);
    $sc = result($r)->{structuredContent} || {};
    is($sc->{session}, '', '2026: $http_x_mcp_session_id in the location is empty');
}

# --- 2. cut-off answers are failures ----------------------------------------

for my $case ([ 'cut_length', 'Content-Length 100000, 15 bytes sent' ],
              [ 'cut_image', 'an image cut short' ],
              [ 'cut_chunked', 'chunked, cut before the last chunk' ],
              [ 'cut_ndjson', 'NDJSON with a result line, cut before the last chunk' ],
              [ 'nb_cut_length', 'Content-Length, proxy_buffering off' ],
              [ 'nb_cut_chunked', 'chunked, proxy_buffering off' ])
{
    my ($tool, $what) = @$case;
    for my $era ('session', '2026') {
        my $r = $era eq 'session' ? call_legacy($tool) : call_modern($tool);
        ok(result($r)->{isError}, "$what ($era): isError") or diag($r->{body});
        like(text0($r), qr/cut off before its end/, "$what ($era): says it was cut off");
        ok(!grep({ ($_->{type} // '') eq 'image' } @{ result($r)->{content} || [] }),
           "$what ($era): no partial content");
    }
}

for my $tool ('whole_chunked', 'nb_whole_chunked') {
    my $r = call_legacy($tool);
    ok(!result($r)->{isError} && text0($r) eq 'one, two', "$tool: a whole chunked answer is the result")
        or diag($r->{body});
}

for my $uri ('cut://text', 'cut://chunked') {
    my $r = legacy_post($sid, $sv, 'resources/read', { uri => $uri });
    is($r->{json} && $r->{json}{error} && $r->{json}{error}{code}, -32603,
       "resources/read of a cut answer ($uri): -32603") or diag($r->{body});
    like($r->{json} && $r->{json}{error} && $r->{json}{error}{message} // '',
         qr/cut off/, "resources/read of a cut answer ($uri): says so");
    $r = modern_post('resources/read', { uri => $uri });
    is($r->{json} && $r->{json}{error} && $r->{json}{error}{code}, -32603,
       "2026 resources/read of a cut answer ($uri): -32603, nothing to cache")
        or diag($r->{body});
}

{
    my $r = legacy_post($sid, $sv, 'prompts/get', { name => 'cut_prompt' });
    is($r->{json} && $r->{json}{error} && $r->{json}{error}{code}, -32603,
       'prompts/get of a cut answer: -32603') or diag($r->{body});
}

# --- 3. a CallToolResult's shape is checked ---------------------------------

for my $case (
    [ 'shape_iserror',     qr/"isError" is not a boolean/ ],
    [ 'shape_item7',       qr/content\[1\] is not an object/ ],
    [ 'shape_itemnull',    qr/content\[0\] is not an object/ ],
    [ 'shape_notype',      qr/content\[0\] has no "type" string/ ],
    [ 'shape_notext',      qr/content\[0\] \(text\) has no "text" string/ ],
    [ 'shape_textnum',     qr/content\[0\] \(text\) has no "text" string/ ],
    [ 'shape_unknown',     qr/content\[0\] has an unknown "type"/ ],
    [ 'shape_image',       qr/content\[0\] \(image or audio\) needs "data" and "mimeType"/ ],
    [ 'shape_link',        qr/content\[0\] \(resource_link\) needs "uri" and "name"/ ],
    [ 'shape_resource',    qr/content\[0\] \(resource\) needs a "resource" object/ ],
    [ 'shape_annotations', qr/content\[0\] has "annotations" or "_meta" that is not an object/ ],
    [ 'shape_meta',        qr/"_meta" is not an object/ ],
  )
{
    my ($tool, $re) = @$case;
    for my $era ('session', '2026') {
        my $r = $era eq 'session' ? call_legacy($tool) : call_modern($tool);
        ok(result($r)->{isError}, "$tool ($era): isError") or diag($r->{body});
        like(text0($r), qr/malformed result: /, "$tool ($era): a malformed result");
        like(text0($r), $re, "$tool ($era): says what is wrong");
    }
}

{
    my $r = call_legacy('shape_structured');
    ok(result($r)->{isError}, 'structuredContent [1] (2025): isError');
    like(text0($r), qr/"structuredContent" is not an object/, '... says why');
    $r = call_modern('shape_structured');
    ok(!result($r)->{isError} && ref result($r)->{structuredContent} eq 'ARRAY',
       'structuredContent [1] (2026, where any JSON is allowed): passed on') or diag($r->{body});

    for my $case ([ 'shape_inputs5', qr/"inputRequests" is not an object/ ],
                  [ 'shape_inputsnone', qr/neither "inputRequests" nor "requestState"/ ],
                  [ 'shape_inputsbad', qr/entry is not an elicitation, sampling or roots request/ ],
                  [ 'shape_statenum', qr/"requestState" is not a string/ ])
    {
        my ($tool, $re) = @$case;
        $r = call_modern($tool);
        ok(result($r)->{isError} && (result($r)->{resultType} // '') eq 'complete',
           "$tool (2026): a complete result with isError") or diag($r->{body});
        like(text0($r), $re, "$tool (2026): says what is wrong");
    }

    $r = call_legacy('shape_good');
    ok(!result($r)->{isError} && @{ result($r)->{content} || [] } == 6,
       'a well-formed result with every kind of item: passed on') or diag($r->{body});
    is_deeply(result($r)->{_meta}, { k => 1 }, '... with its _meta');
}

# --- 4. a long NDJSON line is read in linear time ---------------------------
# Before, each buffer rescanned the whole partial line for a newline: one
# 8 MB line cost the worker ~3 s of CPU where the same bytes as
# application/json cost ~0.02 s.  The two are compared in the same run, with
# a wide margin: this checks the order of growth, not a speed.

sub worker_cpu {
    my $master = testdir() && do { open my $fh, '<', testdir() . '/nginx.pid'; my $p = <$fh>; chomp $p; $p };
    my $cpu = 0;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next;
        my $line = <$fh> // '';
        close $fh;
        my @f = split ' ', ($line =~ /\)\s(.*)$/)[0] // '';
        next unless @f && $f[1] == $master;      # ppid
        $cpu += ($f[11] + $f[12]);               # utime + stime, in ticks
    }
    return $cpu / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

{
    my %cpu;
    for my $tool ('long_json', 'long_ndjson', 'long_json', 'long_ndjson') {
        my $t0 = worker_cpu();
        my $r = call_legacy($tool, headers => [ -timeout => 120 ]);
        my $spent = worker_cpu() - $t0;
        my @c = @{ result($r)->{content} || [] };
        ok(@c == $items && !grep({ length($_->{text} // '') != 4063 } @c),
           "$tool: the 8 MB answer arrives whole") or diag(substr($r->{body} // '', 0, 300));
        $cpu{$tool} = $spent if !defined $cpu{$tool} || $spent < $cpu{$tool};
    }
    diag(sprintf 'worker CPU for 8 MB: JSON %.3f s, one NDJSON line %.3f s',
         $cpu{long_json}, $cpu{long_ndjson});
    ok($cpu{long_ndjson} <= 10 * $cpu{long_json} + 0.5,
       'one 8 MB NDJSON line costs the worker about what 8 MB of JSON does');
}

stop_nginx();

done_testing();
