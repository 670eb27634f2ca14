#!/usr/bin/perl
# The configuration errors of rate limits and quotas (mcp_limit_zone,
# mcp_quota_zone, mcp_limit, and `limit` / `quota` in entries) that
# `nginx -t` reports, each with the file and line of the mistake, and one
# configuration that uses every form.  The limits at work: t/120-limits.t.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MCP::Test;

# --- configuration errors -------------------------------------------------

# the configuration around the pieces under test; the line marked "#<-" is
# the line the error must name
sub tconf {
    my ($http, $entry, $loc, $tools) = @_;
    $http //= '';
    $entry //= '';
    $loc //= '';
    $tools //= '';
    return <<"EOT";
load_module %%MODULE%%;
events { }
http {
    access_log off;
    upstream cache { mcp_redis_server 127.0.0.1:6379; }
    mcp_limit_zone lz:1m key=\$http_x_user rate=10r/s;
    mcp_quota_zone qz:1m key=\$http_x_user;
$http
    mcp_server demo {
        tool hello {
            description "Says hello";
            text "hi";
$entry
        }
$tools
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /mcp {
            mcp_pass demo;
$loc
        }
    }
}
EOT
}

sub fails {
    my ($name, $conf, $re) = @_;
    die "$name: no marker\n" unless $conf =~ /#<-/;
    nginx_t_fails($conf, $re, name => "nginx -t: $name");
}

nginx_t_ok(tconf(<<'EOT', '', <<'EOT2', <<'EOT3'), name => 'nginx -t: every form of the directives');
    mcp_limit_zone a:1m key=$mcp_tenant rate=50r/s;
    mcp_limit_zone b:10m key=$mcp_subject rate=30r/m redis=cache prefix=lim: fail=closed;
    mcp_limit_zone c:1m key=$remote_addr$http_x_user rate=1r/s fail=open;
    mcp_limit_zone d:32k key=literal rate=5r/s;
    mcp_quota_zone e:1m key=$mcp_tenant redis=cache prefix=q: fail=open;
    mcp_quota_zone f:1m key=$http_x_user fail=closed;
    mcp_limit zone=c burst=2;
EOT
            mcp_limit zone=lz burst=20 nodelay;
            mcp_limit zone=a;
            mcp_limit zone=d burst=3 delay=1 dry_run;
EOT2
        tool t1 { description "1"; limit zone=a burst=5; text "1"; }
        tool t2 { description "2"; limit zone=b burst=5 nodelay; text "2"; }
        tool t3 { description "3"; limit zone=lz burst=4 delay=2 dry_run; text "3"; }
        tool t4 { description "4"; limit zone=lz; quota qz 1000/d; text "4"; }
        tool t5 { description "5"; quota e 10/minute; text "5"; }
        tool t6 { description "6"; quota f 5/hour dry_run; text "6"; }
        tool t7 { description "7"; quota qz 3/m; text "7"; }
        tool t8 { description "8"; quota e 20/h; text "8"; }
        tool t9 { description "9"; quota f 1/day; text "9"; }
        resource "docs://r" { name r; limit zone=a burst=1 nodelay; text "r"; }
        resource_template "docs://t/{id}" { name t; limit zone=a; text "t {id}"; }
        prompt p { description "P"; limit zone=d dry_run; message user "hi"; }
EOT3

fails('unknown zone in mcp_limit', tconf('', '', 'mcp_limit zone=nosuch; #<-'),
      qr/\[emerg\][^\n]*nosuch/);
fails('unknown zone in limit', tconf('', 'limit zone=nosuch; #<-'),
      qr/\[emerg\][^\n]*nosuch/);
fails('unknown zone in quota', tconf('', 'quota nosuch 5/m; #<-'),
      qr/\[emerg\][^\n]*nosuch/);
fails('a quota zone in mcp_limit', tconf('', '', 'mcp_limit zone=qz; #<-'),
      qr/\[emerg\][^\n]*\bqz\b/);
fails('a quota zone in limit', tconf('', 'limit zone=qz; #<-'),
      qr/\[emerg\][^\n]*\bqz\b/);
fails('a limit zone in quota', tconf('', 'quota lz 5/m; #<-'),
      qr/\[emerg\][^\n]*\blz\b/);
fails('mcp_limit_zone without key=',
      tconf('mcp_limit_zone k1:1m rate=1r/s; #<-'), qr/\[emerg\][^\n]*key/i);
fails('mcp_quota_zone without any parameter',
      tconf('mcp_quota_zone k2:1m; #<-'),
      qr/\[emerg\][^\n]*(?:key|number of arguments)/i);
fails('mcp_quota_zone without key=',
      tconf('mcp_quota_zone k2:1m fail=closed; #<-'), qr/\[emerg\][^\n]*key/i);
fails('mcp_limit_zone without rate=',
      tconf('mcp_limit_zone k3:1m key=$http_x_user; #<-'),
      qr/\[emerg\][^\n]*rate/i);
for my $rate ('fast', '10r/h', '0r/s', '-5r/s', 'r/s') {
    fails("rate=$rate",
          tconf("mcp_limit_zone k4:1m key=\$http_x_user rate=$rate; #<-"),
          qr/\[emerg\][^\n]*(?:rate|\Q$rate\E)/i);
}
for my $burst ('x', '-1', '') {
    fails("mcp_limit burst=$burst",
          tconf('', '', "mcp_limit zone=lz burst=$burst; #<-"),
          qr/\[emerg\][^\n]*burst/i);
    fails("limit burst=$burst",
          tconf('', "limit zone=lz burst=$burst; #<-"),
          qr/\[emerg\][^\n]*burst/i);
}
fails('mcp_limit nodelay with delay=',
      tconf('', '', 'mcp_limit zone=lz burst=5 nodelay delay=2; #<-'),
      qr/\[emerg\][^\n]*delay/i);
fails('limit nodelay with delay=',
      tconf('', 'limit zone=lz burst=5 delay=2 nodelay; #<-'),
      qr/\[emerg\][^\n]*delay/i);
for my $q ('5/w', '5/week', '5/s', '5', 'five/m', '5/', '/m') {
    fails("quota $q", tconf('', "quota qz $q; #<-"),
          qr/\[emerg\][^\n]*(?:quota|period|\Q$q\E)/i);
}
fails('an unknown redis upstream (limit zone)',
      tconf('mcp_limit_zone k5:1m key=$http_x_user rate=1r/s redis=nosuchup; #<-'),
      qr/\[emerg\][^\n]*nosuchup/);
fails('an unknown redis upstream (quota zone)',
      tconf('mcp_quota_zone k6:1m key=$http_x_user redis=nosuchup; #<-'),
      qr/\[emerg\][^\n]*nosuchup/);
fails('two limit zones of one name', tconf(<<'EOT'), qr/\[emerg\][^\n]*twice_z/);
    mcp_limit_zone twice_z:1m key=$http_x_user rate=1r/s;
    mcp_limit_zone twice_z:1m key=$http_x_user rate=1r/s; #<-
EOT
fails('a quota zone named as a limit zone', tconf(<<'EOT'), qr/\[emerg\][^\n]*twice_q/);
    mcp_limit_zone twice_q:1m key=$http_x_user rate=1r/s;
    mcp_quota_zone twice_q:1m key=$http_x_user; #<-
EOT

done_testing();
