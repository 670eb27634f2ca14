#!/usr/bin/perl
# confirm MESSAGE (issue 14, item 6): the module asks the user before a
# tool's backend runs.  2025 wire: an elicitation on the call's stream,
# answered by a POST that may land on any of 4 workers or on another
# replica; accept runs the backend, decline does not.  2026 wire: an
# input_required result with a sealed state; the retry with accept runs
# the backend once, a tampered state is -32602, a state made for other
# arguments asks again; a second replica with the same mcp_state_key
# takes the retry.  The backend never sees the module's question.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MCP::Redis;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);

# the backend notes each call it gets
my $calls = tempfile();
my $bport = backend(sub {
    my ($s) = @_;
    my $req = backend_request($s) or return;
    open my $fh, '>>', $calls or return;
    print $fh $req->{body}, "\n";
    close $fh;
    backend_reply($s, 200, 'application/json',
                  '{"content":[{"type":"text","text":"refunded"}]}');
});

sub tempfile {
    my $d = "$FindBin::Bin/tmp";
    mkdir $d;
    my $f = "$d/045-calls-$$";
    unlink $f;
    return $f;
}

sub backend_calls {
    open my $fh, '<', $calls or return ();
    my @l = <$fh>;
    return map { json_decode($_) } @l;
}

sub ncalls { my @c = backend_calls(); return scalar @c }

my $key = "$FindBin::Bin/tmp/045-key-$$";
open my $kf, '>', $key or die;
print $kf 'k' x 48;
close $kf;

sub conf {
    my (%o) = @_;
    my $store = session_store($o{redis}, 't045:');
    return <<"EOF";
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 256; }
http {
    access_log off;
    $store
    mcp_state_key $key;

    mcp_server c {
        tool refund {
            description "Refunds an order";
            argument id integer required "The order";
            confirm "Refund order {id}?";
            pass /b/refund;
        }
        tool wipe {
            description "Static, but confirmed";
            confirm "Wipe everything?";
            text "wiped";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass c; }
        location /b/ { internal; proxy_pass http://127.0.0.1:$bport/; }
    }
}
EOF
}


# a 2025 call on a connection of its own, read until its question
sub start_call {
    my ($sid, $tool, $args, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $o{port} // port(),
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    my $body = json_encode({ jsonrpc => '2.0', id => 'c1', method => 'tools/call',
                             params => { name => $tool, arguments => $args } });
    print $s "POST /mcp HTTP/1.0\r\nHost: 127.0.0.1\r\n"
           . "Content-Type: application/json\r\n"
           . "Accept: application/json, text/event-stream\r\n"
           . "Mcp-Session-Id: $sid\r\nMCP-Protocol-Version: 2025-11-25\r\n"
           . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    my ($buf) = read_for($s, 3, qr/elicitation\/create.*\n\n|"result"/s);
    my ($q) = grep { ref $_ eq 'HASH' && $_->{method} } sse_messages($buf);
    return ($s, $q, $buf);
}

sub finish {
    my ($s) = @_;
    my ($buf) = read_for($s, 4);
    close $s;
    my ($r) = grep { ref $_ eq 'HASH' && exists $_->{result} } sse_messages($buf);
    return $r;
}

sub answer {
    my ($sid, $id, $action, %o) = @_;
    return mcp_post({ jsonrpc => '2.0', id => $id,
                      result => { action => $action,
                                  ($action eq 'accept' ? (content => {}) : ()) } },
                    'Mcp-Session-Id' => $sid,
                    'MCP-Protocol-Version' => '2025-11-25',
                    ($o{port} ? (-port => $o{port}) : ()));
}

my $caps = { elicitation => {} };

# ---------------------------------------------------------------------------
# the 2025 wire, 4 workers

start_nginx(conf());

my $sid = mcp_init('2025-11-25', capabilities => $caps);
ok($sid, 'a session whose client takes elicitation');

my ($s, $q) = start_call($sid, 'refund', { id => 42 });
is($q && $q->{method}, 'elicitation/create', 'confirm: the module asks first');
is($q && $q->{params}{message}, 'Refund order 42?',
   '... MESSAGE with the argument in it');
is(ncalls(), 0, '... and the backend has not run');
is(answer($sid, $q->{id}, 'accept')->{status}, 202, 'accept: 202');
my $r = finish($s);
is($r && $r->{result}{content}[0]{text}, 'refunded', '... then the backend ran');
my @c = backend_calls();
is(scalar @c, 1, '... once');
is_deeply($c[0] && $c[0]{arguments}, { id => 42 }, '... with the arguments');
ok($c[0] && !exists $c[0]{inputResponses} && !exists $c[0]{requestState},
   '... as a plain call: the question was the module\'s');

($s, $q) = start_call($sid, 'refund', { id => 7 });
answer($sid, $q->{id}, 'decline');
$r = finish($s);
ok($r && $r->{result}{isError}, 'decline: a tool error');
like($r && $r->{result}{content}[0]{text}, qr/did not confirm/, '... saying so');
is(ncalls(), 1, '... and the backend did not run');

($s, $q) = start_call($sid, 'wipe', {});
is($q && $q->{params}{message}, 'Wipe everything?', 'a static tool asks too');
answer($sid, $q->{id}, 'accept');
$r = finish($s);
is($r && $r->{result}{content}[0]{text}, 'wiped', '... and answers after accept');

# several answers, each to some worker of 4
my $ok = 0;
for my $i (1 .. 4) {
    ($s, $q) = start_call($sid, 'refund', { id => 100 + $i });
    answer($sid, $q->{id}, 'accept');
    $r = finish($s);
    $ok++ if $r && ($r->{result}{content}[0]{text} // '') eq 'refunded';
}
is($ok, 4, 'four confirmed calls, answers on any worker');

my $sid2 = mcp_init('2025-11-25');
($s, $q, my $buf) = start_call($sid2, 'refund', { id => 1 });
ok(!$q, 'a client without elicitation is not asked');
close $s;
my (undef, $body) = split /\r\n\r\n/, $buf, 2;
$r = json_decode($body // '');
ok($r && $r->{result}{isError}, '... its call is a tool error');

# ---------------------------------------------------------------------------
# the 2026 wire

sub call26 {
    my ($args, %o) = @_;
    my $p = { name => 'refund', arguments => $args };
    $p->{inputResponses} = $o{responses} if $o{responses};
    $p->{requestState} = $o{state} if defined $o{state};
    return modern_post('tools/call', $p,
                       caps => { elicitation => {} },
                       ($o{port} ? (port => $o{port}) : ()));
}

my $n0 = ncalls();
$r = call26({ id => 5 });
my $res = $r->{json}{result};
is($res->{resultType}, 'input_required', '2026: the first call is a question');
is($res->{inputRequests}{confirm}{params}{message}, 'Refund order 5?',
   '... the same message');
my $state = $res->{requestState};
ok($state && $state !~ /^confirm:/, '... with a sealed state');
is(ncalls(), $n0, '... and no backend call');

my $accept = { confirm => { action => 'accept', content => {} } };
$r = call26({ id => 5 }, responses => $accept, state => $state);
is($r->{json}{result}{content}[0]{text}, 'refunded', 'the retry with accept runs it');
is(ncalls(), $n0 + 1, '... once');

(my $bad = $state) =~ s/^(.{10})(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
$r = call26({ id => 5 }, responses => $accept, state => $bad);
is($r->{json}{error}{code}, -32602, 'a tampered state: -32602');

$r = call26({ id => 5 }, responses => $accept, state => 'confirm:' . ('0' x 64));
is($r->{json}{error}{code}, -32602, 'a forged plain state: -32602');

$r = call26({ id => 6 }, responses => $accept, state => $state);
is($r->{json}{result}{resultType}, 'input_required',
   'the state of other arguments: asked again');

$r = call26({ id => 5 }, responses => $accept);
is($r->{json}{result}{resultType}, 'input_required',
   'an accept without the state: asked again');

$r = call26({ id => 5 }, responses => { confirm => { action => 'decline' } },
            state => $state);
ok($r->{json}{result}{isError}, 'decline: a tool error');
is(ncalls(), $n0 + 1, '... the backend ran only for the accept');

stop_nginx();

# ---------------------------------------------------------------------------
# two replicas with Redis and the same mcp_state_key

my $redis = MCP::Redis->new;
my @rep = map { start_instance(conf(redis => $redis->port)) } 1 .. 2;
my ($pa, $pb) = map { $_->{ports}{0} } @rep;

$sid = mcp_init('2025-11-25', capabilities => $caps, headers => [ -port => $pa ]);
($s, $q) = start_call($sid, 'refund', { id => 77 }, port => $pa);
is(answer($sid, $q->{id}, 'accept', port => $pb)->{status}, 202,
   'replica B takes the answer to replica A\'s question');
$r = finish($s);
is($r && $r->{result}{content}[0]{text}, 'refunded', '... and A runs the tool');

$r = call26({ id => 78 }, port => $pa);
$state = $r->{json}{result}{requestState};
$r = call26({ id => 78 }, responses => $accept, state => $state, port => $pb);
is($r->{json}{result}{content}[0]{text}, 'refunded',
   '2026: a question of replica A, the retry on replica B');

stop_instance($_) for @rep;
unlink $key, $calls;

done_testing();
