#!/usr/bin/perl
# Prometheus metrics (mcp_metrics): known traffic over 4 workers, then one
# scrape with exact counts (requests by method and outcome, operation
# duration histograms by tool with consistent buckets, HTTP responses,
# backend calls of a pass tool); only names of docs/metrics.txt, with the
# types it says; promtool check metrics is clean; label values come from
# the configuration (a resource uri with quotes is escaped), never from a
# request (an unknown tool's name is no label); a reload keeps the counts.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MCP::Auth;
use Time::HiRes qw(sleep);

my $key = random_api_key();
my $keyfile = api_keys_file("$FindBin::Bin/tmp/132-api-keys", [ $key, 'alice', 'x', 't1' ]);

my $conf = <<"EOF";
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 256; }
http {
    access_log off;
    mcp_limit_zone one:1m key=\$remote_addr rate=1r/m;
    mcp_server s {
        tool hello { description "Hi"; text "hi"; }
        tool failing { description "Fails"; error "nope"; }
        tool echo { description "Echo"; pass /echo; }
        resource "file:///odd\\"name" { name odd; text "x"; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass s; }
        location = /metrics { mcp_metrics; }
        location = /keys { mcp_pass s; mcp_auth_api_keys $keyfile; }
        location = /lim { mcp_pass s; mcp_limit zone=one; }
        location = /echo { internal; default_type application/json; return 200 '{"ok":1}'; }
    }
}
EOF

start_nginx($conf);

my %want;
sub call {
    my ($name) = @_;
    return modern_post('tools/call', { name => $name, arguments => {} });
}

is(call('hello')->{status}, 200, 'hello') for 1 .. 7;
call('failing') for 1 .. 3;
call('echo') for 1 .. 2;
call('no-such-tool-' . $_) for 1 .. 4;            # -32602, no label of it
modern_post('tools/list', {}) for 1 .. 5;
modern_post('resources/read', { uri => 'file:///odd"name' });
http('PUT', '/mcp');                                 # 405
modern_post('tools/list', {}, path => '/keys') for 1 .. 2;              # 401, none
modern_post('tools/list', {}, path => '/keys',
            headers => [ 'X-API-Key' => 'mcp_' . ('0' x 40) ]) for 1 .. 3;   # 401, bad
is(modern_post('tools/list', {}, path => '/keys', headers => [ 'X-API-Key' => $key ])->{status},
   200, 'the right key');
modern_post('tools/list', {}, path => '/lim') for 1 .. 4;               # 1 + 3 refused

# a request is counted in its log phase, just after its answer is out
sleep 0.3;

my $res = http('GET', '/metrics');
is($res->{status}, 200, '/metrics answers');
like($res->{headers}{'content-type'} // '', qr{^text/plain; version=0\.0\.4}, '... the text format');
my $text = $res->{body};

sub sample {
    my ($name, %labels) = @_;
    my $total;
    for my $line (split /\n/, $text) {
        next if $line =~ /^#/;
        my ($n, $l, $v) = $line =~ /^(\w+)(?:\{(.*)\})? (\S+)$/ or next;
        next unless $n eq $name;
        my %has = ($l // '') =~ /(\w+)="((?:[^"\\]|\\.)*)"/g;
        next if grep { ($has{$_} // '') ne $labels{$_} } keys %labels;
        $total += $v;
    }
    return $total;
}

is(sample('mcp_server_requests_total', mcp_method_name => 'tools/call', outcome => 'ok'), 9,
   'tools/call ok: 7 hello + 2 echo, over 4 workers');
is(sample('mcp_server_requests_total', mcp_method_name => 'tools/call', outcome => 'tool_error'), 3,
   'tools/call tool_error: 3');
is(sample('mcp_server_requests_total', mcp_method_name => 'tools/call', outcome => '-32602'), 4,
   'tools/call -32602: the unknown tools');
is(sample('mcp_server_requests_total', mcp_method_name => 'tools/list', outcome => 'ok'), 7,
   'tools/list ok: 5, the right key, the first /lim');
is(sample('mcp_server_operation_duration_seconds_count', gen_ai_tool_name => 'hello'), 7,
   'duration histogram of hello: 7');
is(sample('mcp_server_operation_duration_seconds_bucket', gen_ai_tool_name => 'hello', le => '+Inf'), 7,
   '... its +Inf bucket equals its count');
is(sample('mcp_server_operation_duration_seconds_count', gen_ai_tool_name => 'failing',
          error_type => 'error'), 3, 'failing counted as errors');
is(sample('mcp_backend_calls_total', kind => 'pass', upstream => '/echo', outcome => 'ok'), 2,
   'backend calls of the pass tool: 2');
is(sample('mcp_http_responses_total', code => '405'), 1, 'the PUT /mcp: one 405');
is(sample('mcp_http_responses_total', code => '200'), 24, 'the 200s: one per request');
is(sample('mcp_auth_failures_total', reason => 'missing_credentials'), 2, 'auth failures: 2 without credentials');
is(sample('mcp_auth_failures_total', reason => 'invalid_token'), 3, '... 3 with a wrong key');
is(sample('mcp_limit_refusals_total', zone => 'one'), 3, 'limit refusals of zone one: 3');
is(sample('mcp_server_requests_total', mcp_method_name => 'tools/list', outcome => '-32029'), 3,
   '... answered -32029');
unlike($text, qr/no-such-tool/, 'no label from a request');
like($text, qr/mcp_resource_uri="file:\/\/\/odd\\"name"/, 'a configured uri with a quote, escaped');

# buckets never decrease

my @b = map { /\} (\d+)$/ ? $1 : () }
        grep { /_bucket\{mcp_method_name="tools\/call",gen_ai_tool_name="hello"/ } split /\n/, $text;
ok(@b == 15 && !grep({ $b[$_] < $b[$_ - 1] } 1 .. $#b), 'cumulative buckets, 14 and +Inf');

# the names and types of docs/metrics.txt, and nothing else

open my $fh, '<', "$FindBin::Bin/../docs/metrics.txt" or die "docs/metrics.txt: $!";
my %doc = map { /^(\w+) (\w+)$/ ? ($1 => $2) : () } <$fh>;
close $fh;
my %types = $text =~ /^# TYPE (\w+) (\w+)$/mg;
is_deeply(\%types, \%doc, 'every metric of docs/metrics.txt, with its type, and no other');

# promtool

my $file = testdir() . '/metrics.txt';
write_file($file, $text);
my $out = `promtool check metrics < '$file' 2>&1`;
is($?, 0, 'promtool check metrics is clean') or diag($out);

# a reload keeps the counts

my $before = sample('mcp_server_requests_total', mcp_method_name => 'tools/call', outcome => 'ok');
reload_nginx();
call('hello');
sleep 0.3;
$text = http('GET', '/metrics')->{body};
is(sample('mcp_server_requests_total', mcp_method_name => 'tools/call', outcome => 'ok'), $before + 1,
   'after a reload the counts go on') or diag($text);

stop_nginx();

done_testing();
