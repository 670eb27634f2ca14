#!/usr/bin/perl
# Redis upstreams and `redis` entries in the configuration: nginx -t names
# the file and the line of each mistake (an unknown upstream, one without
# mcp_redis_server, an undeclared {name}, a command that is not literal,
# refused commands, a blocking command without a literal timeout, bad
# options, bad server lines, rediss://), never shows a password, and
# takes the issue's example as it is written.  Nothing here needs a
# running Redis: nginx does not connect at configuration time.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;

# the configuration around upstream blocks and one mcp_server body; the
# line marked "#<-" is the line the error must name
sub conf {
    my (%o) = @_;
    my $upstream = $o{upstream} // <<'EOT';
    upstream cache {
        mcp_redis_server 127.0.0.1:6379;
        mcp_redis_keepalive 8;
    }
EOT
    my $body = $o{body} // <<'EOT';
        tool bump {
            description "Counter";
            argument name string required "Counter";
            redis cache INCR "counter:{name}";
        }
        tool profile {
            description "A user";
            argument id string required "User";
            redis cache HGETALL "t:$mcp_tenant:user:{id}";
        }
EOT
    return <<"EOF";
load_module %%MODULE%%;
events { }
http {
    access_log off;
$upstream
    upstream web { server 127.0.0.1:8080; }
    upstream app_db { mcp_postgres_server 127.0.0.1:5432 dbname=app; }

    mcp_server shop {
$body
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass shop; }
    }
}
EOF
}

sub lines_of {
    my ($conf) = @_;
    my @l = split /\n/, $conf;
    return map { $_ + 1 } grep { $l[$_] =~ /#<-/ } 0 .. $#l;
}

sub fails {
    my ($name, $conf, $re) = @_;
    my @lines = lines_of($conf);
    die "$name: no marker\n" unless @lines;
    my $line = @lines == 1 ? $lines[0] : '(?:' . join('|', @lines) . ')';
    return nginx_t_fails($conf, $re, name => $name, line => $line);
}

sub tool_with {
    my ($redis) = @_;
    return <<"EOT";
        tool t1 {
            description "A tool";
            argument id string required "Id";
            $redis #<-
        }
EOT
}

sub ok_with {
    my ($name, $redis) = @_;
    nginx_t_ok(conf(body => tool_with($redis) =~ s/ #<-//r), name => $name);
}

my $emerg = qr/\[emerg\]/;

# --- what is valid -------------------------------------------------------------

nginx_t_ok(conf(), name => "the issue's example is valid");

ok_with('literal text, {name}, $var and ${var} in arguments',
        'redis cache SET "k:{id}:${remote_addr}x" "$request_id-{id}-{id}" EX 60;');
ok_with('a "{" that opens no name and a "$" that names no variable are text',
        'redis cache EVAL "return {1,2} .. $1 .. {}" 0 "{id}";');
ok_with('timeout= and max_size= last', 'redis cache GET "{id}" timeout=2s max_size=64k;');
ok_with('a command in lower case', 'redis cache hgetall "{id}";');
ok_with('BLPOP with a literal timeout', 'redis cache BLPOP "q:{id}" 2;');
ok_with('BRPOP with a fraction of a second', 'redis cache BRPOP "q:{id}" 0.5;');
ok_with('BLMPOP with its timeout first', 'redis cache BLMPOP 3 1 "q:{id}" LEFT;');
ok_with('WAIT with milliseconds', 'redis cache WAIT 0 100;');
ok_with('XREAD with BLOCK and values after STREAMS',
        'redis cache XREAD COUNT "{id}" BLOCK 100 STREAMS "s:{id}" $;');
ok_with('XREAD without BLOCK', 'redis cache XREAD COUNT 5 STREAMS "s:{id}" 0;');
ok_with('XREADGROUP with GROUP names from values',
        'redis cache XREADGROUP GROUP "{id}" "{id}" BLOCK 50 STREAMS s ">";');
nginx_t_ok(conf(body => <<'EOT'), name => 'in a resource_template, a resource and a prompt');
        resource_template "kv://{key}" {
            name kv;
            redis cache GET "{key}";
        }
        resource "kv://stats" {
            name stats;
            redis cache HGETALL stats;
        }
        prompt greet {
            description "Greets";
            argument who required "Who";
            redis cache GET "greeting:{who}";
        }
EOT

# --- the upstream --------------------------------------------------------------

fails('an unknown upstream', conf(body => tool_with('redis nosuch GET "{id}";')),
      qr/$emerg.*no upstream "nosuch" with "mcp_redis_server" for "redis" of "t1"/);
fails('an HTTP upstream', conf(body => tool_with('redis web GET "{id}";')),
      qr/$emerg.*no upstream "web" with "mcp_redis_server"/);
fails('a PostgreSQL upstream', conf(body => tool_with('redis app_db GET "{id}";')),
      qr/$emerg.*no upstream "app_db" with "mcp_redis_server"/);
fails('an unknown upstream in a resource', conf(body => <<'EOT'),
        resource "kv://stats" {
            name stats;
            redis stats_cache HGETALL stats; #<-
        }
EOT
      qr/$emerg.*stats_cache/);

# --- names ---------------------------------------------------------------------

fails('an undeclared {name}', conf(body => tool_with('redis cache GET "user:{uid}";')),
      qr/$emerg.*"redis" of "t1" uses "\{uid\}", which is not an argument or variable it declares/);
fails('an undeclared {name} in a later argument',
      conf(body => tool_with('redis cache SET "{id}" "{value}";')),
      qr/$emerg.*uses "\{value\}"/);
fails('a template variable that the template does not have', conf(body => <<'EOT'),
        resource_template "kv://{key}" {
            name kv;
            redis cache GET "{id}"; #<-
        }
EOT
      qr/$emerg.*uses "\{id\}"/);
fails('a prompt argument that the prompt does not declare', conf(body => <<'EOT'),
        prompt greet {
            description "Greets";
            argument who required "Who";
            redis cache GET "greeting:{whom}"; #<-
        }
EOT
      qr/$emerg.*uses "\{whom\}"/);
fails('an empty ${}', conf(body => tool_with('redis cache GET "a${}b";')),
      qr/$emerg.*invalid variable name/);
fails('an unclosed ${', conf(body => tool_with('redis cache GET "a${id";')),
      qr/$emerg.*invalid variable name/);

# --- the command ---------------------------------------------------------------

fails('a command from an argument', conf(body => tool_with('redis cache "{id}" k;')),
      qr/$emerg.*invalid Redis command "\{id\}".*literal word/);
fails('a command from a variable', conf(body => tool_with('redis cache $arg_cmd k;')),
      qr/$emerg.*invalid Redis command "\$arg_cmd"/);
fails('an empty command', conf(body => tool_with('redis cache "" k;')),
      qr/$emerg.*invalid Redis command ""/);
fails('a command with a space', conf(body => tool_with('redis cache "GET k" k;')),
      qr/$emerg.*invalid Redis command "GET k"/);
fails('no command', conf(body => tool_with('redis cache;')),
      qr/$emerg.*invalid number of arguments in "redis"/);

my %why = map { $_ => 'it does not answer a call with one reply' }
          qw(SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE
             SUNSUBSCRIBE MONITOR SYNC PSYNC REPLCONF);
$why{$_} = 'it would change the state of a pooled connection that other calls share'
    for qw(QUIT RESET HELLO AUTH SELECT CLIENT MULTI EXEC DISCARD WATCH UNWATCH);

for my $cmd (sort keys %why) {
    my $word = $cmd eq 'SELECT' ? 'select' : $cmd eq 'CLIENT' ? 'Client' : $cmd;
    fails("$word is refused", conf(body => tool_with("redis cache $word x;")),
          qr/$emerg.*the Redis command "\Q$word\E" cannot be used in "redis": \Q$why{$cmd}\E/);
}

# --- blocking commands ---------------------------------------------------------

for my $case (
    [ 'BLPOP without a timeout', 'redis cache BLPOP "q:{id}";', 'BLPOP', 'last', 'seconds' ],
    [ 'BLPOP with 0 (for ever)', 'redis cache BLPOP q 0;', 'BLPOP', 'last', 'seconds' ],
    [ 'BLPOP with a timeout from an argument', 'redis cache BLPOP q "{id}";',
      'BLPOP', 'last', 'seconds' ],
    [ 'BRPOP with a variable', 'redis cache BRPOP q $arg_t;', 'BRPOP', 'last', 'seconds' ],
    [ 'BRPOP with less than a millisecond', 'redis cache BRPOP q 0.0009;',
      'BRPOP', 'last', 'seconds' ],
    [ 'BRPOP with a negative timeout', 'redis cache BRPOP q -1;', 'BRPOP', 'last', 'seconds' ],
    [ 'BLMOVE with more than a day', 'redis cache BLMOVE a b LEFT RIGHT 86401;',
      'BLMOVE', 'last', 'seconds' ],
    [ 'BRPOPLPUSH with a word', 'redis cache BRPOPLPUSH a b soon;',
      'BRPOPLPUSH', 'last', 'seconds' ],
    [ 'BZPOPMIN with 0', 'redis cache BZPOPMIN z 0;', 'BZPOPMIN', 'last', 'seconds' ],
    [ 'BZPOPMAX with "1s"', 'redis cache BZPOPMAX z 1s;', 'BZPOPMAX', 'last', 'seconds' ],
    [ 'BLMPOP with 0 first', 'redis cache BLMPOP 0 1 q LEFT;', 'BLMPOP', 'first', 'seconds' ],
    [ 'BZMPOP with an argument first', 'redis cache BZMPOP "{id}" 1 z MIN;',
      'BZMPOP', 'first', 'seconds' ],
    [ 'WAIT with 0', 'redis cache WAIT 1 0;', 'WAIT', 'second', 'milliseconds' ],
    [ 'WAIT without a timeout', 'redis cache WAIT 1;', 'WAIT', 'second', 'milliseconds' ],
    [ 'WAITAOF with 0', 'redis cache WAITAOF 1 0 0;', 'WAITAOF', 'third', 'milliseconds' ],
    [ 'WAIT with seconds', 'redis cache WAIT 1 0.5;', 'WAIT', 'second', 'milliseconds' ],
)
{
    my ($name, $line, $cmd, $pos, $unit) = @$case;
    fails($name, conf(body => tool_with($line)),
          qr/$emerg.*the blocking Redis command "$cmd" in "redis" needs a literal positive timeout of at most a day \(its $pos argument, in $unit\)/);
}

for my $case (
    [ 'XREAD with BLOCK 0', 'redis cache XREAD BLOCK 0 STREAMS s $;' ],
    [ 'XREAD with BLOCK from an argument', 'redis cache XREAD BLOCK "{id}" STREAMS s $;' ],
    [ 'XREADGROUP with BLOCK last', 'redis cache XREADGROUP GROUP g c BLOCK;' ],
)
{
    fails($case->[0], conf(body => tool_with($case->[1])),
          qr/$emerg.*with BLOCK in "redis" needs a literal positive time after BLOCK, in milliseconds/);
}

fails('XREAD with an option from an argument (it could be BLOCK)',
      conf(body => tool_with('redis cache XREAD "{id}" 100 STREAMS s $;')),
      qr/$emerg.*the options of "XREAD" in "redis" before STREAMS must be literal words/);

# --- options -------------------------------------------------------------------

for my $case ([ 'timeout=soon', 'timeout not a time' ],
              [ 'timeout=', 'timeout empty' ],
              [ 'timeout=0', 'timeout zero' ],
              [ 'max_size=lots', 'max_size not a size' ],
              [ 'max_size=', 'max_size empty' ],
              [ 'timeout=1s timeout=2s', 'timeout twice' ])
{
    my ($opt, $name) = @$case;
    fails("redis $opt: $name", conf(body => tool_with(qq(redis cache GET "{id}" $opt;))),
          qr/$emerg.*invalid or duplicate parameter "timeout=|$emerg.*invalid or duplicate parameter "max_size=/);
}

fails('two redis lines in one tool', conf(body => <<'EOT'), qr/$emerg.*duplicate "redis"/);
        tool t1 {
            description "A tool";
            redis cache GET a;
            redis cache GET b; #<-
        }
EOT

fails('redis and postgres in one tool', conf(body => <<'EOT'), qr/$emerg.*a second backend, "redis"/);
        tool t1 {
            description "A tool";
            postgres app_db "SELECT 1";
            redis cache GET b; #<-
        }
EOT

fails('redis and a static result in one tool', conf(body => <<'EOT'),
        tool t1 {
            description "A tool";
            text "static";
            redis cache GET b;
        } #<-
EOT
      qr/$emerg.*tool "t1" has both "redis" and a static result/);

# --- the server line and the upstream ------------------------------------------

sub server_line {
    my ($name, $line, $re) = @_;
    my $c = conf(upstream => <<"EOT");
    upstream cache {
        $line #<-
    }
EOT
    my $out = fails($name, $c, $re);
    unlike($out, qr/Sekr1t-77/, "$name: the password is not shown");
}

server_line('an unknown word', 'mcp_redis_server 127.0.0.1:6379 password=Sekr1t-77 pass=x;',
            qr/$emerg.*"mcp_redis_server" directive has an unknown parameter/);
server_line('a password without its key', 'mcp_redis_server 127.0.0.1:6379 Sekr1t-77;',
            qr/$emerg.*"mcp_redis_server" directive has an unknown parameter/);
server_line('db= not a number', 'mcp_redis_server 127.0.0.1:6379 db=two password=Sekr1t-77;',
            qr/$emerg.*"mcp_redis_server" directive has an invalid "db="/);
server_line('connect_timeout=0', 'mcp_redis_server 127.0.0.1:6379 connect_timeout=0;',
            qr/$emerg.*"mcp_redis_server" directive has an invalid "connect_timeout="/);
server_line('user= without password=', 'mcp_redis_server 127.0.0.1:6379 user=app;',
            qr/$emerg.*"mcp_redis_server" directive has "user=" without "password="/);
server_line('max_fails= not a number', 'mcp_redis_server 127.0.0.1:6379 max_fails=many;',
            qr/$emerg.*invalid parameter "max_fails=many"/);
server_line('rediss://', 'mcp_redis_server rediss://:Sekr1t-77@127.0.0.1:6380/0;',
            qr/$emerg.*"mcp_redis_server" directive cannot use TLS \(rediss:\/\/\)/);
server_line('a URL with a bad database', 'mcp_redis_server redis://:Sekr1t-77@127.0.0.1:6379/x;',
            qr/$emerg.*"mcp_redis_server" directive has an invalid database number in its URL/);
server_line('a URL without a host', 'mcp_redis_server redis://:Sekr1t-77@/0;',
            qr/$emerg.*"mcp_redis_server" directive has no host in its URL/);
server_line('an address that is not one', 'mcp_redis_server 127.0.0.1:99999;',
            qr/$emerg.*invalid port/);
server_line('mcp_redis_keepalive 0', 'mcp_redis_server 127.0.0.1; mcp_redis_keepalive 0;',
            qr/$emerg.*value must be between 1 and 1000/);

{
    my $c = conf(upstream => <<'EOT');
    upstream cache {
        server 127.0.0.1:8080;
        mcp_redis_server 127.0.0.1:6379; #<-
    }
EOT
    fails('mcp_redis_server after server', $c,
          qr/$emerg.*"mcp_redis_server" directive cannot be mixed with "server"/);
}

done_testing();
