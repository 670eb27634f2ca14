#!/usr/bin/perl
# PostgreSQL upstreams and `postgres` entries in the configuration: nginx -t
# names the file and the line of each mistake (an unknown upstream, an
# upstream that is not PostgreSQL, placeholders that do not match the
# values, an undeclared argument, a malformed server line, bad options), and
# takes the issue's example as it is written.  Nothing here needs a running
# database: nginx neither connects at configuration time nor to start.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;

# the configuration around an upstream block and one mcp_server body; the
# line marked "#<-" is the line the error must name
sub conf {
    my (%o) = @_;
    my $upstream = $o{upstream} // <<'EOT';
    upstream app_db {
        mcp_postgres_server 127.0.0.1:5432 dbname=app user=app password=secret;
    }
EOT
    my $body = $o{body} // <<'EOT';
        tool get_order {
            description "Fetch one order";
            argument id integer required "Order id";
            postgres app_db "SELECT id, status FROM orders WHERE id = $1" id;
        }
EOT
    my $http = $o{http} // '';
    my $loc = $o{loc} // '';
    return <<"EOF";
load_module %%MODULE%%;
events { }
http {
    access_log off;
$http
$upstream
    mcp_server shop {
$body
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp {
            mcp_pass shop;
            $loc
        }
    }
}
EOF
}

# the error must name the marked line (or one of the marked lines)
sub fails {
    my ($name, $conf, $re) = @_;
    die "$name: no marker\n" unless $conf =~ /#<-/;
    return nginx_t_fails($conf, $re, name => $name);
}

sub tool_with {
    my ($postgres, $args) = @_;
    $args //= qq(argument id integer required "Order id";\n);
    return <<"EOT";
        tool t1 {
            description "A tool";
            $args
            $postgres #<-
        }
EOT
}

my $emerg = qr/\[emerg\]/;

# --- the frame is valid ---------------------------------------------------

nginx_t_ok(conf(), name => 'the base configuration is valid');

# --- the upstream ---------------------------------------------------------

fails('an unknown upstream',
      conf(body => tool_with('postgres no_such_db "SELECT $1" id;')),
      qr/$emerg.*no_such_db/);

fails('an unknown upstream in a resource',
      conf(body => <<'EOT'),
        resource "shop://stats" {
            name stats;
            postgres stats_db "SELECT count(*) FROM orders"; #<-
        }
EOT
      qr/$emerg.*stats_db/);

{
    my $c = conf(upstream => <<'EOT', body => tool_with('postgres web "SELECT $1" id;'));
    upstream web { #<-
        server 127.0.0.1:8080;
    }
EOT
    fails('an HTTP upstream (server, no mcp_postgres_server) is not a database',
          $c, qr/$emerg.*\bweb\b/);
}

{
    my $c = conf(upstream => <<'EOT', body => tool_with('postgres empty_db "SELECT $1" id;'));
    upstream empty_db { #<-
        mcp_postgres_keepalive 4;
    } #<-
EOT
    # nginx's own message ("no servers are inside upstream") names the
    # line where the upstream block ends, not the upstream
    fails('an upstream without mcp_postgres_server', $c,
          qr/$emerg.*(?:empty_db|no servers are inside upstream)/);
}

# --- placeholders and values -----------------------------------------------

fails('two placeholders, one value',
      conf(body => tool_with(
          'postgres app_db "SELECT id FROM orders WHERE id = $1 AND status = $2" id;')),
      qr/$emerg/);

fails('one placeholder, two values',
      conf(body => tool_with(
          'postgres app_db "SELECT id FROM orders WHERE id = $1" id id;')),
      qr/$emerg/);

fails('a placeholder and no value',
      conf(body => tool_with('postgres app_db "SELECT $1::int";', '')),
      qr/$emerg/);

fails('a value and no placeholder',
      conf(body => tool_with('postgres app_db "SELECT 1" id;')),
      qr/$emerg/);

fails('$2 without $1 (the count is the highest number)',
      conf(body => tool_with('postgres app_db "SELECT $2::int" id;')),
      qr/$emerg/);

fails('an undeclared argument',
      conf(body => tool_with(
          'postgres app_db "SELECT id FROM orders WHERE id = $1" order_id;')),
      qr/$emerg.*order_id/);

fails('a bare word in a resource without arguments',
      conf(body => <<'EOT'),
        resource "shop://one" {
            name one;
            postgres app_db "SELECT $1::int" id; #<-
        }
EOT
      qr/$emerg.*\bid\b/);

fails('a resource template value that is not a template variable',
      conf(body => <<'EOT'),
        resource_template "shop://orders/{id}" {
            name order;
            postgres app_db "SELECT * FROM orders WHERE id = $1" order; #<-
        }
EOT
      qr/$emerg.*\border\b/);

fails('a prompt value that is not a prompt argument',
      conf(body => <<'EOT'),
        prompt summary {
            description "An order summary";
            argument id required "Order id";
            postgres app_db "SELECT * FROM orders WHERE id = $1" ident; #<-
        }
EOT
      qr/$emerg.*ident/);

fails('postgres without SQL',
      conf(body => tool_with('postgres app_db;', '')),
      qr/$emerg/);

fails('two postgres entries in one tool', conf(body => <<'EOT'), qr/$emerg/);
        tool t1 {
            description "A tool";
            postgres app_db "SELECT 1";
            postgres app_db "SELECT 2"; #<-
        }
EOT

fails('postgres and pass in one tool', conf(body => <<'EOT'), qr/$emerg/);
        tool t1 {
            description "A tool";
            pass /somewhere; #<-
            postgres app_db "SELECT 1"; #<-
        }
EOT

# --- options of postgres ---------------------------------------------------

for my $case (['max_rows=abc', 'max_rows not a number'],
              ['max_rows=-5', 'max_rows negative'],
              ['max_rows=', 'max_rows empty'],
              ['timeout=soon', 'timeout not a time'],
              ['timeout=', 'timeout empty'],
              ['max_size=lots', 'max_size not a size'],
              ['max_size=', 'max_size empty'])
{
    my ($opt, $name) = @$case;
    fails("postgres $opt: $name",
          conf(body => tool_with(
              qq(postgres app_db "SELECT id FROM orders WHERE id = \$1" id $opt;))),
          qr/$emerg/);
}

fails('mcp_postgres_max_rows not a number',
      conf(loc => 'mcp_postgres_max_rows many; #<-'), qr/$emerg/);

fails('mcp_postgres_max_rows with two values',
      conf(loc => 'mcp_postgres_max_rows 1 2; #<-'), qr/$emerg/);

# --- postgres_set ------------------------------------------------------------

fails('postgres_set with one argument',
      conf(body => <<'EOT'), qr/$emerg.*postgres_set/);
        tool t1 {
            description "A tool";
            postgres_set app.tenant; #<-
            postgres app_db "SELECT 1";
        }
EOT

fails('postgres_set with three arguments',
      conf(body => <<'EOT'), qr/$emerg.*postgres_set/);
        tool t1 {
            description "A tool";
            postgres_set app.tenant acme extra; #<-
            postgres app_db "SELECT 1";
        }
EOT

fails('postgres_set with one argument in a location',
      conf(loc => 'postgres_set app.tenant; #<-'), qr/$emerg.*postgres_set/);

# --- the server line -------------------------------------------------------

sub server_line {
    my ($name, $line, $re) = @_;
    my $c = conf(upstream => <<"EOT");
    upstream app_db {
        mcp_postgres_server $line; #<-
    }
EOT
    fails("mcp_postgres_server: $name", $c, $re // qr/$emerg/);
}

server_line('no arguments', '');
server_line('missing port number', '127.0.0.1: dbname=app user=app');
server_line('port not a number', '127.0.0.1:pg dbname=app user=app');
server_line('port out of range', '127.0.0.1:99999 dbname=app user=app');
server_line('port zero', '127.0.0.1:0 dbname=app user=app');
server_line('an unknown libpq keyword', '127.0.0.1:5432 dbname=app colour=blue',
            qr/$emerg.*colour/);
server_line('a keyword without a value', '127.0.0.1:5432 dbname');
server_line('host= in the options (the address is the host)',
            '127.0.0.1:5432 host=10.0.0.1 dbname=app');
server_line('a host name that does not resolve',
            'no-such-host.invalid:5432 dbname=app');
server_line('bad max_fails', '127.0.0.1:5432 dbname=app max_fails=many');
server_line('bad fail_timeout', '127.0.0.1:5432 dbname=app fail_timeout=later');
server_line('a URL of another scheme', 'mysql://app:secret@127.0.0.1:3306/app');
server_line('a URL with a bad port', 'postgresql://app:secret@127.0.0.1:port/app');
server_line('a URL with a port out of range',
            'postgresql://app:secret@127.0.0.1:70000/app');
server_line('a URL without a host', 'postgresql://');
server_line('a URL with an unknown parameter',
            'postgresql://app:secret@127.0.0.1:5432/app?colour=blue');
server_line('a URL with a broken percent escape',
            'postgresql://app:se%zzcret@127.0.0.1:5432/app');

# IPv6 addresses, as the address and in a URL, and several servers
for my $line ('[::1]:5432 dbname=app user=app',
              'postgresql://app:secret@[::1]:5432/app',
              "127.0.0.1:5432 dbname=app connect_timeout=3;\n"
              . "        mcp_postgres_server [::1]:5433 dbname=app max_fails=2 fail_timeout=5s")
{
    nginx_t_ok(conf(upstream => <<"EOT"), name => "mcp_postgres_server $line");
    upstream app_db {
        mcp_postgres_server $line;
    }
EOT
}

{
    my $c = conf(http => <<'EOT');
    mcp_postgres_server 127.0.0.1:5432 dbname=app; #<-
EOT
    fails('mcp_postgres_server outside an upstream block', $c,
          qr/$emerg.*not allowed here/);
}

{
    my $c = conf(upstream => <<'EOT');
    upstream app_db {
        mcp_postgres_server 127.0.0.1:5432 dbname=app user=app password=secret;
        mcp_postgres_keepalive lots; #<-
    }
EOT
    fails('mcp_postgres_keepalive not a number', $c, qr/$emerg/);
}

{
    my $c = conf(upstream => <<'EOT');
    upstream app_db {
        mcp_postgres_server 127.0.0.1:5432 dbname=app user=app password=secret;
        mcp_postgres_max_connections 0; #<-
    }
EOT
    fails('mcp_postgres_max_connections 0', $c, qr/$emerg/);
}

{
    my $c = conf(upstream => <<'EOT');
    upstream app_db {
        mcp_postgres_server 127.0.0.1:5432 dbname=app user=app password=secret;
        mcp_postgres_queue_timeout whenever; #<-
    }
EOT
    fails('mcp_postgres_queue_timeout not a time', $c, qr/$emerg/);
}

{
    my $out = fails('a malformed server line does not echo the password',
                    conf(upstream => <<'EOT'), qr/$emerg/);
    upstream app_db {
        mcp_postgres_server postgresql://app:Hush-Hush-77@127.0.0.1:port/app; #<-
    }
EOT
    unlike($out, qr/Hush-Hush-77/, 'nginx -t output has no password in it')
        or diag($out);
}

# --- the issue's example, as written --------------------------------------

my $example_upstream = <<'EOT';
    upstream app_db {
        mcp_postgres_server 127.0.0.1:%%PORT_1%% dbname=app user=app password=secret;
        # or a URL, as DATABASE_URL is written:  mcp_postgres_server postgresql://app:secret@db:5432/app;
        mcp_postgres_keepalive 8;                 # idle connections kept per worker
    }
EOT
my $example_server = <<'EOT';
    mcp_server shop {
        tool get_order {
            description "Fetch one order";
            argument    id integer required "Order id";
            annotations read_only;
            postgres    app_db "SELECT id, status, total FROM orders WHERE id = $1" id;
        }
        tool orders_by_status {
            description "Orders by status";
            argument status string required "Status";
            postgres app_db "SELECT id, status FROM orders WHERE status = $1 ORDER BY id" status max_rows=50 timeout=2s;
        }
        resource_template "shop://orders/{id}" {
            name order; mime_type application/json;
            postgres app_db "SELECT * FROM orders WHERE id = $1" id;
        }
    }
EOT

sub example {
    my ($first, $second, $extra) = @_;
    $extra //= '';
    return <<"EOF";
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 64; }
http {
    access_log off;
$first
$second
$extra
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp { mcp_pass shop; }
        location = /ready { mcp_health ready; }
    }
}
EOF
}

nginx_t_ok(example($example_upstream, $example_server),
           name => "the issue's example");
nginx_t_ok(example($example_server, $example_upstream),
           name => "the issue's example, upstream after the mcp_server block");

my $everything = <<'EOT';
    upstream url_db {
        mcp_postgres_server postgresql://app:secret@127.0.0.1:%%PORT_1%%/app?sslmode=disable max_fails=3 fail_timeout=5s;
        mcp_postgres_server postgresql://app:p%40ss@localhost:%%PORT_1%%/app;
        mcp_postgres_keepalive 2;
        mcp_postgres_max_connections 4;
        mcp_postgres_queue_timeout 250ms;
    }
    mcp_postgres_max_rows 100;
    postgres_set app.http_level on;
    mcp_server more {
        tool with_set {
            description "postgres_set in an entry, nginx variables as values";
            argument id integer required "Order id";
            postgres_set app.tenant $http_x_tenant;
            postgres_set app.fixed "a fixed value";
            postgres url_db "SELECT $1::int AS id, $2::text AS addr, $1::int + 1 AS next" id $remote_addr max_rows=5 max_size=64k timeout=500ms;
        }
        resource "shop://stats" {
            name stats;
            postgres url_db "SELECT count(*) AS n FROM orders";
        }
        resource "shop://motd" {
            name motd; mime_type text/plain;
            postgres_set app.motd yes;
            postgres url_db "SELECT 'hello'";
        }
        prompt order_summary {
            description "Summarise an order";
            argument id required "Order id";
            postgres url_db "SELECT * FROM orders WHERE id = $1" id timeout=1s;
        }
    }
EOT
my $more_loc = <<'EOT';
    server {
        listen 127.0.0.1:%%PORT_2%%;
        mcp_postgres_max_rows 10;
        location = /more {
            set $tenant acme;
            postgres_set app.tenant $tenant;
            mcp_postgres_max_rows 20;
            mcp_pass more;
        }
    }
EOT
nginx_t_ok(example($example_upstream, $example_server, $everything . $more_loc),
           name => 'URL servers, every option, postgres_set at each level, '
                   . 'resources and prompts');

# nginx starts without the database (nothing listens on PORT_1) and lists
# the entries; a call then fails as a tool error, not at start
start_nginx(example($example_server, $example_upstream), wait_ports => [0]);

my $sid = mcp_init('2025-11-25');
ok($sid, 'a session with the database down');
my $r = legacy_post($sid, '2025-11-25', 'tools/list', {});
my @tools = map { $_->{name} } @{ ($r->{json} && $r->{json}{result}{tools}) || [] };
is_deeply(\@tools, ['get_order', 'orders_by_status'], 'tools/list lists both tools');
my ($get) = grep { $_->{name} eq 'get_order' } @{ $r->{json}{result}{tools} || [] };
is_deeply($get && $get->{inputSchema}{required}, ['id'], 'get_order: its inputSchema');
ok($get && $get->{annotations}{readOnlyHint}, 'get_order: readOnlyHint');
unlike($r->{body}, qr/SELECT|app_db|postgres/i,
       'tools/list publishes neither the SQL nor the upstream');

$r = legacy_post($sid, '2025-11-25', 'resources/templates/list', {});
my ($tpl) = @{ ($r->{json} && $r->{json}{result}{resourceTemplates}) || [] };
is($tpl && $tpl->{uriTemplate}, 'shop://orders/{id}', 'the resource template is listed');
is($tpl && $tpl->{mimeType}, 'application/json', 'with its mime type');

$r = legacy_post($sid, '2025-11-25', 'tools/call',
                 { name => 'get_order', arguments => { id => 1 } });
is($r->{status}, 200, 'a call with the database down: HTTP 200');
my $res = $r->{json} && ref $r->{json}{result} eq 'HASH' ? $r->{json}{result} : {};
ok($res->{isError}, 'a call with the database down: isError') or diag($r->{body});
is($res->{content} && $res->{content}[0]{text},
   'PostgreSQL upstream "app_db" is unavailable: cannot connect',
   'a call with the database down: the unavailable message');

# each worker has its own pool; a probe may find a worker that has not
# tried yet (and starts trying): a few probes
for (1 .. 10) {
    $r = http('GET', '/ready');
    last if $r->{status} == 503;
    select undef, undef, undef, 0.3;
}
is($r->{status}, 503, 'readiness with the database down: 503');
my $j = json_decode($r->{body} // '') || {};
my ($check) = grep { $_->{name} eq 'postgres:app_db' } @{ $j->{checks} || [] };
is($check && $check->{status}, 'fail', 'the check postgres:app_db fails')
    or diag($r->{body});

stop_nginx();
done_testing();
