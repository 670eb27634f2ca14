#!/usr/bin/perl
# Key sets fetched by subrequests (mcp_auth_jwt_key_request): one nginx is
# both the MCP server (%%PORT%%) and a small "identity provider" (%%PORT_1%%)
# serving jwks.json from a directory, with an access log of its own
# (idp.log) so that every fetch can be counted.
#
#   * the first request with a token fetches the set once; later requests,
#     with the same or another token, do not;
#   * rotation: a token with a kid the set lacks fetches it once more (not
#     within 5 s of the last fetch), then passes when the new set has the
#     key; unknown kids are 401 invalid_token and, within 5 s, cause no
#     further fetch; a key the new set dropped is refused;
#   * an unreachable IdP, one answering something that is not JSON, JSON
#     cut short, a 404, a set larger than subrequest_output_buffer_size,
#     and a set with only an RSA-1024 key: 401 (never 500, never a hang,
#     never a connection closed without an answer), the reason in
#     error.log, and readiness (mcp_health ready) failing for the set that
#     has no keys, while a set never asked for is "ok, not fetched yet";
#   * the client's Authorization (and X-API-Key, Cookie) never reach the
#     IdP; the fetch is a GET;
#   * 20 clients at once against a fresh nginx whose IdP is slow: all 200,
#     at most one fetch per worker, none hangs; a client that goes away
#     while its request fetches does not lock the next one out.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX qw(:sys_wait_h);
use IO::Select;
use MCP::Test;
use MCP::Auth;

my $keys = auth_keys();

my $closed = closed_port();

my $conf = <<'EOF';
load_module %%MODULE%%;
worker_processes 2;
events { worker_connections 256; }
http {
    access_log off;

    log_format idp '$request_method $request_uri auth="$http_authorization" '
                   'key="$http_x_api_key" cookie="$http_cookie" '
                   'len="$content_length"';

    # the identity provider
    server {
        listen 127.0.0.1:%%PORT_1%%;
        access_log %%TESTDIR%%/idp.log idp;
        root %%TESTDIR%%/idp;
        location = /bad.json { return 200 "not json"; }
        location = /trunc.json { return 200 '{"keys":[{"kty":"RSA",'; }
        %%SLOW%%
    }

    mcp_server shop {
        name "shop";
        tool hello { description "Hello"; text "hi"; }
    }

    server {
        listen 127.0.0.1:%%PORT%%;

        mcp_auth_jwt_issuer https://id.test;
        mcp_auth_jwt_audience https://mcp.test/mcp;

        location = /mcp {
            mcp_pass shop;
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_request /_jwks;
            mcp_auth_jwt_issuer https://id.test;
            mcp_auth_jwt_audience https://mcp.test/mcp;
        }
        location = /_jwks {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/jwks.json;
            subrequest_output_buffer_size 64k;
        }

        # an IdP that is not there
        location = /mcp-down {
            mcp_pass shop;
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_request /_jwks_down;
        }
        location = /_jwks_down {
            internal;
            proxy_pass http://127.0.0.1:%%CLOSED%%/jwks.json;
            subrequest_output_buffer_size 64k;
        }

        # an IdP that answers something else than JSON
        location = /mcp-bad {
            mcp_pass shop;
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_request /_jwks_bad;
        }
        location = /_jwks_bad {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/bad.json;
            subrequest_output_buffer_size 64k;
        }

        # JSON cut short
        location = /mcp-trunc {
            mcp_pass shop;
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_request /_jwks_trunc;
        }
        location = /_jwks_trunc {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/trunc.json;
            subrequest_output_buffer_size 64k;
        }

        # a key set the IdP does not have (404)
        location = /mcp-404 {
            mcp_pass shop;
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_request /_jwks_404;
        }
        location = /_jwks_404 {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/missing.json;
            subrequest_output_buffer_size 64k;
        }

        # a set larger than the subrequest's buffer
        location = /mcp-big {
            mcp_pass shop;
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_request /_jwks_big;
        }
        location = /_jwks_big {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/big.json;
            subrequest_output_buffer_size 4k;
        }

        # an IdP whose set has only an RSA-1024 key
        location = /mcp-weak {
            mcp_pass shop;
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_request /_jwks_weak;
        }
        location = /_jwks_weak {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/weak.json;
            subrequest_output_buffer_size 64k;
        }

        # a set nobody asks for in this test
        location = /mcp-never {
            mcp_pass shop;
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_request /_jwks_never;
        }
        location = /_jwks_never {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/jwks.json;
            subrequest_output_buffer_size 64k;
        }

        # for a client that goes away while its request fetches
        location = /mcp-abort {
            mcp_pass shop;
            mcp_auth_jwt shop;
            mcp_auth_jwt_key_request /_jwks_abort;
        }
        location = /_jwks_abort {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%/jwks.json;
            subrequest_output_buffer_size 64k;
        }

        location = /ready { mcp_health ready; }
    }
}
EOF

sub config {
    my (%o) = @_;
    my $c = $conf;
    $c =~ s/%%CLOSED%%/$closed/g;
    my $slow = $o{slow} ? 'location = /jwks.json { limit_rate 200; }' : '';
    $c =~ s/%%SLOW%%/$slow/g;
    return $c;
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    my $s = <$fh>;
    return $s // '';
}

# the IdP's access log lines (after a moment: a worker writes its line
# once the answer is out, which may be just after the proxy has it)
sub idp_lines {
    sleep 0.3;
    return grep { length } split /\n/, slurp(testdir() . '/idp.log');
}

# how many times the IdP served $path
sub fetches {
    my ($path) = @_;
    return scalar grep { /^\S+ \Q$path\E / } idp_lines();
}

sub call {
    my ($path, $token, @more) = @_;
    my @h = defined $token ? (Authorization => "Bearer $token") : ();
    return modern_post('tools/list', {}, path => $path,
                       headers => [@h, @more]);
}

sub tool_names {
    my ($r) = @_;
    my $t = mcp_result($r)->{tools};
    return [ map { $_->{name} } @{ ref $t eq 'ARRAY' ? $t : [] } ];
}

sub www { return $_[0]{headers}{'www-authenticate'} // '' }

# the readiness checks by name
sub ready {
    my $r = http('GET', '/ready');
    my $j = json_decode($r->{body} // '') || {};
    my %c = map { $_->{name} => $_ } @{ ref $j->{checks} eq 'ARRAY'
                                        ? $j->{checks} : [] };
    return ($r, $j, \%c);
}

# a 401 for a token that was sent: the challenge of RFC 6750 with the
# resource metadata of the first audience
sub refused_ok {
    my ($r, $name, $reason) = @_;
    is($r->{status}, 401, "$name: 401");
    my $w = www($r);
    like($w, qr/^Bearer realm="shop"/, "$name: Bearer realm=\"shop\"");
    like($w, qr/error="invalid_token"/, "$name: error=\"invalid_token\"")
        or diag("WWW-Authenticate: $w");
    like($w, qr/error_description="\Q$reason\E/,
         "$name: error_description names \"$reason\"")
        if defined $reason;
    like($w, qr{resource_metadata="https://mcp\.test/\.well-known/oauth-protected-resource/mcp"},
         "$name: resource_metadata");
}

my $idp_dir;
my %files = (
    'idp/jwks.json' => jwks_json('rsa1'),
    'idp/weak.json' => jwks_json('weak'),
    'idp/big.json'  => jwks_json(map { { key => 'rsa2', kid => "k$_" } } 1 .. 12),
);

start_nginx(config(), files => \%files);
$idp_dir = testdir() . '/idp';

my $alice = make_token(claims => { sub => 'alice' });
my $tokens_alice = $alice;
my $bob = make_token(claims => { sub => 'bob' });
my $rsa2 = make_token(kid => 'rsa2', claims => { sub => 'carol' });

# ---------------------------------------------------------------------------
# before any request: every set "ok, not fetched yet"

{
    my ($r, $j, $c) = ready();
    is($r->{status}, 200, 'ready before any fetch: 200');
    for my $uri (qw(/_jwks /_jwks_down /_jwks_bad /_jwks_weak /_jwks_trunc
                    /_jwks_404 /_jwks_big /_jwks_never)) {
        my $k = $c->{"jwks:$uri"};
        ok($k, "ready lists jwks:$uri") or diag($r->{body});
        is($k && $k->{status}, 'ok', "jwks:$uri ok before any fetch");
        like($k && $k->{detail} // '', qr/not fetched yet/,
             "jwks:$uri: not fetched yet");
    }
}

# no credentials: a challenge without error=, and no fetch
{
    my $r = call('/mcp', undef);
    is($r->{status}, 401, 'no token: 401');
    my $w = www($r);
    like($w, qr/^Bearer realm="shop"/, 'no token: Bearer realm="shop"');
    unlike($w, qr/error=/, 'no token: no error=');
    like($w, qr{resource_metadata="https://mcp\.test/\.well-known/oauth-protected-resource/mcp"},
         'no token: resource_metadata');
    is(fetches('/jwks.json'), 0, 'no token: the IdP was not asked');
}

# ---------------------------------------------------------------------------
# the first token fetches the set, once

my $t_first = time;
{
    my $r = call('/mcp', $alice, 'X-API-Key' => 'mk_not_for_the_idp',
                 Cookie => 'session=not-for-the-idp');
    is($r->{status}, 200, 'first token: 200') or diag($r->{raw});
    is_deeply(tool_names($r), ['hello'], 'first token: tools/list');
    is(fetches('/jwks.json'), 1, 'first token: one fetch');
    like(error_log_text(),
         qr/\[info\].*mcp auth: key set "\/_jwks" fetched, 1 key\(s\)/,
         'error.log: key set "/_jwks" fetched, 1 key(s)');
}

# more requests, same token and others, on both workers: no fetch
for my $i (1 .. 6) {
    my $r = call('/mcp', $i % 2 ? $alice : $bob);
    is($r->{status}, 200, "token again ($i): 200");
}
is(fetches('/jwks.json'), 1, 'same and other tokens: still one fetch');

# within 5 s of that fetch, unknown kids fetch nothing
for my $i (1 .. 3) {
    my $r = call('/mcp', evil_token('unknown_kid', kid => "early$i"));
    refused_ok($r, "unknown kid within 5 s ($i)", 'kid unknown');
}
ok(time - $t_first < 4.5, 'those came within 5 s of the fetch')
    or diag('the machine is slow: the next count may be off');
is(fetches('/jwks.json'), 1, 'unknown kids within 5 s: no fetch');
like(error_log_text(), qr/mcp auth: refused with 401: kid unknown/,
     'error.log: refused with 401: kid unknown');

# ---------------------------------------------------------------------------
# rotation: the IdP adds rsa2; a token of rsa2 fetches once more

sleep($t_first + 6 - time) if time < $t_first + 6;
write_jwks("$idp_dir/jwks.json", 'rsa1', 'rsa2');

my $t_second = time;
{
    my $r = call('/mcp', $rsa2);
    is($r->{status}, 200, 'rsa2 after rotation: 200')
        or diag($r->{raw} . "\n" . www($r));
    is(fetches('/jwks.json'), 2, 'rsa2 after rotation: one more fetch');
    like(error_log_text(), qr/key set "\/_jwks" fetched, 2 key\(s\)/,
         'error.log: fetched, 2 key(s)');
    $r = call('/mcp', $alice);
    is($r->{status}, 200, 'rsa1 still in the set: 200');
    $r = call('/mcp', $rsa2);
    is($r->{status}, 200, 'rsa2 again: 200');
    is(fetches('/jwks.json'), 2, '... no fetch');
}

# unknown kids right after: 401, no fetch
for my $i (1 .. 5) {
    my $r = call('/mcp', evil_token('unknown_kid', kid => "mid$i"));
    refused_ok($r, "unknown kid after the refresh ($i)", 'kid unknown');
}
ok(time - $t_second < 4.5, 'those came within 5 s of the refresh');
is(fetches('/jwks.json'), 2, 'unknown kids within 5 s of a fetch: none');

# ---------------------------------------------------------------------------
# rotation: the IdP drops rsa1; an unknown kid may fetch once (5 s on),
# then rsa1's tokens are refused

sleep($t_second + 6 - time) if time < $t_second + 6;
write_jwks("$idp_dir/jwks.json", 'rsa2');

{
    my $r = call('/mcp', evil_token('unknown_kid', kid => 'late0'));
    refused_ok($r, 'unknown kid 5 s on', 'kid unknown');
    is(fetches('/jwks.json'), 3, 'unknown kid 5 s on: exactly one fetch');
    my @got = error_log_text() =~ /key set "\/_jwks" fetched, (\d+) key/g;
    is("@got", '1 2 1', 'error.log: fetched 1, 2, then 1 key(s)');

    for my $i (1 .. 8) {
        $r = call('/mcp', evil_token('unknown_kid', kid => "late$i"));
        refused_ok($r, "more unknown kids ($i)", 'kid unknown');
    }
    is(fetches('/jwks.json'), 3, 'more unknown kids within 5 s: no fetch');

    for my $i (1 .. 4) {
        $r = call('/mcp', $i % 2 ? $alice : make_token(claims => { sub => 'dave' }));
        refused_ok($r, "rsa1 after the IdP dropped it ($i)", 'kid unknown');
    }
    $r = call('/mcp', $rsa2);
    is($r->{status}, 200, 'rsa2 still passes');
    is(fetches('/jwks.json'), 3, 'no fetch for any of those');
}

# ---------------------------------------------------------------------------
# an unreachable IdP: 401 quickly, the reason in error.log, not ready

{
    my $t0 = time;
    my $r = call('/mcp-down', $alice);
    my $took = time - $t0;
    ok(!$r->{timed_out}, 'unreachable IdP: an answer');
    refused_ok($r, 'unreachable IdP');
    ok($took < 5, sprintf('unreachable IdP: answered in %.2f s', $took));
    like(error_log_text(),
         qr/\[error\].*mcp auth: the key set "\/_jwks_down" could not be fetched: \S/,
         'error.log: the key set "/_jwks_down" could not be fetched');

    $t0 = time;
    $r = call('/mcp-down', $bob);
    refused_ok($r, 'unreachable IdP, again');
    ok(time - $t0 < 2, 'unreachable IdP, again: answered at once');

    my ($rr, $j, $c) = ready();
    is($rr->{status}, 503, 'ready with a set that could not be fetched: 503');
    is($j->{status}, 'fail', 'ready: status fail') or diag($rr->{body});
    my $k = $c->{'jwks:/_jwks_down'};
    is($k && $k->{status}, 'fail', 'jwks:/_jwks_down: fail');
    like($k && $k->{detail} // '', qr/\S/, 'jwks:/_jwks_down: a detail');
    is($c->{'jwks:/_jwks'} && $c->{'jwks:/_jwks'}{status}, 'ok',
       'jwks:/_jwks (has keys): ok');
    like($c->{'jwks:/_jwks'} && $c->{'jwks:/_jwks'}{detail} // '',
         qr/1 key\(s\) fetched/, 'jwks:/_jwks: 1 key(s) fetched');
    $k = $c->{'jwks:/_jwks_never'};
    is($k && $k->{status}, 'ok', 'jwks:/_jwks_never: ok');
    like($k && $k->{detail} // '', qr/not fetched yet/,
         'jwks:/_jwks_never: not fetched yet');
}

# ---------------------------------------------------------------------------
# an IdP answering something that is not a key set

{
    my $r = call('/mcp-bad', $alice);
    refused_ok($r, 'malformed key set');
    is(fetches('/bad.json'), 1, 'malformed key set: fetched once');
    like(error_log_text(),
         qr/mcp auth: the key set "\/_jwks_bad" could not be fetched: an invalid key set/,
         'error.log: "/_jwks_bad" ... an invalid key set');
    $r = call('/mcp-bad', $bob);
    refused_ok($r, 'malformed key set, again');
    is(fetches('/bad.json'), 1, 'malformed key set: not fetched again at once');
    my (undef, undef, $c) = ready();
    is($c->{'jwks:/_jwks_bad'} && $c->{'jwks:/_jwks_bad'}{status}, 'fail',
       'jwks:/_jwks_bad: fail');
}

# JSON cut short; a 404
for my $case (['/mcp-trunc', '/_jwks_trunc', '/trunc.json',
               'an invalid key set: invalid JSON'],
              ['/mcp-404', '/_jwks_404', '/missing.json', 'HTTP status 404'])
{
    my ($loc, $uri, $file, $why) = @$case;
    my $r = call($loc, $alice);
    refused_ok($r, "$uri ($why)");
    is(fetches($file), 1, "$uri: fetched once");
    like(error_log_text(),
         qr/mcp auth: the key set "\Q$uri\E" could not be fetched: \Q$why\E/,
         "error.log: \"$uri\" ... $why");
    my (undef, undef, $c) = ready();
    is($c->{"jwks:$uri"} && $c->{"jwks:$uri"}{status}, 'fail',
       "jwks:$uri: fail");
}

# a set larger than subrequest_output_buffer_size: the module takes the
# answer with a body filter of its own (up to 1m), so nginx's in-memory
# buffer does not limit it; the set is read whole and its keys verify
{
    ok(length(slurp("$idp_dir/big.json")) > 4096, 'big.json is over 4k');
    my $r = call('/mcp-big', make_token(kid => 'k12', key => $keys->{rsa2}{private}));
    is($r->{status}, 200, 'a set over the buffer: read whole, its last key verifies')
        or diag($r->{status}, ' ', join "\n", grep { /too big|_jwks_big/ }
                                      split /\n/, error_log_text());
    like(error_log_text(), qr/mcp auth: key set "\/_jwks_big" fetched, 12 key\(s\)/,
         'error.log: "/_jwks_big" fetched with its 12 keys');
    $r = call('/mcp-big', $alice);
    refused_ok($r, 'a set over the buffer, a token of a key it lacks');
}

# an IdP whose only key is RSA-1024: no usable key
{
    my $r = call('/mcp-weak', make_token(kid => 'weak'));
    refused_ok($r, 'RSA-1024 set, token of that key');
    $r = call('/mcp-weak', $alice);
    refused_ok($r, 'RSA-1024 set, token of rsa1');
    is(fetches('/weak.json'), 1, 'RSA-1024 set: fetched once');
    like(error_log_text(),
         qr/mcp auth: the key set "\/_jwks_weak" could not be fetched: an invalid key set: no usable key/,
         'error.log: "/_jwks_weak" ... no usable key');
    my (undef, undef, $c) = ready();
    is($c->{'jwks:/_jwks_weak'} && $c->{'jwks:/_jwks_weak'}{status}, 'fail',
       'jwks:/_jwks_weak: fail');
}

# ---------------------------------------------------------------------------
# what reached the IdP

{
    my @l = idp_lines();
    is(scalar(@l), 8, '8 requests reached the IdP');
    is(scalar(grep { !/^GET / } @l), 0, 'every fetch is a GET');
    is(scalar(grep { !/ auth="-" / } @l), 0, 'no Authorization reached the IdP')
        or diag(join "\n", @l);
    is(scalar(grep { !/ key="-" / } @l), 0, 'no X-API-Key reached the IdP');
    is(scalar(grep { !/ cookie="-" / } @l), 0, 'no Cookie reached the IdP');
    is(scalar(grep { !/ len="-"$/ } @l), 0, 'no request body reached the IdP');
    unlike(slurp(testdir() . '/idp.log'), qr/eyJ/, 'no token text in idp.log');
}
unlike(error_log_text(), qr/\Q$alice\E|eyJ[A-Za-z0-9_-]{10,}\./,
       'no token in error.log');

stop_nginx();

# ---------------------------------------------------------------------------
# 20 clients at once against a fresh nginx; the IdP is slow (limit_rate),
# so that all of them arrive while the first fetch is under way

start_nginx(config(slow => 1), files => \%files);

{
    my $n = 20;
    pipe(my $go_r, my $go_w) or die "pipe: $!";
    pipe(my $res_r, my $res_w) or die "pipe: $!";
    my @pids;
    my @tokens = map { make_token(claims => { sub => "user$_" }) } 1 .. $n;
    for my $i (1 .. $n) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            close $go_w;
            close $res_r;
            my $x = <$go_r>;        # EOF when the parent lets go
            my $t0 = time;
            my $r = eval { call('/mcp', $tokens[$i - 1]) };
            my $line = sprintf "%d %s %d %.3f\n", $i,
                $r ? ($r->{status} // 0) : 0,
                $r ? $r->{timed_out} : 1, time - $t0;
            syswrite $res_w, $line;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    close $go_r;
    close $res_w;
    sleep 0.2;
    my $t0 = time;
    close $go_w;

    my @res;
    my $sel = IO::Select->new($res_r);
    my $buf = '';
    while (time - $t0 < 30) {
        last unless $sel->can_read(30 - (time - $t0));
        my $got = sysread $res_r, $buf, 4096, length $buf;
        last unless $got;
    }
    @res = grep { length } split /\n/, $buf;
    for my $pid (@pids) {
        kill 'KILL', $pid unless waitpid($pid, WNOHANG);
        waitpid $pid, 0;
    }

    is(scalar @res, $n, "all $n clients answered");
    my @ok = grep { (split / /)[1] == 200 } @res;
    is(scalar @ok, $n, "all $n got 200") or diag(join "\n", @res);
    my @hung = grep { (split / /)[2] } @res;
    is(scalar @hung, 0, 'none timed out');
    my ($slowest) = sort { $b <=> $a } map { (split / /)[3] } @res;
    ok(defined $slowest && $slowest < 9,
       sprintf('the slowest took %.2f s', $slowest // -1));
    my $f = fetches('/jwks.json');
    ok($f >= 1 && $f <= 2, "the IdP saw $f fetch(es), at most one per worker")
        or diag(join "\n", idp_lines());
}

# a client that goes away while its request fetches the set: that is no
# failure of the IdP, and the next client (a moment later) gets in once a
# fetch is done; it is not refused for 5 s for the first one's leaving
{
    my $body = json_encode(modern_body('tools/list', {}));
    my $req = "POST /mcp-abort HTTP/1.1\r\n"
            . 'Host: 127.0.0.1:' . port() . "\r\n"
            . "Content-Type: application/json\r\n"
            . "Accept: application/json, text/event-stream\r\n"
            . 'MCP-Protocol-Version: ' . MODERN . "\r\n"
            . "Mcp-Method: tools/list\r\n"
            . "Authorization: Bearer $tokens_alice\r\n"
            . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    my $r = raw_send($req, timeout => 0.5);      # gone before the answer
    ok(!defined $r->{status}, 'the first client left before an answer');
    sleep 0.3;
    my $t0 = time;
    $r = call('/mcp-abort', make_token(claims => { sub => 'next' }));
    is($r->{status}, 200, 'the next client, after the first left: 200')
        or diag("$r->{status}: " . www($r) . "\n"
                . join "\n", grep { /mcp auth/ } split /\n/, error_log_text());
    ok(time - $t0 < 9, sprintf('... in %.2f s', time - $t0));
}

stop_nginx();
done_testing();
