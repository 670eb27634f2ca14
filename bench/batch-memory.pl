#!/usr/bin/perl
# The cost of 2025-03-26 batches (issue 9): eight clients at once each send a
# ~500 KB batch of 9,999 tools/list requests to one worker; prints each
# answer's status and size and the worker's resident memory before and
# after (VmRSS, and VmHWM, its peak).  Compare builds in the same run:
#
#   MCP_TEST_MODULE=build/ngx_http_mcp_module.so perl bench/batch-memory.pl
#   MCP_TEST_MODULE=/path/to/older/ngx_http_mcp_module.so perl bench/batch-memory.pl
#
# Not a test: it asserts nothing and prints its figures.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use MCP::Test;
use POSIX ();

start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    mcp_server full {
        name "batch-memory";
        tool echo_hello {
            description "Says hello, at some length: a tools/list page of this catalog is a few hundred bytes";
            argument who string "Whom to greet";
            text "Hello";
        }
        tool second { description "Another tool"; text "two"; }
    }
    server { listen 127.0.0.1:%%PORT%%; location = /mcp { mcp_pass full; } }
}
EOF

sub worker {
    open my $fh, '<', testdir() . '/nginx.pid' or die "no pid file\n";
    chomp(my $master = <$fh>);
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $f, '<', $stat or next;
        my @x = split ' ', ((<$f> // '') =~ /\)\s(.*)$/)[0] // '';
        return ($stat =~ m{/proc/(\d+)/})[0] if @x && $x[1] == $master;
    }
    die "no worker\n";
}

sub memory {
    my %m;
    open my $f, '<', '/proc/' . worker() . '/status' or die "no status\n";
    while (<$f>) { $m{$1} = $2 if /^(VmRSS|VmHWM):\s+(\d+)/ }
    return "RSS $m{VmRSS} kB, peak $m{VmHWM} kB";
}

my $sid = mcp_init('2025-03-26');
my $batch = '[' . join(',', map { qq({"jsonrpc":"2.0","id":$_,"method":"tools/list"}) }
                               1 .. 9999) . ']';

diag('batch of ' . length($batch) . ' bytes; worker before: ' . memory());

my @kids;
for (1 .. 8) {
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        my $r = mcp_post($batch, 'Mcp-Session-Id' => $sid, -timeout => 120);
        diag("answer: HTTP $r->{status}, " . length($r->{body} // '') . ' bytes');
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
waitpid $_, 0 for @kids;

diag('worker after eight at once: ' . memory());
ok(1, 'measured');
stop_nginx(quiet => 1);
done_testing();
