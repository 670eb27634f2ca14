#!/usr/bin/perl
# Server-to-client requests on the 2025 wire (issue 14, item 4): a `pass`
# location answers input_required; the module sends elicitation/create,
# sampling/createMessage and roots/list to the client on the call's event
# stream (only what the client declared), takes the client's responses
# POSTed to any worker (4 here, with reuseport) or replica (two nginx with
# a Redis session store), and calls the location again with inputResponses
# and its requestState, round after round (at most 8).  The official
# TypeScript SDK client answers; raw HTTP covers the faults: a timeout
# (mcp_input_timeout), duplicates, ids never sent or of another session,
# error responses, a cancel and a client that goes away while the call
# waits, a client that takes no event stream.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);
use MCP::Redis;
use MCP::Test;

my $sdk = "$FindBin::Bin/sdk";
my ($node) = grep { -x } map { "$_/node" } split /:/, $ENV{PATH} // '';
ok($node, 'node is installed') or BAIL_OUT('node is missing');
unless (-d "$sdk/node_modules/\@modelcontextprotocol/sdk") {
    my $out = `cd '$sdk' && npm install --no-audit --no-fund 2>&1`;
    ok($? == 0, 'the SDK is installed') or diag($out);
}

# what the locations answer: round 1 asks, the last round echoes the body
# the module sent (so the tests see inputResponses and requestState)

my $ELICIT = '{"method":"elicitation/create","params":{"message":"MSG",'
           . '"requestedSchema":{"type":"object","properties":'
           . '{"name":{"type":"string"}}}}}';
my $SAMPLE = '{"method":"sampling/createMessage","params":{"messages":'
           . '[{"role":"user","content":{"type":"text","text":"Say it"}}],'
           . '"maxTokens":10}}';
my $ROOTS = '{"method":"roots/list","params":{}}';

sub ask {
    my ($requests, $state) = @_;
    return "'{\"resultType\":\"input_required\",\"inputRequests\":{$requests}"
         . ",\"requestState\":\"$state\"}'";
}

sub elicit { my ($m) = @_; (my $e = $ELICIT) =~ s/MSG/$m/; return $e }

my $locations = join "\n", map {
    my ($name, $round1) = @$_;
    <<"LOC";
        location = /ask/$name {
            internal;
            default_type application/json;
            if (\$request_body ~ '"inputResponses"') {
                return 200 \$request_body;
            }
            return 200 $round1;
        }
LOC
} (
    [ user    => ask('"user":' . elicit('Who are you?'), 'st-user') ],
    [ decline => ask('"user":' . elicit('Please decline'), 'st-decline') ],
    [ llm     => ask('"llm":' . $SAMPLE, 'st-llm') ],
    [ roots   => ask('"roots":' . $ROOTS, 'st-roots') ],
    [ all     => ask('"user":' . elicit('All of it') . ',"llm":' . $SAMPLE
                     . ',"roots":' . $ROOTS, 'st-all') ],
);

my $twice_r1 = ask('"user":' . elicit('First round'), 'r1');
my $twice_r2 = ask('"llm":' . $SAMPLE, 'r2');
my $forever = ask('"roots":' . $ROOTS, 'again');

my $conf = <<"EOF";
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 256; }
http {
    log_format s2c '\$http_x_test \$pid \$status';
    access_log off;

    STORE

    mcp_server s2c {
        name "s2c-test";
        tool ask_user { description "Elicits a name"; pass /ask/user; }
        tool ask_decline { description "Elicits, to be declined"; pass /ask/decline; }
        tool ask_llm { description "Samples"; pass /ask/llm; }
        tool ask_roots { description "Lists roots"; pass /ask/roots; }
        tool ask_all { description "All three at once"; pass /ask/all; }
        tool ask_twice { description "Two rounds"; pass /ask/twice; }
        tool ask_state { description "Only a requestState"; pass /ask/state; }
        tool ask_forever { description "Never done asking"; pass /ask/forever; }
    }

    server {
        listen 127.0.0.1:%%PORT%% reuseport;

        location = /mcp {
            mcp_pass s2c;
            access_log %%TESTDIR%%/s2c.log s2c;
        }
        location = /mcp-short {
            mcp_pass s2c;
            mcp_input_timeout 1s;
        }
        location = /metrics { mcp_metrics; }

$locations
        location = /ask/twice {
            internal;
            default_type application/json;
            if (\$request_body ~ '"requestState":"r2"') {
                return 200 \$request_body;
            }
            if (\$request_body ~ '"requestState":"r1"') {
                return 200 $twice_r2;
            }
            return 200 $twice_r1;
        }
        location = /ask/state {
            internal;
            default_type application/json;
            if (\$request_body ~ '"requestState":"only"') {
                return 200 \$request_body;
            }
            return 200 '{"resultType":"input_required","requestState":"only"}';
        }
        location = /ask/forever {
            internal;
            default_type application/json;
            return 200 $forever;
        }
    }
}
EOF

(my $local_conf = $conf) =~ s/STORE/mcp_session_zone s:1m;/;
my $t = start_nginx($local_conf);
my $url = 'http://127.0.0.1:' . port() . '/mcp';

sub sdk_run {
    my ($caps, $tools, @urls) = @_;
    my $out = `cd '$sdk' && timeout 120 '$node' s2c-client.mjs $caps $tools @urls 2>&1`;
    my $rc = $? >> 8;
    my %call;
    for my $line (split /\n/, $out) {
        my $j = json_decode($line);
        $call{ $j->{name} } = $j if ref $j eq 'HASH' && ($j->{step} // '') eq 'call';
    }
    return ($rc, $out, \%call);
}

sub methods { return [ map { $_->{method} } @{ $_[0]{asked} || [] } ] }
sub echoed { return $_[0]{result}{structuredContent} || {} }

# ---------------------------------------------------------------------------
# the SDK client, with every capability

my ($rc, $out, $call) = sdk_run('all', join(',', qw(ask_user ask_decline ask_llm
    ask_roots ask_all ask_twice ask_state ask_forever)), $url);
is($rc, 0, 'the SDK client finished without error') or diag($out);

my $c = $call->{ask_user} || {};
is_deeply(methods($c), ['elicitation/create'], 'ask_user: the client was asked once');
is($c->{asked}[0]{params}{message}, 'Who are you?', '... with the backend\'s params');
is_deeply(echoed($c)->{inputResponses},
          { user => { action => 'accept', content => { name => 'Ada' } } },
          '... the backend got the answer under its key');
is(echoed($c)->{requestState}, 'st-user', '... and its requestState');
is(echoed($c)->{name}, 'ask_user', '... in the same call body');
ok(!$c->{result}{isError}, '... not an error');

$c = $call->{ask_decline} || {};
is_deeply(echoed($c)->{inputResponses}, { user => { action => 'decline' } },
          'ask_decline: the decline reached the backend');

$c = $call->{ask_llm} || {};
is_deeply(methods($c), ['sampling/createMessage'], 'ask_llm: sampling asked');
is(echoed($c)->{inputResponses}{llm}{content}{text}, 'sampled words',
   '... the sampled text reached the backend');
is(echoed($c)->{inputResponses}{llm}{model}, 'test-model', '... with its model');

$c = $call->{ask_roots} || {};
is_deeply(methods($c), ['roots/list'], 'ask_roots: roots asked');
is_deeply(echoed($c)->{inputResponses}{roots},
          { roots => [ { uri => 'file:///work', name => 'work' } ] },
          '... the roots reached the backend');

$c = $call->{ask_all} || {};
is_deeply([ sort @{ methods($c) } ],
          [ 'elicitation/create', 'roots/list', 'sampling/createMessage' ],
          'ask_all: three requests in one round');
is_deeply([ sort keys %{ echoed($c)->{inputResponses} || {} } ],
          [qw(llm roots user)], '... three answers in one backend call');

$c = $call->{ask_twice} || {};
is_deeply(methods($c), [ 'elicitation/create', 'sampling/createMessage' ],
          'ask_twice: two rounds, one request each');
is(echoed($c)->{requestState}, 'r2', '... the last call has the second state');
is_deeply([ keys %{ echoed($c)->{inputResponses} || {} } ], ['llm'],
          '... and only the second round\'s answers');

$c = $call->{ask_state} || {};
is_deeply(methods($c), [], 'ask_state: only a requestState asks nothing');
is(echoed($c)->{requestState}, 'only', '... the backend is called again with it');
is_deeply(echoed($c)->{inputResponses}, {}, '... and empty inputResponses');

$c = $call->{ask_forever} || {};
is(scalar @{ methods($c) }, 8, 'ask_forever: 8 rounds asked');
ok($c->{result}{isError}, '... then a tool error');
like($c->{result}{content}[0]{text} // '', qr/more than 8 times/, '... that says why');

# ---------------------------------------------------------------------------
# the SDK client without capabilities

($rc, $out, $call) = sdk_run('none', 'ask_user,ask_llm,ask_roots', $url);
is($rc, 0, 'the SDK client without capabilities finished') or diag($out);

for my $x ([ ask_user => 'elicitation' ], [ ask_llm => 'sampling' ],
           [ ask_roots => 'roots' ])
{
    $c = $call->{ $x->[0] } || {};
    ok($c->{result}{isError}, "$x->[0] without the capability: a tool error");
    like($c->{result}{content}[0]{text} // '',
         qr/did not declare the capability "$x->[1]"/, '... that names it');
}

# ---------------------------------------------------------------------------
# raw HTTP

# a tools/call on a connection of its own (HTTP/1.0: the stream ends with
# the connection); returns (socket, what came until the first request)
sub start_call {
    my ($sid, $tool, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    binmode $s;
    my $body = json_encode({ jsonrpc => '2.0', id => $o{id} // 'call-1',
                             method => 'tools/call',
                             params => { name => $tool, arguments => {} } });
    print $s 'POST ' . ($o{path} // '/mcp') . " HTTP/1.0\r\n"
           . "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
           . 'Accept: ' . ($o{accept} // 'application/json, text/event-stream')
           . "\r\nMcp-Session-Id: $sid\r\nMCP-Protocol-Version: 2025-11-25\r\n"
           . 'X-Test: ' . ($o{mark} // 'call') . "\r\n"
           . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    my ($buf) = read_for($s, $o{wait} // 5,
                         $o{until} // qr/"id":"s2c-[^\r\n]*\r\n\r\n/);
    return ($s, $buf);
}


# the rest of a call's stream, to its end
sub finish {
    my ($s, $buf, $secs) = @_;
    my ($all, $closed) = read_for($s, $secs // 5, undef, $buf);
    close $s;
    my ($head, $body) = split /\r\n\r\n/, $all, 2;
    return { head => $head // '', closed => $closed,
             messages => [ sse_messages($body // '') ] };
}

sub requests_of {
    my ($buf) = @_;
    my (undef, $body) = split /\r\n\r\n/, $buf, 2;
    return grep { ref $_ eq 'HASH' && $_->{method} } sse_messages($body // '');
}

sub answer {
    my ($sid, $msg, %o) = @_;
    return mcp_post({ jsonrpc => '2.0', %$msg },
                    (defined $sid ? ('Mcp-Session-Id' => $sid) : ()),
                    'MCP-Protocol-Version' => '2025-11-25',
                    'X-Test' => $o{mark} // 'answer');
}

sub response_of {
    my ($f) = @_;
    my ($r) = grep { ref $_ eq 'HASH' && exists $_->{result} } @{ $f->{messages} };
    return $r;
}

my $caps = { elicitation => {}, sampling => {}, roots => {} };
my $sid = mcp_init('2025-11-25', capabilities => $caps);
ok($sid, 'a session with capabilities');

# --- answers on other workers: 8 calls, each answer on a new connection

my ($ok, $n) = (0, 8);
for my $i (1 .. $n) {
    my ($s, $buf) = start_call($sid, 'ask_user', mark => "call$i");
    my ($req) = requests_of($buf);
    my $r = answer($sid, { id => $req->{id},
                           result => { action => 'accept', content => { name => "n$i" } } },
                   mark => "answer$i");
    my $f = finish($s, $buf);
    my $res = response_of($f);
    $ok++ if $r->{status} == 202
          && ($res->{result}{structuredContent}{inputResponses}{user}{content}{name} // '')
             eq "n$i";
}
is($ok, $n, "$n calls answered, each by its own answer");

my %pid;
for (1 .. 20) {
    my $log = do { local $/; open my $fh, '<', "$t->{dir}/s2c.log"; <$fh> } // '';
    %pid = map { /^(\S+) (\d+)/ ? ($1 => $2) : () } split /\n/, $log;
    last if grep { /^call\Q$n\E$/ } keys %pid;
    sleep 0.1;
}
my $elsewhere = grep { $pid{"call$_"} && $pid{"answer$_"}
                       && $pid{"call$_"} != $pid{"answer$_"} } 1 .. $n;
ok($elsewhere >= 1, "$elsewhere of $n answers reached another worker than their call");

# --- ids: of the module's form or 400; never sent, another session's: ignored

my ($s, $buf) = start_call($sid, 'ask_all', id => 'call-ids',
                           until => qr/(?:"id":"s2c-[^\r\n]*\r\n\r\n.*){3}/s);
my @req = requests_of($buf);
is(scalar @req, 3, 'ask_all: three requests on the stream');
like($_->{id}, qr/^s2c-[0-9a-f]{32}-\d\z/, "request id $_->{id}") for @req;
my %prefix = map { substr($_->{id}, 0, 37) => 1 } @req;
is(scalar keys %prefix, 1, '... one random prefix for the round');

for my $bad (7, 'abc', 's2c-' . ('g' x 32) . '-0', 's2c-' . ('a' x 32) . '-x') {
    my $r = answer($sid, { id => $bad, result => {} });
    is($r->{status}, 400, "a response to id " . json_encode($bad) . ": 400");
}
my $r = answer($sid, { id => 's2c-' . ('0' x 32) . '-0', result => { action => 'accept' } });
is($r->{status}, 202, 'a response to an id never sent: 202');

my $sid2 = mcp_init('2025-11-25', capabilities => $caps);
$r = answer($sid2, { id => $req[0]{id}, result => { action => 'accept',
                                                    content => { name => 'Eve' } } });
is($r->{status}, 202, 'a response to another session\'s request: 202');
$r = answer(undef, { id => $req[0]{id}, result => {} });
is($r->{status}, 400, 'a response without Mcp-Session-Id: 400');
$r = answer('f' x 64, { id => $req[0]{id}, result => {} });
is($r->{status}, 404, 'a response in an unknown session: 404');

# answered, the first one twice: the duplicate is ignored

my %by = map { $_->{method} => $_->{id} } @req;
answer($sid, { id => $by{'elicitation/create'},
               result => { action => 'accept', content => { name => 'Ada' } } });
$r = answer($sid, { id => $by{'elicitation/create'},
                    result => { action => 'accept', content => { name => 'Bob' } } });
is($r->{status}, 202, 'a duplicate response: 202');
answer($sid, { id => $by{'sampling/createMessage'},
               result => { role => 'assistant', model => 'm',
                           content => { type => 'text', text => 'hi' } } });
answer($sid, { id => $by{'roots/list'}, result => { roots => [] } });
my $f = finish($s, $buf);
my $res = response_of($f) || {};
is($res->{id}, 'call-ids', 'the call is answered');
is($res->{result}{structuredContent}{inputResponses}{user}{content}{name}, 'Ada',
   '... with the first answer: the duplicate, the one never sent and the other '
   . 'session\'s were ignored');
is_deeply($res->{result}{structuredContent}{inputResponses}{roots}, { roots => [] },
          '... and the other two');

# --- an error response ends the call with a tool error

($s, $buf) = start_call($sid, 'ask_user', id => 'call-err');
(my $q) = requests_of($buf);
answer($sid, { id => $q->{id}, error => { code => -1, message => 'user closed the dialog' } });
$res = response_of(finish($s, $buf)) || {};
ok($res->{result}{isError}, 'an error response: a tool error');
like($res->{result}{content}[0]{text} // '',
     qr{answered elicitation/create with an error: user closed the dialog},
     '... that says so');

# --- mcp_input_timeout

my $t0 = time;
($s, $buf) = start_call($sid, 'ask_user', id => 'call-slow', path => '/mcp-short');
ok(scalar requests_of($buf), 'a call that the client does not answer');
$f = finish($s, $buf, 6);
my $took = time - $t0;
$res = response_of($f) || {};
ok($res->{result}{isError}, 'after mcp_input_timeout: a tool error');
like($res->{result}{content}[0]{text} // '', qr/did not answer .* within 1000 ms/,
     '... that says so');
ok($took > 0.9 && $took < 4, sprintf('... after %.1f s (1s)', $took));
ok($f->{closed}, '... and the stream ends');

# --- notifications/cancelled while the call waits

($s, $buf) = start_call($sid, 'ask_user', id => 'call-cancel');
($q) = requests_of($buf);
$r = legacy_notify($sid, '2025-11-25', 'notifications/cancelled',
                   { requestId => 'call-cancel', reason => 'changed my mind' });
is($r->{status}, 202, 'notifications/cancelled: 202');
$f = finish($s, $buf, 3);
ok($f->{closed}, 'the waiting call\'s stream ends');
ok(!response_of($f), '... with no response');
is(answer($sid, { id => $q->{id}, result => { action => 'accept' } })->{status}, 202,
   'a late answer: 202, ignored');

# --- the client goes away while the call waits

sub streams_open {
    my $b = http('GET', '/metrics')->{body} // '';
    return $b =~ /^mcp_server_streams_open (\d+)$/m ? $1 : -1;
}

# (2025: a disconnect is not a cancellation; a 2025-11-25 stream is
# resumable, t/035: the call waits on, and the client resumes it by GET)

($s, $buf) = start_call($sid, 'ask_user', id => 'call-gone');
($q) = requests_of($buf);
my @gone = $buf =~ /^id: (p[0-9a-f]{16}-\d+)\r$/mg;
is(streams_open(), 1, 'a waiting call holds its stream open');
close $s;
sleep 0.3;
is(answer($sid, { id => $q->{id}, result => { action => 'accept',
                                               content => { ok => 1 } } })->{status},
   202, 'the client went away: its call still takes the answer');
{
    my $g = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => port(),
                                  Proto => 'tcp', Timeout => 5)
        or die "connect: $!";
    print $g "GET /mcp HTTP/1.0\r\nHost: 127.0.0.1\r\n"
             . "Accept: text/event-stream\r\nMcp-Session-Id: $sid\r\n"
             . "MCP-Protocol-Version: 2025-11-25\r\n"
             . "Last-Event-ID: $gone[-1]\r\n\r\n";
    $f = finish($g, '', 5);
    my $resp = response_of($f);
    is($resp && $resp->{id}, 'call-gone',
       '... and its response reaches the client that resumes the stream');
}
my $open = -1;
for (1 .. 30) { $open = streams_open(); last if $open == 0; sleep 0.1 }
is($open, 0, '... then nothing is left open');

# --- a client that takes no event stream

($s, $buf) = start_call($sid, 'ask_user', accept => 'application/json',
                        until => qr/\}\s*\z/);
$f = finish($s, $buf);
like($f->{head}, qr{^HTTP/1\.1 406}, 'no text/event-stream in Accept: 406');
like($buf, qr/"code":-32600.*event-stream/s, '... a JSON-RPC error that says why');

# --- the same raw, without capabilities

my $bare = mcp_init('2025-11-25');
($s, $buf) = start_call($bare, 'ask_llm', until => qr/\}\s*\z/);
$f = finish($s, $buf);
my ($whole) = $buf =~ /(\{.*\})/s;
my $j = json_decode($whole // '') || {};
ok($j->{result}{isError}, 'no sampling capability: a tool error, nothing asked');
unlike($buf, qr/s2c-/, '... no request was sent');

my $err = error_log_text();
unlike($err, qr/\[(alert|crit|emerg)\]/, 'no alert in error.log');
stop_nginx();

# ---------------------------------------------------------------------------
# two replicas, one Redis: the answers reach the other replica

my $redis = MCP::Redis->new;
my $rport = $redis->port;
(my $rconf = $conf) =~ s/STORE/upstream cache { mcp_redis_server 127.0.0.1:$rport; }
    mcp_session_store redis=cache prefix=t038:;/;
$rconf =~ s/ reuseport//;
my @r = map { start_instance($rconf) } 1 .. 2;
my @urls = map { 'http://127.0.0.1:' . $_->{ports}{0} . '/mcp' } @r;

($rc, $out, $call) = sdk_run('all', 'ask_user,ask_all,ask_twice', @urls);
is($rc, 0, 'the SDK client across two replicas finished') or diag($out);

for my $name (qw(ask_user ask_all ask_twice)) {
    $c = $call->{$name} || {};
    my @other = grep { $_ != ($c->{callReplica} // -1) } @{ $c->{answerReplicas} || [] };
    ok(defined $c->{callReplica} && @other,
       "$name: the call on replica " . ($c->{callReplica} // '?')
       . ', answers on replicas ' . join(',', @{ $c->{answerReplicas} || [] }));
    ok(!$c->{result}{isError} && $c->{result}{structuredContent}{inputResponses},
       '... and the backend got them');
}
is_deeply([ keys %{ echoed($call->{ask_twice} || {})->{inputResponses} || {} } ], ['llm'],
          'two rounds across replicas');

for my $i (@r) {
    my $e = do { local $/; open my $fh, '<', "$i->{dir}/error.log"; <$fh> } // '';
    unlike($e, qr/\[(alert|crit|emerg)\]/, 'no alert in a replica\'s error.log');
}
stop_instance($_) for @r;

done_testing();
