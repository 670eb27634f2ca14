#!/usr/bin/perl
# One session used at the same time from many connections, spread over four
# workers: each worker caches its own clock, and none of them may take a
# session that another one touched "in its future" for an expired one.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX ();
use Test::More;
use MCP::Test;

start_nginx(<<'EOF');
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 256; }
http {
    access_log off;

    mcp_server full {
        name "full-test";
        tool echo_hello { description "Says hello"; text "Hello from nginx"; }
    }

    server {
        listen 127.0.0.1:%%PORT%% reuseport;
        location = /mcp { mcp_pass full; }
    }
}
EOF

my $v = '2025-11-25';
my $sid = mcp_init($v);
ok($sid, 'session created');

my ($clients, $each) = (24, 50);
my @pids;

for my $c (1 .. $clients) {
    my $pid = fork();
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        my $bad = 0;
        for my $i (1 .. $each) {
            my $r = legacy_post($sid, $v, 'tools/call',
                                { name => 'echo_hello' }, id => $i);
            $bad++ unless $r->{status} == 200 && $r->{json}
                          && $r->{json}{result};
        }
        POSIX::_exit($bad > 255 ? 255 : $bad);   # not the harness END
    }

    push @pids, $pid;
}

my $failed = 0;
for my $pid (@pids) {
    waitpid($pid, 0);
    $failed += $? >> 8;
}

is($failed, 0, ($clients * $each) . ' concurrent calls on one session all '
               . 'succeed');

my $r = legacy_post($sid, $v, 'ping', undef, id => 'last');
is_deeply($r->{json} && $r->{json}{result}, {}, 'the session is still alive');

stop_nginx();
done_testing();
