#!/usr/bin/perl
# Multi round-trip requests (2026-07-28): the requestState a backend writes
# reaches the client sealed (mcp_state_key) and comes back to the backend
# as it was written, or the retry is refused with -32602 before the backend
# runs: tampered, truncated, garbage, expired, another caller, tool or
# method; key rotation; two replicas sharing a key file; the input requests
# narrowed to the client's capabilities (-32021 when none is left); a state
# too large; the key files at nginx -t.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MCP::Auth;
use Time::HiRes qw(sleep);

my $key_alice = random_api_key();
my $key_bob = random_api_key();
my $keyfile = api_keys_file("$FindBin::Bin/tmp/037-api-keys",
                            [ $key_alice, 'alice', undef, 'acme' ],
                            [ $key_bob, 'bob', undef, 'acme' ]);
my $keytext = do { local (@ARGV, $/) = ($keyfile); <> };

my $hex = sub { join '', map { sprintf '%02x', int rand 256 } 1 .. 32 };
my $state_big = 'x' x 16385;
my $state_max = 'y' x 16384;

my %files = (
    'keys/a.key' => $hex->() . "\n",
    'keys/b.key' => $hex->(),
    'keys/api-keys' => $keytext,
    'files/big.json' => '{"resultType":"input_required","requestState":"'
                        . $state_big . '"}',
    'files/max.json' => '{"resultType":"input_required","requestState":"'
                        . $state_max . '"}',
);

# what the backend wrote in round 1: quotes, an escape, non-ASCII, braces
my $STATE = "round-1 \x{e9} \"q\" {}/+=";

my $conf = <<'EOF';
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 64; }
http {
    access_log off;

    mcp_server s {
        tool ask { description "asks"; pass /b/ask; }
        tool other { description "asks too"; pass /b/ask; }
        tool caps { description "asks three ways"; pass /b/caps; }
        tool big { description "a state too large"; pass /files/big.json; }
        tool max { description "the largest state"; pass /files/max.json; }
        tool empty { description "an empty state"; pass /b/empty; }
        prompt ask { description "asks"; pass /b/pask; }
        resource "mrtr://ask" { name ask; pass /b/ask; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        mcp_state_key keys/a.key;

        location = /mcp { mcp_pass s; }
        location = /short { mcp_pass s; mcp_state_key keys/a.key valid=1s; }
        location = /rotated {
            mcp_pass s;
            mcp_state_key keys/b.key;
            mcp_state_key keys/a.key;
        }
        location = /b-only { mcp_pass s; mcp_state_key keys/b.key; }
        location = /auth { mcp_pass s; mcp_auth_api_keys keys/api-keys; }

        location /b/ {
            internal;
            default_type application/json;

            location = /b/ask {
                if ($request_body ~ '"inputResponses"') {
                    return 200 '{"content":[{"type":"text","text":"done"}],"structuredContent":$request_body}';
                }
                return 200 '{"resultType":"input_required","inputRequests":{"q":{"method":"elicitation/create","params":{"message":"?","requestedSchema":{"type":"object","properties":{"a":{"type":"string"}}}}}},"requestState":"round-1 \\u00e9 \\"q\\" {}/+="}';
            }

            location = /b/pask {
                if ($request_body ~ '"inputResponses"') {
                    return 200 '{"messages":[{"role":"user","content":{"type":"text","text":"done"}}]}';
                }
                return 200 '{"resultType":"input_required","inputRequests":{"q":{"method":"elicitation/create","params":{"message":"?","requestedSchema":{"type":"object","properties":{}}}}},"requestState":"p-1"}';
            }

            location = /b/empty {
                if ($request_body ~ '"inputResponses"') {
                    return 200 '{"content":[{"type":"text","text":"done"}],"structuredContent":$request_body}';
                }
                return 200 '{"resultType":"input_required","inputRequests":{"q":{"method":"elicitation/create","params":{"message":"?","requestedSchema":{"type":"object","properties":{}}}}},"requestState":""}';
            }

            location = /b/caps {
                return 200 '{"resultType":"input_required","inputRequests":{"e":{"method":"elicitation/create","params":{"message":"?","requestedSchema":{"type":"object","properties":{}}}},"s":{"method":"sampling/createMessage","params":{"messages":[],"maxTokens":5}},"r":{"method":"roots/list","params":{}}},"requestState":"c-1"}';
            }
        }

        location /files/ {
            internal;
            alias %%TESTDIR%%/files/;
            default_type application/json;
            error_page 405 =200 $uri;
        }
    }
}
EOF

my $t1 = start_nginx($conf, files => \%files);

my $ALL = { elicitation => {}, sampling => {}, roots => {} };
my $ANSWER = { q => { action => 'accept', content => { a => 'x' } } };

sub call {
    my ($name, %o) = @_;
    my %p = (name => $name, arguments => {});
    $p{inputResponses} = $o{responses} if $o{responses};
    $p{requestState} = $o{state} if defined $o{state};
    my $method = $o{method} // 'tools/call';
    if ($method eq 'resources/read') {
        %p = (uri => $name);
        $p{inputResponses} = $o{responses} if $o{responses};
        $p{requestState} = $o{state} if defined $o{state};
    }
    return modern_post($method, \%p, caps => $o{caps} // $ALL,
                       path => $o{path} // '/mcp',
                       ($o{port} ? (port => $o{port}) : ()),
                       headers => $o{headers} || []);
}

# round 1: a sealed state
sub sealed {
    my ($name, %o) = @_;
    my $r = call($name, %o);
    my $res = mcp_result($r);
    is($res->{resultType}, 'input_required', "$name round 1: input_required")
        or diag($r->{body});
    return $res->{requestState} // '';
}

# the retry with that state: the backend's echo of its body, or the error
sub retry {
    my ($name, $state, %o) = @_;
    return call($name, responses => $ANSWER, state => $state, %o);
}

sub refused {
    my ($r, $state, $what) = @_;
    is($r->{json}{error}{code}, -32602, "$what: -32602")
        or diag($r->{body});
    is($r->{json}{error}{message}, 'Invalid requestState',
       "$what: a short message");
    unlike($r->{body}, qr/\Q$state\E/, "$what: the state is not echoed")
        if length $state;
    ok(!exists $r->{json}{result}, "$what: no result, the backend did not run");
}

# --- seal and round trip ------------------------------------------------------

my $s = sealed('ask');
like($s, qr/^[A-Za-z0-9_-]+$/, 'sealed: base64url, no padding');
unlike($s, qr/round-1/, 'sealed: the backend state does not show');
isnt(sealed('ask'), $s, 'sealed: a new nonce for each seal');

my $r = retry('ask', $s);
my $echo = mcp_result($r)->{structuredContent} || {};
is($echo->{requestState}, $STATE, 'round trip: the backend gets its own string')
    or diag($r->{body});
is_deeply($echo->{inputResponses}, $ANSWER,
          'round trip: and the inputResponses');
is(mcp_result($r)->{resultType}, 'complete', 'round trip: complete');

# four workers, one key: every retry opens
my $ok = 0;
for (1 .. 12) {
    my $e = mcp_result(retry('ask', $s))->{structuredContent} || {};
    $ok++ if ($e->{requestState} // '') eq $STATE;
}
is($ok, 12, 'worker_processes 4: the state opens whichever worker serves');

# --- states that do not open ----------------------------------------------------

my $t = $s;
my $i = int(length($t) / 2);
substr($t, $i, 1) = substr($t, $i, 1) eq 'A' ? 'B' : 'A';
refused(retry('ask', $t), $t, 'a changed byte');
refused(retry('ask', $s . '-TAMPERED'), '', 'conformance: -TAMPERED appended');
refused(retry('ask', substr($s, 0, -4)), '', 'truncated');
refused(retry('ask', substr($s, 0, 20)), '', 'truncated below the header');
refused(retry('ask', '!!not base64!!'), '', 'garbage');
refused(retry('ask', ''), '', 'empty');
refused(retry('ask', $s . '='), '', 'padding added');
refused(retry('ask', 'round-1'), '', 'the backend state in clear');

$r = retry('other', $s);
refused($r, '', 'another tool');

$r = retry('ask', $s, method => 'prompts/get');
refused($r, '', 'another method (prompts/get of the same name)');

$r = retry('mrtr://ask', $s, method => 'resources/read');
refused($r, '', 'another method (resources/read)');

# --- prompts/get and resources/read -----------------------------------------------

my $ps = sealed('ask', method => 'prompts/get');
$r = retry('ask', $ps, method => 'prompts/get');
is(mcp_result($r)->{messages}[0]{content}{text}, 'done',
   'prompts/get: a sealed state opens for the prompt') or diag($r->{body});
refused(retry('ask', $ps), '', 'a prompt state for the tool');

my $rs = sealed('mrtr://ask', method => 'resources/read');
$r = retry('mrtr://ask', $rs, method => 'resources/read');
like(mcp_result($r)->{contents}[0]{text} // '', qr/round-1/,
     'resources/read: the backend gets its state back') or diag($r->{body});

# --- the caller ------------------------------------------------------------------

my $as = sealed('ask', path => '/auth', headers => [ 'X-API-Key' => $key_alice ]);
$r = retry('ask', $as, path => '/auth', headers => [ 'X-API-Key' => $key_alice ]);
is((mcp_result($r)->{structuredContent} || {})->{requestState}, $STATE,
   'alice: her own state opens');
refused(retry('ask', $as, path => '/auth', headers => [ 'X-API-Key' => $key_bob ]),
        '', 'another principal (bob, same tenant)');
refused(retry('ask', $s, path => '/auth', headers => [ 'X-API-Key' => $key_alice ]),
        '', "an anonymous caller's state presented by alice");
refused(retry('ask', $as), '', "alice's state presented anonymously");

# --- rotation: the first key seals, all open --------------------------------------

$r = retry('ask', $s, path => '/rotated');
is((mcp_result($r)->{structuredContent} || {})->{requestState}, $STATE,
   'rotation: a state of key A opens with keys B then A');
my $bs = sealed('ask', path => '/rotated');
refused(retry('ask', $bs), '', 'rotation: B seals, a location with A only refuses');
$r = retry('ask', $bs, path => '/b-only');
is((mcp_result($r)->{structuredContent} || {})->{requestState}, $STATE,
   'rotation: B opens what B sealed');

# --- expiry ------------------------------------------------------------------------

my $es = sealed('ask', path => '/short');
$r = retry('ask', $es, path => '/short');
is((mcp_result($r)->{structuredContent} || {})->{requestState}, $STATE,
   'valid=1s: opens at once');
sleep 2.2;
refused(retry('ask', $es, path => '/short'), '', 'valid=1s: expired after 2s');

# --- capabilities -------------------------------------------------------------------

$r = call('caps', caps => { sampling => {} });
my $res = mcp_result($r);
is_deeply([ sort keys %{ $res->{inputRequests} || {} } ], [ 's' ],
          'capabilities: only sampling is asked of a sampling client')
    or diag($r->{body});
is($res->{inputRequests}{s}{method}, 'sampling/createMessage',
   'capabilities: the sampling request kept whole');
like($res->{requestState} // '', qr/^[A-Za-z0-9_-]{40,}$/,
     'capabilities: the state still sealed');

$r = call('caps', caps => { roots => {}, elicitation => {} });
is_deeply([ sort keys %{ mcp_result($r)->{inputRequests} || {} } ], [ 'e', 'r' ],
          'capabilities: elicitation and roots');

$r = call('caps', caps => $ALL);
is(scalar keys %{ mcp_result($r)->{inputRequests} || {} }, 3,
   'capabilities: all three for a client that has them');

$r = call('caps', caps => {});
is($r->{status}, 400, 'no capability left: HTTP 400');
is($r->{json}{error}{code}, -32021, 'no capability left: -32021');
is_deeply($r->{json}{error}{data},
          { requiredCapabilities => { elicitation => {}, sampling => {}, roots => {} } },
          'no capability left: data.requiredCapabilities names them');

$r = call('ask', caps => { sampling => {} });
is($r->{json}{error}{code}, -32021, 'an elicitation for a sampling-only client: -32021');
is_deeply($r->{json}{error}{data}, { requiredCapabilities => { elicitation => {} } },
          '... requiredCapabilities: elicitation');

# --- inputResponses -----------------------------------------------------------------

$r = call('ask', responses => { q => 12345 });
is($r->{json}{error}{code}, -32602, 'an inputResponses member that is not an object');

# --- size ---------------------------------------------------------------------------

$r = call('big');
$res = mcp_result($r);
ok($res->{isError}, 'a state over 16384 bytes: a tool error') or diag(substr($r->{body}, 0, 300));
like($res->{content}[0]{text} // '', qr/requestState.*longer than 16384/,
     '... that says why');
unlike($r->{body}, qr/xxxxxxxx/, '... without the state');

my $ms = mcp_result(call('max'))->{requestState} // '';
ok(length $ms > 16384, 'a state of 16384 bytes is sealed');
$r = call('max', responses => $ANSWER, state => $ms);
is(mcp_result($r)->{resultType}, 'input_required',
   '... and opens (the backend answers round 1 again)') or diag(substr($r->{body}, 0, 300));

my $empty = sealed('empty');
ok(length $empty > 40, 'an empty state is sealed too');
$r = retry('empty', $empty);
is((mcp_result($r)->{structuredContent} || {})->{requestState}, '',
   '... and comes back empty') or diag($r->{body});

# --- nothing secret in the log --------------------------------------------------------

my $log = error_log_text();
unlike($log, qr/\Q$s\E/, 'error.log: no sealed state');
unlike($log, qr/round-1/, 'error.log: no backend state');
like($log, qr/requestState of a tools\/call for "ask" is invalid/,
     'error.log: the refusal, at info');

# --- two replicas: one key file -----------------------------------------------------------

my $t2 = start_instance($conf =~ s/worker_processes 4/worker_processes 1/r,
                        files => \%files);
my $p2 = $t2->{ports}{0};

# the same key content in both prefixes
open my $fh, '<', "$t1->{dir}/keys/a.key" or die;
my $akey = do { local $/; <$fh> };
close $fh;
open $fh, '<', "$t2->{dir}/keys/a.key" or die;
my $akey2 = do { local $/; <$fh> };
close $fh;
is($akey, $akey2, 'replicas: one key file');

$r = retry('ask', $s, port => $p2);
is((mcp_result($r)->{structuredContent} || {})->{requestState}, $STATE,
   'replicas: a state sealed by one nginx opens at the other');
my $s2 = sealed('ask', port => $p2);
$r = retry('ask', $s2);
is((mcp_result($r)->{structuredContent} || {})->{requestState}, $STATE,
   'replicas: and back');
stop_instance($t2);

# without mcp_state_key: a random key of each nginx
(my $nokey = $conf) =~ s/^\s*mcp_state_key keys\/a\.key;\n//m;
my $t3 = start_instance($nokey =~ s/worker_processes 4/worker_processes 2/r,
                        files => \%files);
my $s3 = sealed('ask', port => $t3->{ports}{0});
$r = retry('ask', $s3, port => $t3->{ports}{0});
is((mcp_result($r)->{structuredContent} || {})->{requestState}, $STATE,
   'no mcp_state_key: the workers of one nginx share a random key');
refused(retry('ask', $s3), '', 'no mcp_state_key: another nginx refuses its state');
stop_instance($t3);

stop_nginx();

# --- nginx -t -----------------------------------------------------------------------------

my $tpl = <<'EOF';
load_module %%MODULE%%;
events { }
http {
    mcp_server s { tool t { description "t"; text "t"; } }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass s; KEYLINE }
    }
}
EOF

my %kf = ('short.key' => ('k' x 31) . "\n", 'ok.key' => 'k' x 32,
          'big.key' => 'k' x 5000);
my $with = sub { (my $c = $tpl) =~ s/KEYLINE/$_[0]/; $c };

nginx_t_fails($with->('mcp_state_key missing.key;'),
              qr/missing\.key" failed/, name => 'nginx -t: a missing key file',
              files => \%kf);
nginx_t_fails($with->('mcp_state_key short.key;'),
              qr/holds 31 bytes, fewer than 32/,
              name => 'nginx -t: a key file of 31 bytes', files => \%kf);
nginx_t_fails($with->('mcp_state_key big.key;'),
              qr/larger than 4096 bytes/, name => 'nginx -t: a key file too large',
              files => \%kf);
nginx_t_fails($with->('mcp_state_key ok.key valid=never;'),
              qr/invalid "valid" value/, name => 'nginx -t: a bad valid=',
              files => \%kf);
nginx_t_fails($with->('mcp_state_key ok.key expires=1m;'),
              qr/invalid parameter "expires=1m"/,
              name => 'nginx -t: an unknown parameter', files => \%kf);
nginx_t_ok($with->('mcp_state_key ok.key valid=30s;'),
           name => 'nginx -t: a key file of 32 bytes', files => \%kf);

done_testing();
