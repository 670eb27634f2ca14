#!/usr/bin/perl
# What a `redis` entry sends and answers (docs/BACKENDS.md, "Redis"): the
# reply mapping (strings and statuses as text; integers, nil, arrays,
# HGETALL as {"value": ...}; error replies as isError), arguments made of
# {name}, $variables and text, a resource template's variable in a key, a
# prompt; each argument stays one argument whatever it holds (CR LF,
# spaces, RESP, NUL, 1 MB), checked in Redis itself; db= and password=;
# max_size.  Real redis-servers run under the test (MCP::Redis).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Encode qw(encode_utf8);
use MCP::Redis;
use MCP::Test;

my $redis = MCP::Redis->new;
my $locked = MCP::Redis->new(password => 'Lock-Pw-9931');
my ($rport, $lport) = ($redis->port, $locked->port);

my $conf = <<'EOF';
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 256; }
http {
    access_log off;

    upstream cache { mcp_redis_server 127.0.0.1:RPORT; mcp_redis_keepalive 8; }
    upstream cache3 { mcp_redis_server 127.0.0.1:RPORT db=3; }
    upstream locked { mcp_redis_server 127.0.0.1:LPORT password=Lock-Pw-9931; }
    upstream locked_url { mcp_redis_server redis://:Lock-Pw-9931@127.0.0.1:LPORT/5; }

    mcp_server shop {
        name "redis-backend"; version 1.0.0;

        tool bump {
            description "Counter";
            argument name string required "Counter";
            redis cache INCR "counter:{name}";
        }
        tool get {
            description "GET";
            argument key string required "Key";
            redis cache GET "{key}";
        }
        tool set {
            description "SET";
            argument key string required "Key";
            argument value string required "Value";
            redis cache SET "{key}" "{value}";
        }
        tool profile {
            description "A user's hash, under the caller's tenant";
            argument id string required "User";
            redis cache HGETALL "t:$tenant:user:{id}";
        }
        tool header_key {
            description "A key from a request header and an argument";
            argument id string required "Id";
            redis cache SET "h:${http_x_shard}/{id}" "by ${http_x_shard}";
        }
        tool list {
            description "LRANGE";
            argument key string required "List";
            redis cache LRANGE "{key}" 0 -1;
        }
        tool board {
            description "ZRANGE WITHSCORES";
            redis cache ZRANGE board 0 -1 WITHSCORES;
        }
        tool nested {
            description "A script's nested table";
            redis cache EVAL "return {1, 'two', {3, {'four'}}, redis.status_reply('OK')}" 0;
        }
        tool not_int {
            description "An error reply";
            argument key string required "Key";
            redis cache INCR "{key}";
        }
        tool typed {
            description "Values of every JSON type";
            input_schema '{"type":"object","properties":{"n":{"type":"integer"},"x":{"type":"number"},"b":{"type":"boolean"},"o":{"type":"object"},"a":{"type":"array"},"s":{"type":"string"},"z":{"type":["string","null"]}}}';
            redis cache SET typed "{n}|{x}|{b}|{o}|{a}|{s}|{z}|$tenant";
        }
        tool big {
            description "max_size=1k";
            argument key string required "Key";
            redis cache GET "{key}" max_size=1k;
        }
        tool big_list {
            description "max_size=1k, JSON";
            argument key string required "Key";
            redis cache LRANGE "{key}" 0 -1 max_size=1k;
        }
        tool hget_all {
            description "HGETALL of any key";
            argument key string required "Key";
            redis cache HGETALL "{key}";
        }
        tool db3_get {
            description "GET in db 3";
            redis cache3 GET k;
        }
        tool db3_set {
            description "SET in db 3";
            argument v string required "Value";
            redis cache3 SET k "{v}";
        }
        tool locked_incr {
            description "A server with a password";
            redis locked INCR hits;
        }
        tool locked_url_set {
            description "A URL with a password and db 5";
            argument v string required "Value";
            redis locked_url SET k5 "{v}";
        }

        resource_template "kv://{key}" {
            name kv; mime_type text/plain;
            redis cache GET "res:{key}";
        }
        resource "kv://stats" {
            name stats;
            redis cache HGETALL stats;
        }
        prompt greet {
            description "A greeting from Redis";
            argument who required "Who";
            redis cache GET "greeting:{who}";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;
        client_max_body_size 8m;
        location = /mcp {
            set $tenant acme;
            mcp_pass shop;
            mcp_json_max_string 4m;
        }
        location = /mcp-small {
            set $tenant acme;
            mcp_pass shop;
            mcp_backend_max_size 100;
        }
    }
}
EOF
$conf =~ s/RPORT/$rport/g;
$conf =~ s/LPORT/$lport/g;

start_nginx($conf);

*call = \&mcp_tool_call;
*result = \&mcp_result;

sub tool {
    my ($name, $args, %o) = @_;
    return call(MODERN, $name, $args, %o);
}

# a tool's text and structuredContent, exactly
sub answers {
    my ($r, $text, $structured, $name) = @_;
    my $res = result($r);
    is($r->{status}, 200, "$name: HTTP 200");
    ok(!$res->{isError}, "$name: not an error") or diag($r->{body});
    my $items = $res->{content} || [];
    is(scalar @$items, 1, "$name: one content item");
    is($items->[0] && $items->[0]{text}, $text, "$name: the text");
    is_deeply($res->{structuredContent}, $structured,
              "$name: structuredContent") or diag($r->{body});
}

sub keys_now {
    my ($r) = @_;
    my $k = ($r || $redis)->command('KEYS', '*');
    return [ sort @$k ];
}

# --- the reply mapping -----------------------------------------------------

answers(tool('bump', { name => 'a' }), '{"value":1}', { value => 1 }, 'INCR');
answers(tool('bump', { name => 'a' }), '{"value":2}', { value => 2 }, 'INCR again');
is($redis->command('GET', 'counter:a'), '2', 'INCR: counter:a in Redis');

answers(tool('set', { key => 'greeting', value => 'hello' }), 'OK', undef,
        'SET: the status as text');
answers(tool('get', { key => 'greeting' }), 'hello', undef, 'GET: the string');
answers(tool('get', { key => 'no-such-key' }), '{"value":null}',
        { value => undef }, 'GET of nothing: null');

$redis->command('HSET', 't:acme:user:7', 'name', 'Ann', 'plan', 'pro');
{
    my $r = tool('profile', { id => '7' });
    my $text = mcp_tool_text($r) // '';
    is_deeply(result($r)->{structuredContent},
              { value => { name => 'Ann', plan => 'pro' } },
              'HGETALL: an object of field => value') or diag($r->{body});
    like($text, qr/^\{"value":\{"(?:name":"Ann","plan":"pro|plan":"pro","name":"Ann)"\}\}$/,
         'HGETALL: the text');
}
answers(tool('profile', { id => 'nobody' }), '{"value":{}}', { value => {} },
        'HGETALL of nothing: an empty object');

$redis->command('RPUSH', 'l1', 'x', 'y', '', '3');
answers(tool('list', { key => 'l1' }), '{"value":["x","y","","3"]}',
        { value => ['x', 'y', '', '3'] }, 'LRANGE: an array of strings');
answers(tool('list', { key => 'l-none' }), '{"value":[]}', { value => [] },
        'LRANGE of nothing: an empty array');

$redis->command('ZADD', 'board', '10', 'bob', '2.5', 'amy');
answers(tool('board'), '{"value":["amy","2.5","bob","10"]}',
        { value => ['amy', '2.5', 'bob', '10'] },
        'ZRANGE WITHSCORES: members and scores as Redis sends them');

answers(tool('nested'), '{"value":[1,"two",[3,["four"]],"OK"]}',
        { value => [1, 'two', [3, ['four']], 'OK'] }, 'nested arrays');

$redis->command('SET', 'word', 'abc');
mcp_tool_error_is(tool('not_int', { key => 'word' }),
                  'Redis error: ERR value is not an integer or out of range',
                  'an error reply');
$redis->command('RPUSH', 'alist', 'a');
mcp_tool_error_is(tool('not_int', { key => 'alist' }),
                  'Redis error: WRONGTYPE Operation against a key holding the wrong kind of value',
                  'WRONGTYPE');

# big integers stay exact (as strings past 2^53)
$redis->command('SET', 'counter:huge', '9007199254740992');
answers(tool('bump', { name => 'huge' }), '{"value":"9007199254740993"}',
        { value => '9007199254740993' }, 'an integer past 2^53: a string');
$redis->command('SET', 'counter:neg', '-11');
answers(tool('bump', { name => 'neg' }), '{"value":-10}', { value => -10 },
        'a negative integer');

# binary bytes: valid JSON whatever they are
$redis->command('SET', 'bin', "ok\xff\xfe\x00\x01end");
{
    my $r = tool('get', { key => 'bin' });
    is($r->{status}, 200, 'binary string: HTTP 200');
    ok(json_decode($r->{body}), 'binary string: the answer is valid JSON');
    is(mcp_tool_text($r), "ok\x{fffd}\x{fffd}\x{0}\x{1}end",
       'binary string: invalid UTF-8 replaced, the rest kept');
}
$redis->command('HSET', 'hbin', "f\xff", 'v', 'g', "w\xc3\x28\n");
{
    my $r = tool('hget_all', { key => 'hbin' });
    ok(json_decode($r->{body}), 'binary hash: valid JSON') or diag($r->{body});
    my $v = result($r)->{structuredContent}{value};
    is(ref $v, 'ARRAY', 'binary hash: a field that is not UTF-8 keeps the flat array');
    is(scalar @{ $v || [] }, 4, 'binary hash: four elements');
}

# --- values of every JSON type, a variable, absent and null ------------------

answers(tool('typed', { n => 42, x => 1.25, b => JSON::XS::true,
                        o => { k => [1, 'v'] }, a => [1, 2], z => undef }),
        'OK', undef, 'typed values');
is($redis->command('GET', 'typed'), '42|1.25|true|{"k":[1,"v"]}|[1,2]|||acme',
   'typed values: as written, JSON text, absent and null empty, $tenant');

# --- one argument whatever it holds ------------------------------------------

{
    my $before = keys_now();
    my @cases = (
        [ "crlf\r\nkey", "line1\r\nline2\r\n" ],
        [ 'spaced key here', 'a b  c' ],
        [ 'resp', "*3\r\n\$3\r\nSET\r\n\$4\r\nevil\r\n\$1\r\n1\r\n" ],
        [ "nul\x00key", "v\x00al\x00" ],
        [ 'inline', "SET evil2 1\r\nFLUSHALL\r\n" ],
        [ '{name}', '$tenant ${tenant} {key}' ],
    );
    for my $c (@cases) {
        (my $label = $c->[0]) =~ s/[^ -~]/./g;
        my $r = tool('set', { key => $c->[0], value => $c->[1] });
        is(mcp_tool_text($r), 'OK', "injection \"$label\": SET answered OK")
            or diag($r->{body});
        is($redis->command('GET', $c->[0]), $c->[1],
           "injection \"$label\": the exact value under the exact key");
    }
    my $after = keys_now();
    my %new = map { $_ => 1 } @$after;
    delete $new{$_} for @$before;
    is_deeply([ sort keys %new ], [ sort map { $_->[0] } @cases ],
              'injection: exactly the keys written, no other')
        or diag(join ', ', map { s/[^ -~]/./gr } sort keys %new);
    ok(!defined $redis->command('GET', 'evil') && !defined $redis->command('GET', 'evil2'),
       'injection: no key "evil", "evil2"');

    # GET gives each back the same way
    my $r = tool('get', { key => "crlf\r\nkey" });
    is(mcp_tool_text($r), "line1\r\nline2\r\n", 'GET of a key with CR LF');
    $r = tool('get', { key => "nul\x00key" });
    is(mcp_tool_text($r), "v\x00al\x00", 'GET of a key with NUL');
}

{
    my $mb = join '', map { chr(32 + $_ % 90) } 1 .. 1024 * 1024;
    my $r = tool('set', { key => 'megabyte', value => $mb });
    is(mcp_tool_text($r), 'OK', '1 MB value: SET') or diag(substr $r->{body}, 0, 300);
    my $got = $redis->command('GET', 'megabyte');
    is(length($got // ''), 1024 * 1024, '1 MB value: its length in Redis');
    ok(defined $got && $got eq $mb, '1 MB value: the same bytes');
    $r = tool('get', { key => 'megabyte' });
    ok(!result($r)->{isError} && (mcp_tool_text($r) // '') eq $mb,
       '1 MB value: GET gives it back whole (exactly mcp_backend_max_size)');
    $redis->command('APPEND', 'megabyte', 'z');
    mcp_tool_error_is(tool('get', { key => 'megabyte' }),
                      'The reply of Redis upstream "cache" is larger than 1048576 bytes (max_size)',
                      'one byte more than mcp_backend_max_size (1m)');
}

# --- nginx variables: set and a header ---------------------------------------

{
    my $r = tool('header_key', { id => "7 8" }, headers => [ 'X-Shard' => 'eu-1' ]);
    is(mcp_tool_text($r), 'OK', '$http_x_shard: SET');
    is($redis->command('GET', 'h:eu-1/7 8'), 'by eu-1',
       '${http_x_shard} in a key and in a value');
    $r = tool('header_key', { id => 'x' });
    is($redis->command('GET', 'h:/x'), 'by ', 'a variable without a value: empty');
}

# --- resources and prompts ---------------------------------------------------

$redis->command('SET', 'res:motd', "Welcome\nback");
{
    my $r = modern_post('resources/read', { uri => 'kv://motd' });
    my $c = $r->{json}{result}{contents} || [];
    is_deeply($c, [ { uri => 'kv://motd', mimeType => 'text/plain',
                      text => "Welcome\nback" } ],
              'a template variable in a key: the string as text/plain')
        or diag($r->{body});
    $r = modern_post('resources/read', { uri => 'kv://none' });
    is($r->{json}{error} && $r->{json}{error}{code}, -32602,
       'a missing key: resource not found (-32602 in 2026)') or diag($r->{body});
}
$redis->command('HSET', 'stats', 'hits', '12');
{
    my $r = modern_post('resources/read', { uri => 'kv://stats' });
    is_deeply($r->{json}{result}{contents},
              [ { uri => 'kv://stats', mimeType => 'application/json',
                  text => '{"value":{"hits":"12"}}' } ],
              'a resource: JSON as application/json') or diag($r->{body});
}
$redis->command('SET', 'greeting:ann', 'Hi Ann!');
{
    my $r = modern_post('prompts/get', { name => 'greet', arguments => { who => 'ann' } });
    my $m = $r->{json}{result}{messages} || [];
    is_deeply($m, [ { role => 'user', content => { type => 'text', text => 'Hi Ann!' } } ],
              'a prompt: one user message') or diag($r->{body});
}

# --- max_size ----------------------------------------------------------------

$redis->command('SET', 'k1000', 'x' x 1000);
$redis->command('SET', 'k1100', 'x' x 1100);
answers(tool('big', { key => 'k1000' }), 'x' x 1000, undef, 'max_size=1k: 1000 bytes pass');
mcp_tool_error_is(tool('big', { key => 'k1100' }),
                  'The reply of Redis upstream "cache" is larger than 1024 bytes (max_size)',
                  'max_size=1k: 1100 bytes');
$redis->command('RPUSH', 'biglist', ('abcdefghij') x 90);
mcp_tool_error_is(tool('big_list', { key => 'biglist' }),
                  'The reply of Redis upstream "cache" is larger than 1024 bytes (max_size)',
                  'max_size=1k: an array over it');
$redis->command('RPUSH', 'smalllist', ('abcdefghij') x 60);
ok(!result(tool('big_list', { key => 'smalllist' }))->{isError},
   'max_size=1k: an array under it');
mcp_tool_error_is(tool('get', { key => 'k1000' }, path => '/mcp-small'),
                  'The reply of Redis upstream "cache" is larger than 100 bytes (max_size)',
                  'mcp_backend_max_size of the location');

# --- db= and password= -------------------------------------------------------

answers(tool('db3_set', { v => 'three' }), 'OK', undef, 'db=3: SET');
is($redis->command('GET', 'k'), undef, 'db=3: nothing in db 0');
is($redis->cli('-n', '3', 'GET', 'k'), 'three', 'db=3: the value in db 3');
answers(tool('db3_get'), 'three', undef, 'db=3: GET');

answers(tool('locked_incr'), '{"value":1}', { value => 1 }, 'password=: INCR');
is($locked->command('GET', 'hits'), '1', 'password=: in Redis');
answers(tool('locked_url_set', { v => 'five' }), 'OK', undef, 'redis://:pw@/5: SET');
is($locked->cli('-n', '5', 'GET', 'k5'), 'five', 'redis://:pw@/5: the value in db 5');

# nothing lost on the way: the counters again, on both workers
{
    my $n = 0;
    $n++ for grep { mcp_tool_text(tool('bump', { name => 'many' })) =~ /^\{"value":\d+\}$/ } 1 .. 20;
    is($n, 20, 'twenty INCRs answered');
    is($redis->command('GET', 'counter:many'), '20', 'twenty INCRs in Redis');
}

my $dir = testdir();
stop_nginx();
my $log = do { local $/; open my $fh, '<', "$dir/error.log" or die; <$fh> };
unlike($log, qr/Lock-Pw-9931/, 'no password in the error log');

done_testing();
