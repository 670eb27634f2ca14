#!/usr/bin/perl
# Rate limits and quotas in shared memory (mcp_limit_zone, mcp_quota_zone,
# mcp_limit, and `limit` / `quota` in tools, resources, templates and
# prompts), with 4 workers: the exact counts of nginx's limit_req algorithm
# (burst, nodelay, delay=, delays spaced at the rate, no burst), dry_run and
# $mcp_limit_status in an access log, keys from a header and from the
# caller ($mcp_tenant, $mcp_subject of API keys; an empty key is never
# counted), location and entry limits together (a refusal by a later limit
# consumes nothing of the earlier ones, separate buckets per entry),
# inheritance from the server level, the 429 answer on the 2025 session
# wire, the 2026-07-28 stateless wire, an SSE-only client and 2025-03-26
# batches, notifications never counted, quotas by minute / hour / day that
# count successful calls only, counts kept across a reload, 10 KB keys, a
# tiny zone that evicts instead of failing.  The configuration errors:
# t/119-limits-config.t.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use MCP::Test;
use MCP::Auth;

# --- the running configuration --------------------------------------------

my $key_alice = random_api_key();
my $key_ops = random_api_key();
my $key_bob = random_api_key();
my $keyfile = api_keys_file("$FindBin::Bin/tmp/120-api-keys",
                            [ $key_alice, 'alice', undef, 'acme' ],
                            [ $key_ops, 'ops', undef, 'acme' ],
                            [ $key_bob, 'bob', undef, undef ]);
my $keytext = do { local (@ARGV, $/) = ($keyfile); <> };

start_nginx(<<'EOF', files => { 'keys/api-keys' => $keytext });
load_module %%MODULE%%;
worker_processes 4;
events { worker_connections 256; }
http {
    large_client_header_buffers 4 32k;
    log_format limits '$http_x_tag $status [$mcp_limit_status]';
    access_log %%TESTDIR%%/limits.log limits;

    mcp_limit_zone burst_z:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone nb_z:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone turn_z:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone slow_z:1m key=$http_x_user rate=10r/s;
    mcp_limit_zone d1_z:1m key=$http_x_user rate=1r/s;
    mcp_limit_zone dry_z:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone dry2_z:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone loc_z:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone tool_z:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone entry_z:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone two_a:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone two_b:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone era_z:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone batch_z:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone srv_z:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone own_z:1m key=$http_x_user rate=1r/m;
    mcp_limit_zone tiny:32k key=$http_x_user rate=1r/m;
    mcp_limit_zone per_tenant:1m key=$mcp_tenant rate=1r/m;
    mcp_limit_zone per_user:1m key=$mcp_subject rate=1r/m;
    mcp_limit_zone fast_z:1m key=$http_x_user rate=1r/s;
    mcp_limit_zone sl_z:1m key=$http_x_user rate=1r/s;
    mcp_limit_zone lq_z:1m key=$http_x_user rate=1r/m;
    mcp_quota_zone q_z:1m key=$http_x_user;

    mcp_server shop {
        tool hello { description "Says hello"; text "hi"; }
        tool limited {
            description "Limited";
            limit zone=tool_z burst=1 nodelay;
            text "limited";
        }
        tool limited2 {
            description "Limited too";
            limit zone=tool_z burst=1 nodelay;
            text "limited2";
        }
        tool counted {
            description "Counted by the minute";
            argument n integer required "A number";
            quota q_z 3/m;
            text "counted";
        }
        tool hourly { description "Counted by the hour"; quota q_z 2/hour; text "hourly"; }
        tool both_lq {
            description "A rate limit and a quota";
            limit zone=fast_z burst=2 nodelay;
            quota q_z 4/m;
            text "both";
        }
        tool daily { description "Counted by the day"; quota q_z 1/d; text "daily"; }
        tool failing { description "Always fails"; quota q_z 2/m; error "nope"; }
        tool dry_quota {
            description "A quota in dry run";
            quota q_z 1/minute dry_run;
            text "dry";
        }
        resource "docs://limited" { name limited; limit zone=entry_z; text "r"; }
        resource_template "docs://items/{id}" {
            name item;
            limit zone=entry_z;
            text "item {id}";
        }
        prompt greet {
            description "Greets";
            limit zone=entry_z;
            message user "Hello";
        }
    }

    mcp_server authd {
        tool search {
            description "Search";
            limit zone=per_user burst=1 nodelay;
            text "found";
        }
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        location = /mcp { mcp_pass shop; }
        location = /burst { mcp_pass shop; mcp_limit zone=burst_z burst=5 nodelay; }
        location = /noburst { mcp_pass shop; mcp_limit zone=nb_z; }
        location = /turn { mcp_pass shop; mcp_limit zone=turn_z burst=2 nodelay; }
        location = /delay { mcp_pass shop; mcp_limit zone=slow_z burst=3; }
        location = /delayn { mcp_pass shop; mcp_limit zone=d1_z burst=3 delay=1; }
        location = /dry { mcp_pass shop; mcp_limit zone=dry_z burst=1 nodelay dry_run; }
        location = /dry2 { mcp_pass shop; mcp_limit zone=dry2_z burst=1 dry_run; }
        location = /both { mcp_pass shop; mcp_limit zone=loc_z burst=10 nodelay; }
        location = /two {
            mcp_pass shop;
            mcp_limit zone=two_a burst=3 nodelay;
            mcp_limit zone=two_b burst=1 nodelay;
        }
        location = /two_a { mcp_pass shop; mcp_limit zone=two_a burst=3 nodelay; }
        location = /era { mcp_pass shop; mcp_limit zone=era_z burst=2 nodelay; }
        location = /batch { mcp_pass shop; mcp_limit zone=batch_z burst=3 nodelay; }
        location = /slowloc { mcp_pass shop; mcp_limit zone=sl_z burst=5; }
        location = /lq { mcp_pass shop; mcp_limit zone=lq_z burst=3 nodelay; }
        location = /tiny { mcp_pass shop; mcp_limit zone=tiny burst=1 nodelay; }
        location = /tenant {
            mcp_pass authd;
            mcp_auth_api_keys keys/api-keys;
            mcp_limit zone=per_tenant burst=9 nodelay;
        }
    }

    server {
        listen 127.0.0.1:%%PORT_1%%;
        mcp_limit zone=srv_z;

        location = /inherit { mcp_pass shop; }
        location = /own { mcp_pass shop; mcp_limit zone=own_z burst=2 nodelay; }
    }
}
EOF

my $access = testdir() . '/limits.log';

# a request of the 2026-07-28 wire (tools/list unless method =>) with the
# key in X-User (none when undef) and a tag for the access log
sub req {
    my ($path, $user, %o) = @_;
    my @h;
    push @h, 'X-User' => $user if defined $user;
    push @h, 'X-Tag' => $o{tag} if defined $o{tag};
    push @h, @{ $o{headers} || [] };
    return modern_post($o{method} // 'tools/list', $o{params} // {},
                       path => $path, headers => \@h, port => $o{port},
                       notification => $o{notification},
                       (exists $o{id} ? (id => $o{id}) : ()));
}

sub call {
    my ($path, $user, $tool, $args, %o) = @_;
    return req($path, $user, %o, method => 'tools/call',
               params => { name => $tool, arguments => $args // {} });
}

# "200 x6 429 x14"
sub statuses {
    my %s;
    $s{ $_->{status} // 'none' }++ for @_;
    return join ' ', map { "$_ x$s{$_}" } sort keys %s;
}

sub err_of {
    my ($r) = @_;
    return $r->{json} && ref $r->{json} eq 'HASH' && ref $r->{json}{error} eq 'HASH'
         ? $r->{json}{error} : {};
}

sub zone_of { return (err_of($_[0])->{data} || {})->{zone} }

# the checks of one refused request's answer: 429, Retry-After, the
# JSON-RPC error with the request's id
sub refused_ok {
    my ($r, $zone, $id, $name, %o) = @_;
    is($r->{status}, 429, "$name: 429") or diag(($r->{status} // '?') . ' ' . ($r->{body} // ''));
    my $ra = $r->{headers}{'retry-after'} // '';
    like($ra, qr/^[1-9][0-9]*\z/, "$name: Retry-After in whole seconds, at least 1 ($ra)");
    my $j = $r->{json};
    ok(ref $j eq 'HASH', "$name: one JSON-RPC message") or return;
    is($j->{jsonrpc}, '2.0', "$name: jsonrpc 2.0");
    is_deeply($j->{id}, $id, "$name: the request's id");
    ok(!exists $j->{result}, "$name: no result");
    my $e = err_of($r);
    is($e->{code}, -32029, "$name: -32029");
    is($e->{message}, $o{message} // 'Rate limit exceeded', "$name: the message");
    my $d = ref $e->{data} eq 'HASH' ? $e->{data} : {};
    is($d->{zone}, $zone, "$name: data.zone");
    ok(defined $d->{retryAfterSeconds} && $ra ne ''
       && $d->{retryAfterSeconds} == $ra,
       "$name: data.retryAfterSeconds is the Retry-After header")
        or diag($r->{body});
    return $d;
}

# the $mcp_limit_status values logged for a tag (at least $n lines, waited
# for: a worker writes its log line once the answer is out); '-' is empty
sub logged {
    my ($tag, $n) = @_;
    my @st;
    for (1 .. 60) {
        @st = ();
        if (open my $fh, '<', $access) {
            while (my $l = <$fh>) {
                push @st, $1 if $l =~ /^\Q$tag\E \d+ \[([^\]]*)\]$/;
            }
            close $fh;
        }
        last if @st >= $n;
        sleep 0.05;
    }
    return map { $_ eq '-' ? '' : $_ } @st;
}

sub tally {
    my %s;
    $s{$_}++ for @_;
    return join ' ', map { ($_ eq '' ? 'empty' : $_) . " x$s{$_}" } sort keys %s;
}

# $n tools/list requests sent at once on $n connections; each answer with
# `elapsed` (seconds from the moment before the first byte was sent)
sub parallel {
    my ($path, $n, $user, $tag) = @_;
    my $port = port();
    my @socks = map {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                      Proto => 'tcp', Timeout => 5)
            or die "connect: $!\n";
        binmode $s;
        $s;
    } 1 .. $n;
    my @reqs = map {
        my $body = json_encode(modern_body('tools/list', {}));
        "POST $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\nConnection: close\r\n"
        . "Content-Type: application/json\r\n"
        . "Accept: application/json, text/event-stream\r\n"
        . "MCP-Protocol-Version: " . MODERN . "\r\nMcp-Method: tools/list\r\n"
        . "X-User: $user\r\nX-Tag: $tag\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n$body";
    } 1 .. $n;
    my $t0 = time;
    for my $i (0 .. $#socks) {
        my $w = syswrite $socks[$i], $reqs[$i];
        die "write: $!\n" unless defined $w && $w == length $reqs[$i];
    }
    my $sel = IO::Select->new(@socks);
    my (%buf, %at);
    my $deadline = $t0 + 30;
    while ($sel->count && time < $deadline) {
        for my $s ($sel->can_read(0.5)) {
            my $got = sysread $s, $buf{$s}, 65536, length($buf{$s} // '');
            next if $got;
            $at{$s} = time - $t0;
            $sel->remove($s);
        }
    }
    my @out;
    for my $s (@socks) {
        my $r = parse_http_response($buf{$s} // '');
        $r->{elapsed} = $at{$s} // 999;
        push @out, $r;
        close $s;
    }
    return sort { $a->{elapsed} <=> $b->{elapsed} } @out;
}

# waits, when the current window of LEN seconds (aligned to the epoch) ends
# within MARGIN seconds, until the next one has begun
sub clear_of_window_end {
    my ($len, $margin) = @_;
    my $left = $len - (int(time) % $len);
    sleep($left + 0.3) if $left <= $margin;
}

# --- burst with nodelay: exactly 1 + burst per key ----------------------

{
    my @a = map { req('/burst', 'a', tag => 'burst-a') } 1 .. 20;
    is(statuses(@a), '200 x6 429 x14',
       'burst=5 nodelay, rate 1r/m: 20 rapid requests, 6 accepted, 14 refused');
    ok(!grep({ $_->{status} == 200 } @a[6 .. 19]), '... the first 6 were the accepted ones');
    refused_ok($a[-1], 'burst_z', $a[-1]{json} && $a[-1]{json}{id}, 'a refusal by burst_z');
    is(tally(logged('burst-a', 20)), 'PASSED x6 REJECTED x14',
       '$mcp_limit_status: PASSED x6, REJECTED x14');

    my @b = map { req('/burst', 'b') } 1 .. 8;
    is(statuses(@b), '200 x6 429 x2', 'another key has its own budget');

    my @none = map { req('/burst', undef, tag => 'nokey') } 1 .. 10;
    is(statuses(@none), '200 x10', 'no key (no X-User): never counted, never refused');
    is(tally(logged('nokey', 10)), 'empty x10', '... and $mcp_limit_status is empty');
    my @empty = map { req('/burst', '') } 1 .. 10;
    is(statuses(@empty), '200 x10', 'an empty X-User: never refused');

    my @n = map { req('/noburst', 'nb') } 1 .. 3;
    is(statuses(@n), '200 x1 429 x2', 'without burst: a second immediate request is refused');
    is(zone_of($n[1]), 'nb_z', '... by nb_z');

    # keys taking turns: each key's count is its own, whatever comes between
    my (@x, @y);
    for (1 .. 12) {
        push @x, req('/burst', 'turn-x');
        push @y, req('/burst', 'turn-y');
    }
    is(statuses(@x), '200 x6 429 x6', 'two keys taking turns: exactly 6 of 12 accepted for one');
    is(statuses(@y), '200 x6 429 x6', '... and for the other');
    (@x, @y) = ();
    for (1 .. 4) {
        push @x, req('/noburst', 'nturn-x');
        push @y, req('/noburst', 'nturn-y');
    }
    is(statuses(@x), '200 x1 429 x3', 'without burst, two keys taking turns: 1 of 4 accepted for one');
    is(statuses(@y), '200 x1 429 x3', '... and for the other');
    (@x, @y) = ();
    for (1 .. 8) {
        push @x, req('/turn', 'tturn-x');
        push @y, req('/turn', 'tturn-y');
    }
    is(statuses(@x), '200 x3 429 x5',
       'burst=2, two keys taking turns in a zone of their own: 3 of 8 accepted for one');
    is(statuses(@y), '200 x3 429 x5', '... and for the other');

    req('/mcp', undef, tag => 'unlimited');
    is(tally(logged('unlimited', 1)), 'empty x1',
       'a location without limits: $mcp_limit_status is empty');
}

# --- without nodelay: delayed, spaced at the rate -------------------------

{
    # rate 10r/s, burst 3: the 2nd, 3rd and 4th wait 100, 200, 300 ms; the
    # 5th is beyond the burst
    my @r = parallel('/delay', 5, 'slow', 'delay');
    is(statuses(@r), '200 x4 429 x1', 'burst=3 without nodelay: 4 of 5 at once accepted');
    my @ok = grep { $_->{status} == 200 } @r;
    my @t = map { sprintf '%.3f', $_->{elapsed} } @ok;
    note("answers after @t s");
    ok(@ok == 4 && $ok[1]{elapsed} >= 0.05 && $ok[2]{elapsed} >= 0.15
       && $ok[3]{elapsed} >= 0.25,
       "the accepted answers are spaced at the rate (@t s; at least 0.05, 0.15, 0.25)");
    ok(@ok == 4 && $ok[3]{elapsed} < 5, '... and all came within 5 s');
    my ($no) = grep { $_->{status} == 429 } @r;
    ok($no && @ok == 4 && $no->{elapsed} < $ok[3]{elapsed},
       'the refused one was answered at once, before the delayed ones');
    is(tally(logged('delay', 5)), 'DELAYED x3 PASSED x1 REJECTED x1',
       '$mcp_limit_status: PASSED, DELAYED x3, REJECTED');

    # rate 1r/s, burst 3, delay=1: the 2nd passes at once, the 3rd and 4th
    # wait 1 and 2 s
    @r = parallel('/delayn', 5, 'd1', 'delayn');
    is(statuses(@r), '200 x4 429 x1', 'burst=3 delay=1: 4 of 5 at once accepted');
    @ok = grep { $_->{status} == 200 } @r;
    @t = map { sprintf '%.3f', $_->{elapsed} } @ok;
    note("answers after @t s");
    ok(@ok == 4 && $ok[1]{elapsed} < 0.8, "delay=1: the first excess request is not delayed (@t s)");
    ok(@ok == 4 && $ok[2]{elapsed} >= 0.9 && $ok[3]{elapsed} >= 1.9,
       "... the next ones are, at the rate (@t s; at least 0.9, 1.9)");
    is(tally(logged('delayn', 5)), 'DELAYED x2 PASSED x2 REJECTED x1',
       '$mcp_limit_status: PASSED x2, DELAYED x2, REJECTED');
}

# --- dry_run --------------------------------------------------------------

{
    my @r = map { req('/dry', 'dry', tag => 'dry') } 1 .. 5;
    is(statuses(@r), '200 x5', 'dry_run: nothing is refused');
    ok(!grep({ $_->{headers}{'retry-after'} } @r), '... no Retry-After');
    is(tally(logged('dry', 5)), 'PASSED x2 REJECTED_DRY_RUN x3',
       '... $mcp_limit_status says 2 would pass, 3 would be refused');

    # without nodelay the 2nd would wait 60 s (rate 1r/m): it does not
    my $t0 = time;
    @r = map { req('/dry2', 'dry2', tag => "dry2-$_") } 1 .. 3;
    is(statuses(@r), '200 x3', 'dry_run without nodelay: nothing refused');
    ok(time - $t0 < 10, '... nor delayed');
    is_deeply([ map { logged("dry2-$_", 1) } 1 .. 3 ],
              [ 'PASSED', 'DELAYED_DRY_RUN', 'REJECTED_DRY_RUN' ],
              '... $mcp_limit_status PASSED, DELAYED_DRY_RUN, REJECTED_DRY_RUN');
}

# --- location and entry limits together ------------------------------------

{
    # location: loc_z burst=10 (11 per key); tools limited/limited2:
    # tool_z burst=1 (2 per key and tool)
    my @r = map { call('/both', 'u1', 'limited', {}) } 1 .. 3;
    is(statuses(@r), '200 x2 429 x1', 'the entry limit: 2 calls of `limited`, the 3rd refused');
    is(zone_of($r[2]), 'tool_z', '... by tool_z');
    is(mcp_tool_text($r[0]), 'limited', '... the accepted ones answered by the tool');
    is(call('/both', 'u1', 'hello', {})->{status}, 200, 'another tool still passes');
    @r = map { call('/both', 'u1', 'limited2', {}) } 1 .. 3;
    is(statuses(@r), '200 x2 429 x1',
       'a second tool on the same zone has its own bucket for the key');
    # so far the location took 2 + 1 + 2 = 5 of 11: the two refusals by
    # tool_z took nothing from loc_z
    @r = map { call('/both', 'u1', 'hello', {}) } 1 .. 7;
    is(statuses(@r), '200 x6 429 x1',
       'the location limit refuses after 11 accepted: refusals by the entry limit consumed nothing');
    is(zone_of($r[6]), 'loc_z', '... by loc_z');
    is(call('/both', 'u1', 'limited2', {})->{status}, 429,
       'the location limit refuses a limited tool too');
    is(zone_of(call('/both', 'u1', 'limited2', {})), 'loc_z',
       '... the location limit answers first');

    @r = map { call('/mcp', 'u1', 'limited', {}) } 1 .. 2;
    is(statuses(@r), '429 x2',
       'the entry limit applies in every location of the server (same key, same bucket)');
    @r = map { call('/mcp', 'u2', 'limited', {}) } 1 .. 3;
    is(statuses(@r), '200 x2 429 x1', '... another key has its own');

    # the location's limit delays (1r/s, burst 5, no nodelay), the entry's
    # refuses: the refusal comes at once, as limit_req decides over all its
    # lines before it delays
    my $t0 = time;
    @r = map { call('/slowloc', 'sl', 'limited', {}) } 1 .. 2;
    my $took = time - $t0;
    is(statuses(@r), '200 x2', 'a delaying location limit and an entry limit: 2 calls pass');
    ok($took >= 0.8, sprintf('... the 2nd after the location\'s delay (%.2f s)', $took));
    $t0 = time;
    my $r = call('/slowloc', 'sl', 'limited', {});
    $took = time - $t0;
    is(zone_of($r), 'tool_z', 'the 3rd is refused by the entry limit');
    ok($took < 0.8, sprintf('... at once, not after the location\'s delay (%.2f s)', $took));

    # resources, templates, prompts
    @r = map { req('/mcp', 'e1', method => 'resources/read',
                   params => { uri => 'docs://limited' }) } 1 .. 2;
    is(statuses(@r), '200 x1 429 x1', 'a resource limit: the 2nd read is refused');
    is(zone_of($r[1]), 'entry_z', '... by entry_z');
    $r = req('/mcp', 'e1', method => 'resources/read', params => { uri => 'docs://items/1' });
    is($r->{status}, 200, 'a template is another entry: its own bucket');
    $r = req('/mcp', 'e1', method => 'resources/read', params => { uri => 'docs://items/2' });
    is($r->{status}, 429, '... shared by every URI of the template');
    @r = map { req('/mcp', 'e1', method => 'prompts/get', params => { name => 'greet' }) } 1 .. 2;
    is(statuses(@r), '200 x1 429 x1', 'a prompt limit: the 2nd get is refused');
    is(zone_of($r[1]), 'entry_z', '... by entry_z');
    is(req('/mcp', 'e1', method => 'resources/list')->{status}, 200,
       'lists are not entry calls');

    # two location limits: two_b (2) refuses first; what it refused took
    # nothing from two_a (4)
    @r = map { req('/two', 't1') } 1 .. 5;
    is(statuses(@r), '200 x2 429 x3', 'two location limits: the stricter refuses');
    is(zone_of($r[2]), 'two_b', '... two_b');
    @r = map { req('/two_a', 't1') } 1 .. 3;
    is(statuses(@r), '200 x2 429 x1',
       'two_a took only the 2 accepted requests, not the 3 refused by two_b');
    is(zone_of($r[2]), 'two_a', '... then two_a refuses');
}

# --- the server level, inherited by a location that has none --------------

{
    my $p1 = port(1);
    my @r = map { req('/inherit', 'i1', port => $p1) } 1 .. 2;
    is(statuses(@r), '200 x1 429 x1', 'a location without mcp_limit inherits the server\'s');
    is(zone_of($r[1]), 'srv_z', '... srv_z');
    @r = map { req('/own', 'i1', port => $p1) } 1 .. 4;
    is(statuses(@r), '200 x3 429 x1',
       'a location with its own mcp_limit does not inherit the server\'s');
    is(zone_of($r[3]), 'own_z', '... own_z');
}

# --- the caller: $mcp_tenant and $mcp_subject of API keys ------------------

{
    my @alice = (Authorization => "Bearer $key_alice");
    my @ops = (Authorization => "Bearer $key_ops");
    my @bob = (Authorization => "Bearer $key_bob");
    my @r = map { call('/tenant', undef, 'search', {}, headers => \@alice) } 1 .. 3;
    is(statuses(@r), '200 x2 429 x1', 'per subject: alice\'s 3rd search is refused');
    is(zone_of($r[2]), 'per_user', '... by per_user');
    @r = map { call('/tenant', undef, 'search', {}, headers => \@ops) } 1 .. 2;
    is(statuses(@r), '200 x2', 'another subject of the same tenant has its own');
    # tenant acme took 4 of 10
    @r = map { req('/tenant', undef, headers => \@alice) } 1 .. 7;
    is(statuses(@r), '200 x6 429 x1', 'per tenant: 10 requests of acme accepted');
    is(zone_of($r[6]), 'per_tenant', '... then per_tenant refuses');
    is(zone_of(req('/tenant', undef, headers => \@ops)), 'per_tenant',
       '... every subject of the tenant');
    @r = map { req('/tenant', undef, headers => \@bob) } 1 .. 12;
    is(statuses(@r), '200 x12', 'a caller without tenant: the tenant limit does not apply');
    @r = map { call('/tenant', undef, 'search', {}, headers => \@bob) } 1 .. 3;
    is(statuses(@r), '200 x2 429 x1', '... its subject limit does');
}

# --- the 429 answer on each wire -------------------------------------------

{
    my $v = '2025-06-18';
    my @u = ('X-User' => 's1');
    # initialize counts, notifications/initialized does not: 1 + 2 pings
    my $sid = mcp_init($v, headers => [ -path => '/era', @u ]);
    ok($sid, "$v: a session (initialize counted)");
    my @h = (headers => [ -path => '/era', @u ]);
    is(legacy_post($sid, $v, 'ping', undef, @h)->{status}, 200, "$v: ping 2 of 3");
    is(legacy_post($sid, $v, 'ping', undef, @h)->{status}, 200,
       "$v: ping 3 of 3 (the notification was not counted)");
    my $r = legacy_post($sid, $v, 'ping', undef, @h, id => 'p-4');
    refused_ok($r, 'era_z', 'p-4', "$v session");
    $r = legacy_post($sid, $v, 'tools/call', { name => 'hello', arguments => {} }, @h, id => 44);
    refused_ok($r, 'era_z', 44, "$v session, tools/call");

    $r = legacy_notify($sid, $v, 'notifications/cancelled', { requestId => 44 }, @h);
    is($r->{status}, 202, 'a notification is never refused');
    $r = mcp_post({ jsonrpc => '2.0', id => 'srv-1', result => {} },
                  'Mcp-Session-Id' => $sid, 'MCP-Protocol-Version' => $v,
                  -path => '/era', @u);
    ok($r->{status} != 429, "a response is never refused ($r->{status})");

    $r = legacy_post($sid, $v, 'ping', undef, id => 'sse-1',
                     headers => [ -path => '/era', @u, Accept => 'text/event-stream' ]);
    is($r->{status}, 429, "$v, Accept: text/event-stream only: 429");
    like($r->{headers}{'content-type'} // '', qr{^text/event-stream}, '... an event stream');
    is(scalar @{ $r->{messages} }, 1, '... of one message');
    my $m = $r->{messages}[0] || {};
    is_deeply([ $m->{id}, $m->{error} && $m->{error}{code},
                $m->{error} && $m->{error}{data}{zone} ],
              [ 'sse-1', -32029, 'era_z' ], '... the error with the request\'s id');
    like($r->{headers}{'retry-after'} // '', qr/^[1-9][0-9]*\z/, '... and Retry-After');

    # the stateless wire
    my @m = map { req('/era', 'm1', id => "m-$_") } 1 .. 4;
    is(statuses(@m), '200 x3 429 x1', '2026-07-28: 3 accepted, the 4th refused');
    my $d = refused_ok($m[3], 'era_z', 'm-4', '2026-07-28');
    # limit_req keeps 1r/m as 16 thousandths a second: a request's worth
    # drains in 62.5 s
    ok(($d->{retryAfterSeconds} // 99) <= 63,
       "... at most 63 s at 1r/m ($d->{retryAfterSeconds})");
    $r = req('/era', 'm1', method => 'tools/call', params => { name => 'hello', arguments => {} },
             id => 7);
    refused_ok($r, 'era_z', 7, '2026-07-28 tools/call');
    $r = req('/era', 'm1', id => 'sse-2', headers => [ Accept => 'text/event-stream' ]);
    is($r->{status}, 429, '2026-07-28, Accept: text/event-stream only: 429');
    like($r->{headers}{'content-type'} // '', qr{^text/event-stream}, '... an event stream');
    is(scalar @{ $r->{messages} }, 1, '... of one message');
    $m = $r->{messages}[0] || {};
    is_deeply([ $m->{id}, $m->{error} && $m->{error}{code},
                $m->{error} && $m->{error}{message} ],
              [ 'sse-2', -32029, 'Rate limit exceeded' ], '... the error');
    $r = req('/era', 'm1', method => 'notifications/cancelled',
             params => { requestId => 7 }, notification => 1);
    ok($r->{status} != 429, "2026-07-28: a notification is not refused ($r->{status})");
}

# --- batches (2025-03-26) ---------------------------------------------------

{
    my @u = ('X-User' => 'b1');
    my $sid = mcp_init('2025-03-26', headers => [ -path => '/batch', @u ]);
    ok($sid, '2025-03-26: a session (initialize: 1 of 4)');
    my @in = ('Mcp-Session-Id' => $sid, -path => '/batch', @u);
    my $r = mcp_post([ { jsonrpc => '2.0', id => 1, method => 'ping' },
                       { jsonrpc => '2.0', id => 'two', method => 'tools/list', params => {} },
                       { jsonrpc => '2.0', method => 'notifications/cancelled',
                         params => { requestId => 55 } },
                       { jsonrpc => '2.0', id => 3, method => 'ping' },
                       { jsonrpc => '2.0', id => 4, method => 'ping' } ],
                     @in, 'X-Tag' => 'batch-mixed');
    is($r->{status}, 200, 'a batch partly refused: 200');
    like($r->{headers}{'retry-after'} // '', qr/^[1-9][0-9]*\z/, '... with Retry-After');
    my $j = ref $r->{json} eq 'ARRAY' ? $r->{json} : [];
    is(scalar @$j, 4, '... 4 answers (none for the notification)');
    my @ok = grep { exists $_->{result} } @$j;
    my @no = grep { $_->{error} } @$j;
    is(scalar @ok, 3, '... 3 results: each request counted by itself');
    is(scalar @no, 1, '... 1 refused');
    is_deeply([ map { [ $_->{error}{code}, $_->{error}{message}, $_->{error}{data}{zone} ] } @no ],
              [ [ -32029, 'Rate limit exceeded', 'batch_z' ] ], '... inside the batch answer');
    is_deeply([ sort map { $_->{id} } @$j ], [ 1, 3, 4, 'two' ], '... every id answered');
    is(tally(logged('batch-mixed', 1)), 'REJECTED x1',
       '$mcp_limit_status of the batch: the worst, REJECTED');

    $r = mcp_post([ { jsonrpc => '2.0', id => 5, method => 'ping' },
                    { jsonrpc => '2.0', id => 6, method => 'tools/list', params => {} } ], @in);
    is($r->{status}, 429, 'a batch refused entirely: 429');
    like($r->{headers}{'retry-after'} // '', qr/^[1-9][0-9]*\z/, '... with Retry-After');
    $j = ref $r->{json} eq 'ARRAY' ? $r->{json} : [];
    is_deeply([ sort map { $_->{id} } @$j ], [ 5, 6 ], '... an answer for each request');
    is_deeply([ map { $_->{error} && $_->{error}{code} } @$j ], [ -32029, -32029 ],
              '... each -32029');

    $r = mcp_post([ { jsonrpc => '2.0', method => 'notifications/cancelled',
                      params => { requestId => 5 } } ], @in);
    is($r->{status}, 202, 'a batch of notifications is not refused: 202');
}

# --- quotas -------------------------------------------------------------

sub quota_refused_ok {
    my ($r, $limit, $window, $id, $name) = @_;
    my $d = refused_ok($r, 'q_z', $id, $name, message => 'Quota exceeded') || {};
    is($d->{limit}, $limit, "$name: data.limit");
    is($d->{remaining}, 0, "$name: data.remaining 0");
    is($d->{window}, $window, "$name: data.window");
    my $len = { minute => 60, hour => 3600, day => 86400 }->{$window};
    my $left = $len - (int(time) % $len);
    my $ra = $d->{retryAfterSeconds} // -1;
    ok($ra >= 1 && $ra <= $len && abs($ra - $left) <= 2,
       "$name: retryAfterSeconds $ra is the time to the end of the $window ($left)");
}

{
    clear_of_window_end(60, 15);

    # the stateless wire: invalid arguments give an isError result
    my $r = call('/mcp', 'q1', 'counted', { n => 'x' });
    ok($r->{status} == 200 && mcp_result($r)->{isError},
       '2026: invalid arguments, an isError result') or diag($r->{body});
    call('/mcp', 'q1', 'counted', {}) for 1 .. 3;
    my @r = map { call('/mcp', 'q1', 'counted', { n => $_ }) } 1 .. 3;
    is(statuses(@r), '200 x3', 'quota 3/m: 3 successful calls (the isError ones did not count)');
    ok(!grep({ mcp_result($_)->{isError} } @r), '... successful');
    $r = call('/mcp', 'q1', 'counted', { n => 4 }, id => 'q-4');
    quota_refused_ok($r, 3, 'minute', 'q-4', 'the 4th call');
    is(call('/mcp', 'q1', 'hello', {})->{status}, 200, 'a tool without quota still passes');
    is(call('/mcp', 'q9', 'counted', { n => 1 })->{status}, 200, 'another key has its own quota');

    # the 2025 wire: invalid arguments are a JSON-RPC error -32602
    my $v = '2025-06-18';
    my $sid = mcp_init($v);
    my @h = (headers => [ 'X-User' => 'q2' ]);
    $r = legacy_post($sid, $v, 'tools/call', { name => 'counted', arguments => { n => 'x' } }, @h);
    is(err_of($r)->{code}, -32602, "$v: invalid arguments, -32602");
    legacy_post($sid, $v, 'tools/call', { name => 'counted', arguments => {} }, @h) for 1 .. 3;
    @r = map { legacy_post($sid, $v, 'tools/call', { name => 'counted', arguments => { n => $_ } }, @h) }
         1 .. 3;
    is(statuses(@r), '200 x3', "$v: 3 successful calls (the -32602 ones did not count)");
    $r = legacy_post($sid, $v, 'tools/call', { name => 'counted', arguments => { n => 4 } }, @h,
                     id => 99);
    quota_refused_ok($r, 3, 'minute', 99, "$v: the 4th call");

    @r = map { call('/mcp', undef, 'counted', { n => $_ }) } 1 .. 5;
    is(statuses(@r), '200 x5', 'no key: the quota does not apply');

    # a tool that always fails never uses its budget (2/m)
    @r = map { call('/mcp', 'q3', 'failing', {}) } 1 .. 5;
    is(statuses(@r), '200 x5', 'isError results do not count: 5 failing calls, none refused');
    ok(!grep({ !mcp_result($_)->{isError} } @r), '... each an isError result');

    clear_of_window_end(3600, 15);
    @r = map { call('/mcp', 'q4', 'hourly', {}) } 1 .. 2;
    is(statuses(@r), '200 x2', 'quota 2/hour: 2 calls');
    quota_refused_ok(call('/mcp', 'q4', 'hourly', {}, id => 'h'), 2, 'hour', 'h', 'the 3rd call');

    clear_of_window_end(86400, 15);
    is(call('/mcp', 'q5', 'daily', {})->{status}, 200, 'quota 1/d: 1 call');
    quota_refused_ok(call('/mcp', 'q5', 'daily', {}, id => 'd'), 1, 'day', 'd', 'the 2nd call');

    # a rate limit and a quota on one tool: calls the rate limit refuses
    # do not use the quota (rate 1r/s, burst 2; quota 4/m)
    clear_of_window_end(60, 10);
    @r = map { call('/mcp', 'q7', 'both_lq', {}) } 1 .. 5;
    is(statuses(@r), '200 x3 429 x2', 'a rate limit and a quota: the burst passes, then the rate limit refuses');
    is_deeply([ map { err_of($_)->{message} } @r[3, 4] ],
              [ 'Rate limit exceeded', 'Rate limit exceeded' ], '... as a rate limit');
    sleep 1.1;
    $r = call('/mcp', 'q7', 'both_lq', {});
    is($r->{status}, 200, 'a second later the 4th successful call passes: the refused ones used no quota')
        or diag($r->{body});
    sleep 1.1;
    quota_refused_ok(call('/mcp', 'q7', 'both_lq', {}, id => 'lq'), 4, 'minute', 'lq',
                     'then the quota refuses');

    # a quota's refusal takes nothing from the location's limit (4 a key)
    clear_of_window_end(3600, 10);
    @r = map { call('/lq', 'q8', 'hourly', {}) } 1 .. 4;
    is(statuses(@r), '200 x2 429 x2', 'a location limit and a quota: the quota refuses the 3rd call');
    is(err_of($r[3])->{message}, 'Quota exceeded', '... as a quota');
    @r = map { req('/lq', 'q8') } 1 .. 3;
    is(statuses(@r), '200 x2 429 x1',
       '... the location limit took only the 2 accepted calls');

    clear_of_window_end(60, 5);
    @r = map { call('/mcp', 'q6', 'dry_quota', {}, tag => "dq-$_") } 1 .. 3;
    is(statuses(@r), '200 x3', 'a quota in dry run refuses nothing');
    is_deeply([ map { logged("dq-$_", 1) } 1 .. 3 ],
              [ 'PASSED', 'REJECTED_DRY_RUN', 'REJECTED_DRY_RUN' ],
              '... $mcp_limit_status says what it would have done');
}

# --- a reload keeps the counts ---------------------------------------------

{
    clear_of_window_end(3600, 15);
    my @r = map { req('/burst', 'r1') } 1 .. 3;
    is(statuses(@r), '200 x3', 'before the reload: 3 of 6 accepted');
    is(call('/mcp', 'r1', 'hourly', {})->{status}, 200, '... and 1 of 2 calls of hourly');
    reload_nginx();
    @r = map { req('/burst', 'r1') } 1 .. 5;
    is(statuses(@r), '200 x3 429 x2', 'after the reload: the count continues (3 more, then refused)');
    @r = map { call('/mcp', 'r1', 'hourly', {}) } 1 .. 2;
    is(statuses(@r), '200 x1 429 x1', '... the quota\'s too');
    @r = map { req('/burst', 'r2') } 1 .. 7;
    is(statuses(@r), '200 x6 429 x1', '... and limits work as before for a new key');
}

# --- huge keys ---------------------------------------------------------------

{
    my $k1 = 'K' x 10240;
    my $k2 = ('K' x 10239) . 'L';
    my @r = map { req('/burst', $k1) } 1 .. 7;
    is(statuses(@r), '200 x6 429 x1', 'a 10 KB key: counted exactly');
    @r = map { req('/burst', $k2) } 1 .. 7;
    is(statuses(@r), '200 x6 429 x1', 'a 10 KB key differing in its last byte: its own budget');
}

# --- a tiny zone, thousands of keys: the least recently used go ---------------

{
    # two requests a key: none of them drained (rate 1r/m), so room is
    # made only by evicting keys that still count
    my %st;
    my $pad = 'p' x 200;
    for my $i (1 .. 2000) {
        for (1 .. 2) {
            my $r = req('/tiny', "k$i-$pad");
            $st{ $r->{status} // 'none' }++;
        }
    }
    is(join(' ', map { "$_ x$st{$_}" } sort keys %st), '200 x4000',
       'a 32k zone and 2000 keys, burst=1: both requests of each key accepted, no error');
    my $r = req('/tiny', "k2000-$pad");
    is($r->{status}, 429, 'the most recent key is still counted: its 3rd request refused');
    my @r = map { req('/tiny', "k1-$pad") } 1 .. 3;
    is(statuses(@r), '200 x2 429 x1', 'the oldest key was evicted: counted from scratch');
    my @lines = grep { /evict|least recently used/i
                       || (/\btiny\b/ && /full|remov|no memory/i) }
                split /\n/, error_log_text();
    ok(@lines, 'the error log says the zone evicts keys') or diag(error_log_text());
}

stop_nginx();

done_testing();
