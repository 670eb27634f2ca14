#!/usr/bin/perl
# The audit log (mcp_audit_log, audit_arguments; docs/directives.md, "Audit"),
# with 4 workers: the exact line of each event (calls of a tool, a resource
# and a prompt with their outcomes and backend target; a session's start and
# end; 401 and 403 refusals; a limit's refusal; each request of a batch)
# for API-key and JWT callers, arguments as a hash, in full (cut at 4 KB)
# and off; no session id, API key or token anywhere in the file; the keyed
# hash chain verified by scripts/audit-verify, which finds an edited byte,
# a removed line, two swapped lines, a forged line and a wrong key at the
# right line, and checks a rotated log after its predecessor or --prev;
# the chain goes on over a reload, stays one chain under concurrent load,
# and begins again (chain_start) with another key or a new nginx;
# buffered and syslog logs; nginx -t errors for a path that cannot be
# opened, bad keys and bad parameters.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;
use MCP::Auth;
use Digest::SHA qw(sha256_hex hmac_sha256_hex);
use IO::Socket::INET;
use JSON::XS;
use POSIX qw(_exit);
use Time::HiRes qw(sleep);

my $VERIFY = "$FindBin::Bin/../scripts/audit-verify";
my $JS = JSON::XS->new->allow_nonref;

sub js { return $JS->encode($_[0]) }

sub random_hex {
    my ($n) = @_;
    open my $fh, '<:raw', '/dev/urandom' or die "urandom: $!";
    my $bytes;
    read $fh, $bytes, $n;
    close $fh;
    return unpack "H*", $bytes;
}

my $keys = auth_keys();
my $key_alice = random_api_key();
my $keyfile = api_keys_file("$FindBin::Bin/tmp/133-api-keys",
                            [ $key_alice, 'alice', 'tools:read', 'acme' ]);
my $keytext = do { local (@ARGV, $/) = ($keyfile); <> };
my $chain_key = random_hex(32);                  # 64 bytes of text
my $key_id = substr(hmac_sha256_hex('ngx_http_mcp_module audit key id',
                                    $chain_key), 0, 16);

my %files = ('keys/jwks.json' => jwks_json(qw(rsa1)),
             'keys/api-keys' => $keytext,
             'audit.key' => "$chain_key\n");

my $conf = <<'EOF';
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 256; }
http {
    access_log off;
    large_client_header_buffers 4 32k;

    mcp_limit_zone once:1m key=$mcp_subject rate=1r/m;
    mcp_audit_log audit.log chain=audit.key;

    mcp_server shop {
        tool hello { description "Hello"; argument who string; text "hi"; }
        tool full {
            description "Full";
            argument note string; argument n integer; argument more string;
            audit_arguments full;
            text "ok";
        }
        tool quiet {
            description "Quiet";
            argument pin string;
            audit_arguments off;
            text "ok";
        }
        tool failing { description "Fails"; error "nope"; }
        tool anyfull {
            description "Any arguments";
            input_schema '{"type":"object"}';
            audit_arguments full;
            text "ok";
        }
        tool anyhash {
            description "Any arguments";
            input_schema '{"type":"object"}';
            text "ok";
        }
        tool echo { description "Echo"; pass /echo; }
        tool admin_only { description "Admin"; scope admin; text "x"; }
        resource docs://readme { name readme; text "read me"; }
        prompt greet {
            description "Greets";
            argument who required "Who";
            message user "Hello {who}";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        mcp_auth_jwt_issuer https://id.test;
        mcp_auth_jwt_audience https://mcp.test/mcp;
        mcp_auth_jwt_key_file keys/jwks.json;

        location = /mcp {
            mcp_pass shop;
            mcp_auth_jwt "shop";
            mcp_auth_api_keys keys/api-keys;
            mcp_tenant $mcp_claim_org;
        }
        location = /open { mcp_pass shop; }
        location = /limited {
            mcp_pass shop;
            mcp_auth_api_keys keys/api-keys;
            mcp_limit zone=once;
        }
        location = /unaudited { mcp_pass shop; mcp_audit_log off; }
        location = /echo {
            internal;
            default_type application/json;
            return 200 '{"ok":1}';
        }
    }
}
EOF

start_nginx($conf, files => \%files);

my $dir = testdir();
my $audit = "$dir/audit.log";

# ---------------------------------------------------------------------------
# helpers

sub file_lines {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return ();
    my @l = <$fh>;
    close $fh;
    chomp @l;
    return @l;
}

# the lines written since the last call: exactly $n, waited for (a worker
# writes its line after the answer is out)
my $seen = 0;

sub new_lines {
    my ($n, $name) = @_;
    my @l;
    for (1 .. 100) {
        @l = file_lines($audit);
        last if @l >= $seen + $n;
        sleep 0.05;
    }
    sleep 0.1 if $n == 0;
    @l = file_lines($audit);
    my @new = @l[$seen .. $#l];
    $seen = @l;
    is(scalar @new, $n, "$name: $n audit line" . ($n == 1 ? '' : 's'))
        or diag(join "\n", @new);
    return @new;
}

# a line with what varies from run to run made constant: T for the time,
# D the duration, X a trace id; the chain's members checked and dropped
sub canon {
    my ($l) = @_;
    $l =~ s/^\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/{"time":T/
        or return "no time: $l";
    $l =~ s/,"duration_ms":\d+,/,"duration_ms":D,/;
    $l =~ s/,"trace_id":"[0-9a-f]{32}"/,"trace_id":X/;
    $l =~ s/,"prev":"[0-9a-f]{64}","mac":"[0-9a-f]{64}"\}\z/}/
        or return "no chain: $l";
    return $l;
}

my @ORDER = qw(time event request_id session subject tenant client method
               entry arguments arguments_truncated arguments_sha256 outcome
               error status duration_ms target trace_id);

# the expected line: members as JSON text, null unless given
sub rec {
    my (%f) = @_;
    my %v = (time => 'T', duration_ms => 'D', trace_id => 'X',
             status => 200, %f);
    return '{' . join(',', map { "\"$_\":" . ($v{$_} // 'null') }
                           grep { exists $v{$_}
                                  || !/^arguments/ } @ORDER) . '}';
}

sub is_line {
    my ($line, $want, $name) = @_;
    is(canon($line // ''), $want, $name);
}

my $META = '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
         . '"io.modelcontextprotocol/clientCapabilities":{},'
         . '"io.modelcontextprotocol/clientInfo":'
         . '{"name":"mcp-test","version":"1.0.0"}}';
my $CLIENT = '{"name":"mcp-test","version":"1.0.0"}';

# a 2026 request whose body is written as it is (the arguments' text, in
# order): params name (or uri) and arguments
sub call {
    my ($path, $id, $method, $name, $args, @h) = @_;
    my $k = $method eq 'resources/read' ? 'uri' : 'name';
    my $body = '{"jsonrpc":"2.0","id":' . js($id) . ',"method":"' . $method
             . '","params":{"' . $k . '":' . js($name)
             . (defined $args ? ',"arguments":' . $args : '') . ",$META}}";
    return modern_post($method, { $k => $name }, body => $body, path => $path,
                       headers => \@h);
}

sub hash_of { return '{"sha256":"' . sha256_hex($_[0]) . '"}' }

my @ALICE = ('X-API-Key' => $key_alice);
my @A = (subject => '"alice"', tenant => '"acme"');

# a call by alice at /mcp and its one line: a call's, with %want
sub alice_call {
    my ($id, $method, $name, $args, $what, %want) = @_;
    my $r = call('/mcp', $id, $method, $name, $args, @ALICE);
    my ($line) = new_lines(1, $what);
    is_line($line, rec(event => '"call"', request_id => js($id), @A,
                       client => $CLIENT, method => js($method),
                       entry => js($name), %want), $what);
    return ($r, $line);
}

# ---------------------------------------------------------------------------
# calls

my $r = call('/mcp', 'h-1', 'tools/call', 'hello', '{"who":"bob"}', @ALICE);
is($r->{status}, 200, 'tools/call hello: 200');
my @l = new_lines(2, 'the first call');
like($l[0] // '', qr/^\{"time":"[^"]+","event":"chain_start","key_id":"$key_id","prev":"0{64}","mac":"[0-9a-f]{64}"\}$/,
     'a chain_start line first, with the key id and 64 zeros before it');
is_line($l[1], rec(event => '"call"', request_id => '"h-1"', @A,
                   client => $CLIENT, method => '"tools/call"',
                   entry => '"hello"', arguments => hash_of('{"who":"bob"}'),
                   outcome => '"ok"'),
        'tools/call: the call, its arguments as their SHA-256');

my $args = '{"note":"a\"b\n\u0001","n":5}';
($r) = alice_call(7, 'tools/call', 'full', $args,
                  'audit_arguments full: the arguments themselves, escaped',
                  arguments => $args, outcome => '"ok"');
is($r->{status}, 200, 'tools/call full: 200');

my ($x, $y) = ('x' x 3000, 'y' x 3000);
$args = qq({"note":"$x","more":"$y"});
alice_call(8, 'tools/call', 'full', $args,
           'audit_arguments full past 4 KB: the members that fit, and the '
           . 'hash',
           arguments => qq({"note":"$x"}), arguments_truncated => 'true',
           arguments_sha256 => '"' . sha256_hex($args) . '"',
           outcome => '"ok"');

my $line;
($r, $line) = alice_call(9, 'tools/call', 'quiet', '{"pin":"1234"}',
                         'audit_arguments off: no arguments member',
                         outcome => '"ok"');
unlike($line // '', qr/1234/, '... and not the value');

# every kind of value, an escaped key, an empty one, nesting: written
# compactly as received, and hashed as that text
$args = '{"t":true,"f":false,"z":null,"x":1.5e3,"i":-7,"o":{"a":[1,"b",{}]},'
      . '"k\\"ey":"v\\u00e9\\/","":"","u":"' . "\xc3\xa9" . '"}';
(my $compact = $args) =~ s{\\/}{/};
$compact =~ s{\\u00e9}{\xc3\xa9};
alice_call(17, 'tools/call', 'anyfull', $args,
           'audit_arguments full: every kind of value, written compactly',
           arguments => $compact, outcome => '"ok"');
alice_call(18, 'tools/call', 'anyhash', $args,
           'audit_arguments hash: the hash of that compact text',
           arguments => hash_of($compact), outcome => '"ok"');

alice_call(10, 'tools/call', 'hello', undef, 'no arguments: the hash of {}',
           arguments => hash_of('{}'), outcome => '"ok"');
alice_call(11, 'tools/call', 'failing', '{}',
           'a tool error: outcome tool_error',
           arguments => hash_of('{}'), outcome => '"tool_error"');
alice_call(12, 'tools/call', 'no"such', '{}',
           'an unknown tool: its error, the name escaped, no arguments read',
           outcome => '"-32602"', error => '"Unknown tool: no\"such"');
alice_call(13, 'tools/call', 'echo', '{}', 'a pass tool: its target',
           arguments => hash_of('{}'), outcome => '"ok"',
           target => '"/echo"');
alice_call(14, 'resources/read', 'docs://readme', undef,
           'resources/read: the uri, no arguments', outcome => '"ok"');
alice_call(15, 'prompts/get', 'greet', '{"who":"Ann"}',
           'prompts/get: its arguments hashed',
           arguments => hash_of('{"who":"Ann"}'), outcome => '"ok"');

# values the client chose, bounded
$r = modern_post('tools/call', { name => 'hello', arguments => {} },
                 id => 'i' x 200, headers => \@ALICE,
                 meta => { clientInfo => { name => "n\x{1}" . ('n' x 300),
                                           version => 'v' x 129 } });
is($r->{status}, 200, 'long values: 200');
@l = new_lines(1, 'long values');
is_line($l[0], rec(event => '"call"', request_id => '"' . ('i' x 128) . '"',
                   @A, client => '{"name":"n\u0001' . ('n' x 126)
                                 . '","version":"' . ('v' x 128) . '"}',
                   method => '"tools/call"', entry => '"hello"',
                   arguments => hash_of('{}'), outcome => '"ok"'),
        'long values: the id, the client\'s name and version cut to 128 '
        . 'bytes, a control character escaped');

modern_post('tools/list', {}, headers => \@ALICE);
modern_post('ping', {}, headers => \@ALICE);
new_lines(0, 'tools/list and ping');

call('/unaudited', 16, 'tools/call', 'hello', '{}');
new_lines(0, 'mcp_audit_log off');

call('/open', 17, 'tools/call', 'hello', '{}');
@l = new_lines(1, 'no caller');
is_line($l[0], rec(event => '"call"', request_id => 17, client => $CLIENT,
                   method => '"tools/call"', entry => '"hello"',
                   arguments => hash_of('{}'), outcome => '"ok"'),
        'a location without authentication: no subject, no tenant');

my $token = make_token(claims => { sub => 'bob', org => 'globex' });
call('/mcp', 18, 'tools/call', 'hello', '{}', Authorization => "Bearer $token");
@l = new_lines(1, 'a JWT caller');
is_line($l[0], rec(event => '"call"', request_id => 18, subject => '"bob"',
                   tenant => '"globex"', client => $CLIENT,
                   method => '"tools/call"', entry => '"hello"',
                   arguments => hash_of('{}'), outcome => '"ok"'),
        'a JWT caller: its subject and tenant');

# ---------------------------------------------------------------------------
# refusals

$r = call('/mcp', 20, 'tools/call', 'hello', '{}');
is($r->{status}, 401, 'no credentials: 401');
my $challenge = $r->{headers}{'www-authenticate'} // '';
@l = new_lines(1, '401');
is_line($l[0], rec(event => '"auth_failure"', error => js($challenge),
                   status => 401, trace_id => 'null'),
        'no credentials: auth_failure, the challenge as its error, no '
        . 'trace (the handler never ran)');

my $bad = random_api_key();
$r = call('/mcp', 21, 'tools/call', 'hello', '{}', 'X-API-Key' => $bad);
is($r->{status}, 401, 'a wrong API key: 401');
$challenge = $r->{headers}{'www-authenticate'} // '';
like($challenge, qr/error="invalid_token"/, '... invalid_token');
@l = new_lines(1, 'a wrong key');
is_line($l[0], rec(event => '"auth_failure"', error => js($challenge),
                   status => 401, trace_id => 'null'),
        'a wrong API key: auth_failure');

$r = call('/mcp', 22, 'tools/call', 'admin_only', '{}', @ALICE);
is($r->{status}, 403, 'an item the caller may not use: 403');
@l = new_lines(1, 'scope');
is_line($l[0], rec(event => '"auth_failure"', request_id => 22, @A,
                   client => $CLIENT, method => '"tools/call"',
                   entry => '"admin_only"', outcome => '"-32003"',
                   error => '"Forbidden: insufficient scope"',
                   status => 403),
        'insufficient scope: auth_failure, with the call it refused');

$r = call('/limited', 23, 'tools/call', 'hello', '{}', @ALICE);
is($r->{status}, 200, 'the first call of a limited caller: 200');
new_lines(1, 'admitted');
$r = call('/limited', 24, 'tools/call', 'hello', '{"who":"x"}', @ALICE);
is($r->{status}, 429, 'the second: 429');
@l = new_lines(1, 'a limit refusal');
is_line($l[0], rec(event => '"limit_refusal"', request_id => 24, @A,
                   client => $CLIENT, method => '"tools/call"',
                   entry => '"hello"', outcome => '"-32029"',
                   error => '"Rate limit exceeded"', status => 429),
        'a limit refusal: limit_refusal, -32029, 429');
$r = modern_post('tools/list', {}, path => '/limited', headers => \@ALICE);
is($r->{status}, 429, 'a refused tools/list: 429');
@l = new_lines(1, 'a refused list');
like($l[0] // '', qr/"event":"limit_refusal".*"method":"tools\/list"/,
     '... is a limit_refusal too');

# ---------------------------------------------------------------------------
# a session: its start, a call in it, its end

my $v = '2025-06-18';
$r = mcp_post({ jsonrpc => '2.0', id => 1, method => 'initialize',
                params => { protocolVersion => $v, capabilities => {},
                            clientInfo => { name => 'audit-client',
                                            version => '3.1' } } },
              @ALICE);
my $sid = $r->{headers}{'mcp-session-id'} // '';
ok($sid, 'initialize: a session');
my $digest = '"' . substr(sha256_hex($sid), 0, 16) . '"';
my $SC = '{"name":"audit-client","version":"3.1"}';
@l = new_lines(1, 'initialize');
is_line($l[0], rec(event => '"session_start"', request_id => 1,
                   session => $digest, @A, client => $SC,
                   method => '"initialize"', outcome => '"ok"'),
        'initialize: session_start, the session as its digest');

legacy_notify($sid, $v, 'notifications/initialized', undef,
              headers => \@ALICE);
legacy_post($sid, $v, 'tools/call', { name => 'hello',
                                      arguments => { who => 'x' } },
            id => 2, headers => \@ALICE);
@l = new_lines(1, 'a call in the session');
is_line($l[0], rec(event => '"call"', request_id => 2, session => $digest,
                   @A, client => $SC, method => '"tools/call"',
                   entry => '"hello"', arguments => hash_of('{"who":"x"}'),
                   outcome => '"ok"'),
        'a call in the session: its digest, the session\'s client');

$r = http('DELETE', '/mcp', headers => [ 'Mcp-Session-Id' => $sid,
                                         'MCP-Protocol-Version' => $v,
                                         @ALICE ]);
is($r->{status}, 204, 'DELETE: 204');
@l = new_lines(1, 'DELETE');
is_line($l[0], rec(event => '"session_end"', session => $digest, @A,
                   outcome => '"ok"', status => 204),
        'DELETE: session_end');

$r = http('DELETE', '/mcp', headers => [ 'Mcp-Session-Id' => $sid,
                                         'MCP-Protocol-Version' => $v,
                                         @ALICE ]);
is($r->{status}, 404, 'DELETE again: 404');
new_lines(0, 'a DELETE that ended nothing');

# a 2025-03-26 batch: each call its line, in order
my $sid2 = mcp_init('2025-03-26', headers => \@ALICE);
ok($sid2, '2025-03-26: a session');
new_lines(1, '2025-03-26 initialize');
$r = mcp_post([ { jsonrpc => '2.0', id => 31, method => 'tools/call',
                  params => { name => 'failing', arguments => {} } },
                { jsonrpc => '2.0', id => 32, method => 'tools/list' },
                { jsonrpc => '2.0', id => 33, method => 'tools/call',
                  params => { name => 'hello' } } ],
              'Mcp-Session-Id' => $sid2, @ALICE);
is($r->{status}, 200, 'a batch: 200');
@l = new_lines(2, 'a batch');
my $d2 = '"' . substr(sha256_hex($sid2), 0, 16) . '"';
my $MC = '{"name":"mcp-test","version":"1.0.0"}';
is_line($l[0], rec(event => '"call"', request_id => 31, session => $d2, @A,
                   client => $MC, method => '"tools/call"',
                   entry => '"failing"', arguments => hash_of('{}'),
                   outcome => '"tool_error"'),
        'a batch: its first call');
is_line($l[1], rec(event => '"call"', request_id => 33, session => $d2, @A,
                   client => $MC, method => '"tools/call"',
                   entry => '"hello"', arguments => hash_of('{}'),
                   outcome => '"ok"'),
        'a batch: its last call; the list between has no line');

# ---------------------------------------------------------------------------
# secrets, the chain

my $text = join "\n", file_lines($audit);
for my $s ([ 'the API key', $key_alice ], [ 'a wrong API key', $bad ],
           [ 'the bearer token', $token ], [ 'a session id', $sid ],
           [ 'another session id', $sid2 ], [ 'the chain key', $chain_key ])
{
    ok(index($text, $s->[1]) < 0, "no $s->[0] in the audit log");
}
unlike($text, qr/Bearer [A-Za-z0-9_-]{20}|X-API-Key|Mcp-Session-Id/i,
       'no credential header in the audit log');

my @bad = grep { ref(eval { decode_json($_) }) ne 'HASH' } file_lines($audit);
ok(!@bad, 'each line is one JSON object') or diag(join "\n", @bad);

sub verify {
    my (@args) = @_;
    my $out = `'$VERIFY' @args 2>&1`;
    return ($? >> 8, $out);
}

# audit-verify with these keys (the log's own by default) passes on it,
# finding $n chains
sub verified {
    my ($n, $what, @keys) = @_;
    @keys = ("$dir/audit.key") unless @keys;
    my ($rc, $out) = verify((map { ('--key', $_) } @keys), $audit);
    is($rc, 0, "$what: audit-verify passes") or diag($out);
    like($out, qr/\b$n chains?\b/, "$what: $n chain" . ($n == 1 ? '' : 's'));
    return $out;
}

# a call that begins a chain of the key $kid: chain_start, then the call
sub begins_chain {
    my ($path, $id, $kid, $what, @h) = @_;
    call($path, $id, 'tools/call', 'hello', '{}', @h);
    my @l = new_lines(2, $what);
    like($l[0] // '', qr/^\{"time":"[^"]+","event":"chain_start","key_id":"$kid","prev":"0{64}","mac":"[0-9a-f]{64}"\}$/,
         "$what: a chain_start line naming the key, from 64 zeros");
    like($l[1] // '', qr/"request_id":$id,/, "$what: then the call");
}

my $out = verified(1, 'the log');
my $rc;
my @all = file_lines($audit);
my ($last_mac) = $all[-1] =~ /"mac":"([0-9a-f]{64})"/;
like($out, qr/last mac $last_mac/, '... it names the last mac');

# tampering, each in a copy: found at the right line, with why
sub tampered {
    my ($name, $want, @lines) = @_;
    my $f = "$dir/tampered.log";
    open my $fh, '>:raw', $f or die "$f: $!";
    print $fh map { "$_\n" } @lines;
    close $fh;
    my ($rc, $out) = verify('--key', "$dir/audit.key", $f);
    is($rc, 1, "$name: audit-verify fails");
    like($out, $want, "$name: found where, and why") or diag($out);
}

my $k = 5;                     # line 5 (1-based), an ordinary call
my @t = @all;
$t[$k - 1] =~ s/"request_id":9/"request_id":8/ or die 'no id 9 on line 5';
tampered('one byte edited', qr/^audit-verify: line 5: edited/, @t);

@t = @all;
$t[$k - 1] =~ s/"outcome":"ok"/"outcome":"ko"/;
tampered('an outcome edited', qr/^audit-verify: line 5: edited/, @t);

@t = @all;
splice @t, $k - 1, 1;
tampered('a line removed', qr/^audit-verify: line 5: a line before it was removed/, @t);

@t = @all;
@t[$k - 1, $k] = @t[$k, $k - 1];
tampered('two lines swapped', qr/^audit-verify: line 5: reordered/, @t);

@t = @all;
splice @t, $k, 0, $all[$k - 1];
tampered('a line repeated', qr/^audit-verify: line 6: reordered or duplicated/, @t);

@t = @all;
splice @t, $k - 1, 0, canon($all[$k - 1]);
tampered('a line inserted', qr/^audit-verify: line 5: it is not a chained audit line/, @t);

@t = @all;
shift @t;
tampered('the chain_start removed', qr/^audit-verify: line 1: the chain does not begin here/, @t);

# a rotated log: the second part alone does not begin a chain; after the
# first, or after --prev, it verifies; lines a syslog server prefixed
write_file("$dir/part1.log", join '', map { "$_\n" } @all[0 .. 9]);
write_file("$dir/part2.log", join '', map { "$_\n" } @all[10 .. $#all]);
($rc, $out) = verify('--key', "$dir/audit.key", "$dir/part2.log");
like($out, qr/^audit-verify: line 1: the chain does not begin here/,
     'a rotated log alone: its chain does not begin in it');
($rc, $out) = verify('--key', "$dir/audit.key", "$dir/part1.log",
                     "$dir/part2.log");
is($rc, 0, '... after the file before it: verified') or diag($out);
my ($mac10) = $all[9] =~ /"mac":"([0-9a-f]{64})"/;
($rc, $out) = verify('--key', "$dir/audit.key", '--prev', $mac10,
                     "$dir/part2.log");
is($rc, 0, '... with --prev, the mac it continues: verified') or diag($out);
($rc, $out) = verify('--key', "$dir/audit.key", "$dir/part2.log",
                     "$dir/part1.log");
like($out, qr/^audit-verify: \S+part2.log:1: the chain does not begin here/,
     '... the files in the wrong order: the first line of the stream');
write_file("$dir/syslog.log",
           join '', map { "Nov  2 14:03:07 host mcp_audit: $_\n" } @all);
($rc, $out) = verify('--key', "$dir/audit.key", '--syslog',
                     "$dir/syslog.log");
is($rc, 0, 'lines with a syslog prefix: verified with --syslog')
    or diag($out);

my $other = "$dir/other.key";
write_file($other, random_hex(32));
($rc, $out) = verify('--key', $other, $audit);
is($rc, 1, 'another key: audit-verify fails');
like($out, qr/^audit-verify: line 1: it starts a chain with key $key_id, which no --key has/,
     '... at the chain_start, naming its key');

($rc, $out) = verify('--key', $other, '--key', "$dir/audit.key", $audit);
is($rc, 0, 'two keys, one the right one: verified') or diag($out);

# ---------------------------------------------------------------------------
# a reload continues the chain

my $before = scalar @all;
reload_nginx(workers => 4);
call('/mcp', 40, 'tools/call', 'hello', '{}', @ALICE);
@l = new_lines(1, 'after a reload');
like($l[0] // '', qr/"request_id":40,/, 'after a reload: the call');
like($l[0] // '', qr/"prev":"$last_mac"/, '... continues the last line');
verified(1, 'after a reload');

# ---------------------------------------------------------------------------
# concurrent calls over 4 workers: one chain

my ($clients, $each) = (8, 25);
my @pids;
for my $c (1 .. $clients) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        for my $i (1 .. $each) {
            call('/open', "c$c-$i", 'tools/call', 'hello', '{}');
        }
        _exit(0);
    }
    push @pids, $pid;
}
waitpid $_, 0 for @pids;
@l = new_lines($clients * $each, 'concurrent calls');
my %ids = map { /"request_id":"(c\d+-\d+)"/ ? ($1 => 1) : () } @l;
is(scalar keys %ids, $clients * $each, 'every concurrent call has its line');
verified(1, 'concurrent calls');

# a reload with another key begins a chain of that key

my $new_key = random_hex(40);
my $new_id = substr(hmac_sha256_hex('ngx_http_mcp_module audit key id',
                                    $new_key), 0, 16);
write_file("$dir/old.key", $chain_key);
write_file("$dir/audit.key", $new_key);
reload_nginx(workers => 4);
begins_chain('/mcp', 41, $new_id, 'a reload with another key', @ALICE);
verified(2, 'two keys', "$dir/old.key", "$dir/audit.key");
($rc, $out) = verify('--key', "$dir/audit.key", $audit);
like($out, qr/^audit-verify: line 1: it starts a chain with key $key_id/,
     '... with the new key alone, the old chain is unknown');

stop_nginx();

# ---------------------------------------------------------------------------
# nginx started anew: the file gets a new chain; a buffered log; syslog

my $udp = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1',
                                LocalPort => 0) or die "udp: $!";
my $uport = $udp->sockport;

my $conf2 = <<"EOF";
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;
    mcp_audit_log $audit chain=$dir/audit.key;
    mcp_server s { tool hello { description "Hi"; text "hi"; } }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass s; }
        location = /buffered {
            mcp_pass s;
            mcp_audit_log buffered.log buffer=64k flush=300ms;
        }
        location = /syslog {
            mcp_pass s;
            mcp_audit_log syslog:server=127.0.0.1:$uport,tag=mcp_audit;
        }
    }
}
EOF

start_nginx($conf2);
begins_chain('/mcp', 50, $new_id, 'nginx started anew');
verified(3, 'a chain more in the file', "$dir/old.key", "$dir/audit.key");

call('/buffered', 51, 'tools/call', 'hello', '{}');
my $buffered = testdir() . '/buffered.log';
my @b;
for (1 .. 60) { @b = file_lines($buffered); last if @b; sleep 0.05; }
is(scalar @b, 1, 'a buffered log: the line, after flush=');
is($b[0] =~ s/^\{"time":"[^"]+"/{"time":T/r
         =~ s/,"duration_ms":\d+,/,"duration_ms":D,/r
         =~ s/"trace_id":"[0-9a-f]{32}"/"trace_id":X/r,
   rec(event => '"call"', request_id => 51, client => $CLIENT,
       method => '"tools/call"', entry => '"hello"',
       arguments => hash_of('{}'), outcome => '"ok"'),
   '... without prev and mac');

call('/syslog', 52, 'tools/call', 'hello', '{}');
my $dgram = '';
my $sel = IO::Select->new($udp);
$udp->recv($dgram, 65536) if $sel->can_read(5);
like($dgram, qr/^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ mcp_audit: \{"time":"[^"]+","event":"call","request_id":52,/,
     'syslog: one datagram, a header, then the line');
unlike($dgram, qr/\n/, '... no newline');

stop_nginx();

# ---------------------------------------------------------------------------
# nginx -t

my $t_base = <<'EOF';
load_module %%MODULE%%;
events {}
http {
    mcp_server s {
        tool hello {
            description "Hi";
            ITEM
            text "hi";
        }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp {
            mcp_pass s;
            AUDIT
        }
    }
}
EOF

sub t_conf {
    my ($audit_line, $item) = @_;
    my $c = $t_base;
    $c =~ s/AUDIT/$audit_line/;
    $c =~ s{ITEM}{$item // ''}e;
    return $c;
}

my %tfiles = ('good.key' => random_hex(32), 'short.key' => "0123456789abcdef\n");

nginx_t_ok(t_conf('mcp_audit_log audit.log chain=good.key;'), files => \%tfiles,
           name => 'nginx -t: a chained log');
nginx_t_ok(t_conf('mcp_audit_log audit.log buffer=32k flush=1s;'),
           name => 'nginx -t: a buffered log');
nginx_t_ok(t_conf('mcp_audit_log syslog:server=127.0.0.1:514 chain=good.key;'),
           files => \%tfiles, name => 'nginx -t: syslog, chained');

nginx_t_fails(t_conf('mcp_audit_log /nonexistent-dir-133/audit.log; #<-'),
              qr/mcp_audit_log: open\(\) "\/nonexistent-dir-133\/audit.log" failed/,
              name => 'nginx -t: a path that cannot be opened');
nginx_t_fails(t_conf('mcp_audit_log audit.log chain=missing.key; #<-'),
              qr/cannot read the chain key: open\(\) ".*missing.key" failed/,
              name => 'nginx -t: a missing chain key');
nginx_t_fails(t_conf('mcp_audit_log audit.log chain=short.key; #<-'),
              qr/the chain key ".*short.key" has 16 bytes: 32 to 1024 are needed/,
              files => \%tfiles, name => 'nginx -t: a short chain key');
nginx_t_fails(t_conf('mcp_audit_log audit.log buffer=abc; #<-'),
              qr/invalid buffer size "abc"/, name => 'nginx -t: a bad buffer=');
nginx_t_fails(t_conf('mcp_audit_log audit.log flush=1s; #<-'),
              qr/no buffer is defined for mcp_audit_log "audit.log"/,
              name => 'nginx -t: flush= without buffer=');
nginx_t_fails(t_conf('mcp_audit_log audit.log buffer=8k flush=0; #<-'),
              qr/invalid flush time "0"/, name => 'nginx -t: a bad flush=');
nginx_t_fails(t_conf('mcp_audit_log audit.log chain=good.key buffer=8k; #<-'),
              qr/a chained log writes each line at once.*takes no "buffer="/,
              files => \%tfiles, name => 'nginx -t: chain= with buffer=');
nginx_t_fails(t_conf('mcp_audit_log syslog:server=127.0.0.1 buffer=8k; #<-'),
              qr/logs to syslog cannot be buffered/,
              name => 'nginx -t: a buffered syslog');
nginx_t_fails(t_conf('mcp_audit_log audit.log rotate=1d; #<-'),
              qr/invalid parameter "rotate=1d"/,
              name => 'nginx -t: an unknown parameter');
nginx_t_fails(t_conf('mcp_audit_log audit.log chain=; #<-'),
              qr/invalid parameter "chain="/, name => 'nginx -t: chain= empty');
nginx_t_fails(t_conf('mcp_audit_log off buffer=8k; #<-'),
              qr/invalid parameter "buffer=8k"/,
              name => 'nginx -t: off with a parameter');
nginx_t_fails(t_conf("mcp_audit_log a.log;\n        mcp_audit_log b.log; #<-"),
              qr/"mcp_audit_log" directive is duplicate/,
              name => 'nginx -t: two logs in one location');
nginx_t_fails(t_conf("access_log audit.log combined buffer=8k;\n        mcp_audit_log audit.log; #<-"),
              qr/is a buffered access_log's file as well/,
              name => 'nginx -t: a buffered access_log\'s file');
nginx_t_fails(t_conf('', 'audit_arguments everything; #<-'),
              qr/invalid value "everything" in "audit_arguments": hash, full or off/,
              name => 'nginx -t: audit_arguments with a bad value');
nginx_t_fails(t_conf('', 'audit_arguments full; audit_arguments off; #<-'),
              qr/"audit_arguments" is duplicate/,
              name => 'nginx -t: audit_arguments twice');
nginx_t_fails(t_conf('', 'audit_arguments; #<-'),
              qr/invalid number of arguments in "audit_arguments"/,
              name => 'nginx -t: audit_arguments without a value');

my $t_two = <<'EOF';
load_module %%MODULE%%;
events {}
http {
    mcp_server s { tool hello { description "Hi"; text "hi"; } }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /a { mcp_pass s; mcp_audit_log audit.log; }
        location = /b { mcp_pass s; mcp_audit_log audit.log buffer=8k; } #<-
    }
}
EOF
nginx_t_fails($t_two, qr/mcp_audit_log "audit.log" already defined with conflicting parameters/,
              name => 'nginx -t: one log, two sets of parameters');

done_testing();
