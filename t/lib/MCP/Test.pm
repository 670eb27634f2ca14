package MCP::Test;

# Test harness for ngx_http_mcp_module: runs Debian's nginx with a per-test
# configuration, talks HTTP/1.1 to it over raw sockets, and checks error.log
# (and sanitizer logs) for trouble when nginx stops.
#
# Written for this project; uses Perl core modules and JSON::XS only.
#
# What the harness does to a test's configuration template, and nothing more:
#
#   * placeholders: %%MODULE%% (absolute path of the module .so),
#     %%PORT%% (= %%PORT_0%%), %%PORT_1%%, %%PORT_2%%, ... (free loopback
#     ports >= 20000), %%TESTDIR%% (the per-test directory, nginx prefix);
#   * on the line of the first `http {` it appends, after the brace,
#     client_body_temp_path / proxy_temp_path / fastcgi_temp_path /
#     uwsgi_temp_path / scgi_temp_path pointing into TESTDIR (Debian's
#     compiled-in paths are under /var/lib/nginx), each unless the template
#     sets it itself; line numbers are kept;
#   * nginx runs as
#       /usr/sbin/nginx -p TESTDIR -c nginx.conf -e TESTDIR/error.log
#         -g 'daemon off; master_process on; pid TESTDIR/nginx.pid;
#             error_log TESTDIR/error.log info;'
#     with its stdout/stderr in TESTDIR/stderr.log.
#
# Environment:
#   MCP_TEST_MODULE   the .so (default: build/ngx_http_mcp_module.so, or
#                     build/asan/ngx_http_mcp_module.so when MCP_TEST_ASAN=1)
#   MCP_TEST_ASAN=1   the module has ASan+UBSan: nginx gets LD_PRELOAD of
#                     gcc's libasan.so and libubsan.so, ASAN_OPTIONS and
#                     UBSAN_OPTIONS with log_path=TESTDIR/asan/...
#   MCP_TEST_NGINX    the nginx binary (default /usr/sbin/nginx)
#   MCP_TEST_KEEP=1   keep the test directories (under t/tmp/); they are
#                     also kept when the test file fails
#   MCP_TEST_VERBOSE=1  diag every request and response
#
# At stop (stop_nginx(), or at the end of the test file) one Test::More test
# checks that error.log has no [alert], [crit] or [emerg] line, no "exited on
# signal", no "worker process N exited with code" other than 0, and no
# AddressSanitizer / UBSan ("runtime error:") / LeakSanitizer report; also
# TESTDIR/stderr.log and TESTDIR/asan/* are checked for sanitizer reports.

use strict;
use warnings;

use Exporter qw(import);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Select;
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX qw(:sys_wait_h);
use Socket qw(SOL_SOCKET SO_REUSEADDR);
use Time::HiRes qw(time sleep);
use Test::More;
use JSON::XS;

our @EXPORT = qw(
    start_nginx stop_nginx reload_nginx start_instance stop_instance nginx_t_fails nginx_t_ok
    port testdir error_log_text write_file
    http raw_send parse_http_response
    mcp_post mcp_init legacy_post legacy_notify modern_post modern_body
    mcp_request mcp_tool_call mcp_result mcp_tool_rows mcp_tool_text
    mcp_tool_error_is
    sse_messages read_for json_encode json_decode b64 session_store
    png_1x1 wav_tiny backend backend_request backend_reply closed_port
    MODERN LEGACY_VERSIONS
);

use constant MODERN => '2026-07-28';
sub LEGACY_VERSIONS { return ('2025-03-26', '2025-06-18', '2025-11-25') }

our $NGINX   = $ENV{MCP_TEST_NGINX} || '/usr/sbin/nginx';
our $TIMEOUT = 10;            # seconds for one HTTP exchange
our $PATH    = '/mcp';        # default MCP endpoint path
our $HOST;                    # default Host header (127.0.0.1:PORT)

my $TOP = abs_path(File::Spec->catdir(dirname(__FILE__), '..', '..', '..'));
my $JSON = JSON::XS->new->utf8->canonical->allow_nonref;

my $current;                  # the running nginx: {pid, dir, ports, ...}
my @dirs;                     # test directories, removed at the end if passing
my $next_id = 1;

sub json_encode { return $JSON->encode($_[0]) }
sub json_decode { my $v = eval { $JSON->decode($_[0]) }; return $v }
sub b64 { my $s = encode_base64($_[0], ''); return $s }

sub _asan { return ($ENV{MCP_TEST_ASAN} || '') eq '1' }

sub _module_path {
    my $m = $ENV{MCP_TEST_MODULE};
    if (!defined $m || $m eq '') {
        $m = _asan() ? "$TOP/build/asan/ngx_http_mcp_module.so"
                     : "$TOP/build/ngx_http_mcp_module.so";
    }
    $m = File::Spec->rel2abs($m, $TOP) unless File::Spec->file_name_is_absolute($m);
    return $m;
}

sub _new_dir {
    my $base = "$TOP/t/tmp";
    make_path($base);
    my $name = $0;
    $name =~ s{.*/}{};
    $name =~ s/\.t$//;
    $name =~ s/[^A-Za-z0-9_.-]/_/g;
    my $dir = tempdir("$name-XXXXXX", DIR => $base, CLEANUP => 0);
    push @dirs, $dir;
    # workers run as an unprivileged user when we are root
    chmod 0755, $dir;
    make_path("$dir/logs", "$dir/asan", "$dir/html");
    chmod 01777, "$dir/asan";
    return $dir;
}

# a free loopback TCP port >= 20000 (the kernel picks it)
sub _free_port {
    my ($taken) = @_;
    for (1 .. 200) {
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                      LocalPort => 0, Proto => 'tcp',
                                      ReuseAddr => 0)
            or next;
        my $p = $s->sockport;
        close $s;
        next if $p < 20000 || $taken->{$p};
        $taken->{$p} = 1;
        return $p;
    }
    die "MCP::Test: no free port\n";
}

sub write_file {
    my ($path, $content) = @_;
    make_path(dirname($path));
    open my $fh, '>:raw', $path or die "MCP::Test: $path: $!\n";
    print $fh $content;
    close $fh or die "MCP::Test: $path: $!\n";
}

sub _read_file {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return '';
    local $/;
    my $s = <$fh>;
    close $fh;
    return defined $s ? $s : '';
}

# Prepares TESTDIR: the configuration with placeholders filled, extra files.
sub _prepare {
    my ($template, %opt) = @_;

    my $dir = _new_dir();
    my %taken;
    my %ports;
    my $conf = $template;

    while ($conf =~ /%%PORT(?:_(\d+))?%%/g) {
        my $n = defined $1 ? $1 : 0;
        $ports{$n} //= _free_port(\%taken);
    }

    my $module = _module_path();
    $conf =~ s/%%MODULE%%/$module/g;
    $conf =~ s/%%TESTDIR%%/$dir/g;
    $conf =~ s/%%PORT(?:_(\d+))?%%/$ports{defined $1 ? $1 : 0}/ge;

    my $temps = join ' ', map { "${_}_temp_path $dir/${_}_temp;" }
                          grep { $conf !~ /^\s*${_}_temp_path\s/m }
                          qw(client_body proxy fastcgi uwsgi scgi);
    $conf =~ s/^(\s*http\s*\{)/$1 $temps/m;

    write_file("$dir/nginx.conf", $conf);

    my $files = $opt{files} || {};
    for my $f (sort keys %$files) {
        my $content = $files->{$f};
        $content = $content->($dir) if ref $content eq 'CODE';
        write_file(File::Spec->file_name_is_absolute($f) ? $f : "$dir/$f",
                   $content);
    }

    return { dir => $dir, ports => \%ports, module => $module };
}

sub _env_for {
    my ($dir) = @_;
    my %env;
    if (_asan()) {
        my @pre;
        for my $lib (qw(libasan.so libubsan.so)) {
            chomp(my $p = `gcc -print-file-name=$lib`);
            die "MCP::Test: gcc does not know $lib\n" unless $p && -e $p;
            push @pre, $p;
        }
        $env{LD_PRELOAD} = join ':', @pre;
        $env{ASAN_OPTIONS} = "detect_leaks=0:abort_on_error=0"
                           . ":log_path=$dir/asan/asan";
        $env{UBSAN_OPTIONS} = "print_stacktrace=1:log_path=$dir/asan/ubsan";
    }
    return %env;
}

sub _nginx_cmd {
    my ($dir, @extra) = @_;
    my $g = "daemon off; master_process on; pid $dir/nginx.pid; "
          . "error_log $dir/error.log info;";
    return ($NGINX, '-p', "$dir/", '-c', 'nginx.conf', '-e', "$dir/error.log",
            '-g', $g, @extra);
}

# Runs a command with the nginx environment, output to a file; returns
# (exit status, output).
sub _run_capture {
    my ($dir, $out, @cmd) = @_;
    my %env = _env_for($dir);
    my $pid = fork;
    die "MCP::Test: fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        $ENV{$_} = $env{$_} for keys %env;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    return ($?, _read_file($out));
}

# nginx -t with a configuration that must fail: the failure message must
# match $re and name the file and line (nginx.conf:N; line => N exactly;
# without it, a line the template marks with "#<-" when it marks any).
# Returns the output.
sub nginx_t_fails {
    my ($template, $re, %opt) = @_;
    my $name = $opt{name} || "nginx -t fails: $re";
    my $t = _prepare($template, %opt);
    my ($rc, $out) = _run_capture($t->{dir}, "$t->{dir}/nginx-t.out",
                                  _nginx_cmd($t->{dir}, '-t'));
    my $file = $opt{file} || 'nginx.conf';
    my $line = $opt{line};
    if (!defined $line) {
        # the lines the template marks with "#<-": the error names one
        my @l = split /\n/, $template;
        my @marked = map { $_ + 1 } grep { $l[$_] =~ /#<-/ } 0 .. $#l;
        $line = @marked == 1 ? $marked[0] : '(?:' . join('|', @marked) . ')' if @marked;
    }
    my $where = defined $line ? qr/\Q$file\E:$line\b/ : qr/\Q$file\E:\d+/;

    my $ok = $rc != 0 && $out =~ $re && $out =~ $where;
    ok($ok, $name) or diag("exit status $rc, output:\n$out");
    _check_sanitizer_files($t->{dir}, "$name: no sanitizer report")
        if _asan();
    return $out;
}

# nginx -t with a configuration that must pass
sub nginx_t_ok {
    my ($template, %opt) = @_;
    my $name = $opt{name} || 'nginx -t passes';
    my $t = _prepare($template, %opt);
    my ($rc, $out) = _run_capture($t->{dir}, "$t->{dir}/nginx-t.out",
                                  _nginx_cmd($t->{dir}, '-t'));
    ok($rc == 0 && $out !~ /\[(?:alert|crit|emerg)\]/, $name)
        or diag("exit status $rc, output:\n$out");
    _check_sanitizer_files($t->{dir}, "$name: no sanitizer report")
        if _asan();
    return $out;
}

# Starts nginx with the configuration; returns {dir, ports, pid}.
# Options: files => {relative path => content or sub($dir)},
#          wait_ports => [n, ...] (default: every %%PORT%% used).
# Dies (after a failed test) when nginx does not come up.
sub start_nginx {
    my ($template, %opt) = @_;

    stop_nginx() if $current;

    my $t = start_instance($template, %opt);
    $current = $t;
    $HOST = undef;

    return $t;
}

# start_instance($template, %opt): one more nginx beside the current one
# (a replica), started as start_nginx does; its ports in $t->{ports}, its
# directory in $t->{dir}.  stop_instance($t, %opt) stops it.
sub start_instance {
    my ($template, %opt) = @_;

    my $t = _prepare($template, %opt);
    my $dir = $t->{dir};
    my %env = _env_for($dir);
    my @cmd = _nginx_cmd($dir);

    my $pid = fork;
    die "MCP::Test: fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        $ENV{$_} = $env{$_} for keys %env;
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/stderr.log";
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }

    $t->{pid} = $pid;

    my @wait = $opt{wait_ports} ? map { $t->{ports}{$_} } @{ $opt{wait_ports} }
                                : values %{ $t->{ports} };
    my $deadline = time + (_asan() ? 30 : 15);
    my %up;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            my $status = $?;
            fail("nginx started");
            diag("nginx exited at start with status $status\n"
                 . _read_file("$dir/stderr.log") . _read_file("$dir/error.log"));
            die "MCP::Test: nginx did not start\n";
        }
        for my $p (@wait) {
            next if $up{$p};
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => $p, Proto => 'tcp',
                                          Timeout => 1);
            if ($s) { $up{$p} = 1; close $s; }
        }
        last if keys %up == @wait;
        sleep 0.05;
    }
    if (keys %up != @wait) {
        fail("nginx started");
        diag("nginx does not accept on its ports\n"
             . _read_file("$dir/error.log"));
        stop_instance($t, quiet => 1);
        die "MCP::Test: nginx did not start\n";
    }

    # workers are up once the port accepts; give every worker time to start
    # so that an early request does not race a worker's init
    sleep 0.1;
    return $t;
}

# nginx -s reload of the running nginx (SIGHUP to its master), waited for:
# its N new workers started and N old ones exited (workers => N, default 4)
sub reload_nginx {
    my (%o) = @_;
    my $n = $o{workers} // 4;
    my $count = sub {
        my ($log) = @_;
        my $e = () = $log =~ /worker process \d+ exited with code 0/g;
        my $s = () = $log =~ /start worker process/g;
        return ($e, $s);
    };
    my ($exited, $started) = $count->(error_log_text());
    my $pid = _read_file(testdir() . '/nginx.pid');
    chomp $pid;
    kill 'HUP', $pid;
    my $ok = 0;
    for (1 .. 200) {
        select(undef, undef, undef, 0.05);
        my $log = error_log_text();
        my ($e, $s) = $count->($log);
        if ($log =~ /reconfiguring/ && $s >= $started + $n && $e >= $exited + $n) {
            $ok = 1;
            last;
        }
    }
    ok($ok, 'reload: new workers started, the old ones exited');
    return $ok;
}

sub port {
    my ($n) = @_;
    die "MCP::Test: nginx is not running\n" unless $current;
    return $current->{ports}{ $n // 0 };
}

sub testdir { return $current ? $current->{dir} : undef }

sub error_log_text {
    return $current ? _read_file("$current->{dir}/error.log") : '';
}

# Stops nginx (SIGQUIT, then SIGTERM, then SIGKILL) and checks the logs.
# Options: quiet => 1 (no test), allow => qr/.../ (lines matching it are
# not held against the run).
sub stop_nginx {
    my (%opt) = @_;
    my $t = $current or return;
    $current = undef;

    return stop_instance($t, %opt);
}

sub stop_instance {
    my ($t, %opt) = @_;

    my $pid = $t->{pid};
    my $killed = '';
    if (kill 0, $pid) {
        kill 'QUIT', $pid;
        my $deadline = time + (_asan() ? 20 : 10);
        my $done = 0;
        while (time < $deadline) {
            if (waitpid($pid, WNOHANG) == $pid) { $done = 1; last; }
            sleep 0.05;
        }
        if (!$done) {
            $killed = "nginx did not stop on SIGQUIT";
            kill 'TERM', $pid;
            my $d2 = time + 5;
            while (time < $d2) {
                if (waitpid($pid, WNOHANG) == $pid) { $done = 1; last; }
                sleep 0.05;
            }
        }
        if (!$done) {
            kill 'KILL', -$pid;
            kill 'KILL', $pid;
            waitpid $pid, 0;
        }
    } else {
        waitpid $pid, WNOHANG;
    }

    return if $opt{quiet};

    my $log = _read_file("$t->{dir}/error.log");
    my @bad;
    for my $line (split /\n/, $log) {
        next if $opt{allow} && $line =~ $opt{allow};
        push @bad, $line
            if $line =~ /\[(?:alert|crit|emerg)\]/
            || $line =~ /exited on signal/
            || $line =~ /worker process \d+ exited with code (?!0\b)/
            || $line =~ /AddressSanitizer|LeakSanitizer|runtime error:/;
    }
    my $err = _read_file("$t->{dir}/stderr.log");
    push @bad, grep { /AddressSanitizer|LeakSanitizer|runtime error:|\[(?:alert|crit|emerg)\]/ }
               split /\n/, $err;
    push @bad, $killed if $killed;

    ok(!@bad, 'nginx stopped cleanly, error.log has no alert/crit/emerg, '
              . 'crash or sanitizer report')
        or diag(join "\n", @bad[0 .. ($#bad < 30 ? $#bad : 29)]);

    _check_sanitizer_files($t->{dir}, 'no sanitizer report files');
}

sub _check_sanitizer_files {
    my ($dir, $name) = @_;
    my @reports;
    for my $f (glob "$dir/asan/*") {
        my $s = _read_file($f);
        push @reports, "$f:\n" . substr($s, 0, 4000) if $s =~ /\S/;
    }
    ok(!@reports, $name) or diag(join "\n", @reports);
}

# a test that forgot stop_nginx(), or died: stop nginx; the log checks run as
# tests only while the test is still open (no plan yet), else as diagnostics
END {
    my $status = $?;
    if ($current) {
        my $tb = Test::More->builder;
        if (defined $tb->has_plan) {
            my $dir = $current->{dir};
            stop_nginx(quiet => 1);
            my $log = _read_file("$dir/error.log");
            my @bad = grep { /\[(?:alert|crit|emerg)\]|exited on signal|Sanitizer|runtime error:/ }
                      split /\n/, $log;
            if (@bad) {
                diag("error.log of the last nginx:\n" . join "\n", @bad);
                $status ||= 1;
            }
        } else {
            stop_nginx();
        }
    }
    if (!$ENV{MCP_TEST_KEEP} && $status == 0 && Test::More->builder->is_passing) {
        remove_tree($_) for @dirs;
    } elsif (@dirs) {
        diag("test directories kept: @dirs") if $status || !Test::More->builder->is_passing;
    }
    $? = $status;
}

# ---------------------------------------------------------------------------
# HTTP

sub _connect {
    my ($port, $timeout) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => $timeout || 5);
    die "MCP::Test: connect 127.0.0.1:$port: $!\n" unless $s;
    binmode $s;
    $s->autoflush(1);
    return $s;
}

sub _write_all {
    my ($s, $data) = @_;
    my $off = 0;
    local $SIG{PIPE} = 'IGNORE';
    while ($off < length $data) {
        my $n = syswrite($s, $data, length($data) - $off, $off);
        return 0 unless defined $n && $n > 0;
        $off += $n;
    }
    return 1;
}

# reads until the peer closes or $timeout passes; returns (data, closed)
sub _read_until_close {
    my ($s, $timeout, $enough) = @_;
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $deadline = time + $timeout;
    while (1) {
        my $left = $deadline - time;
        return ($buf, 0) if $left <= 0;
        my @r = $sel->can_read($left);
        next unless @r;
        my $n = sysread($s, $buf, 65536, length $buf);
        return ($buf, 1) if !defined $n || $n == 0;
        return ($buf, 0) if $enough && $enough->($buf);
    }
}

# Parses one HTTP/1.x response from $raw.  Returns a hash: status, reason,
# headers (lowercased name => value, repeated headers joined with ", "),
# header_list ([name, value] pairs as sent), body, complete (1 when the body
# was complete), raw.
sub parse_http_response {
    my ($raw, $method) = @_;
    my %r = (raw => $raw, complete => 0, headers => {}, header_list => []);
    my $end = index $raw, "\r\n\r\n";
    return \%r if $end < 0;
    my $head = substr $raw, 0, $end;
    my $rest = substr $raw, $end + 4;
    my @lines = split /\r\n/, $head;
    my $sl = shift @lines;
    if ($sl =~ m{^HTTP/\d\.\d (\d{3})(?: (.*))?$}) {
        $r{status} = $1 + 0;
        $r{reason} = $2 // '';
    }
    for my $l (@lines) {
        my ($n, $v) = $l =~ /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
        push @{ $r{header_list} }, [$n, $v];
        my $k = lc $n;
        $r{headers}{$k} = exists $r{headers}{$k} ? "$r{headers}{$k}, $v" : $v;
    }
    my $h = $r{headers};
    if (($method && $method eq 'HEAD') || !defined $r{status}
        || $r{status} == 204 || $r{status} == 304 || $r{status} < 200)
    {
        $r{body} = '';
        $r{complete} = 1;
    } elsif (($h->{'transfer-encoding'} || '') =~ /chunked/i) {
        my $body = '';
        my $pos = 0;
        while (1) {
            my $e = index $rest, "\r\n", $pos;
            last if $e < 0;
            my ($size) = substr($rest, $pos, $e - $pos) =~ /^([0-9a-fA-F]+)/;
            last unless defined $size;
            $size = hex $size;
            if ($size == 0) { $r{complete} = 1; last; }
            last if length($rest) < $e + 2 + $size + 2;
            $body .= substr $rest, $e + 2, $size;
            $pos = $e + 2 + $size + 2;
        }
        $r{body} = $body;
    } elsif (defined $h->{'content-length'}) {
        my $len = $h->{'content-length'} + 0;
        $r{body} = substr $rest, 0, $len;
        $r{complete} = length($rest) >= $len ? 1 : 0;
    } else {
        $r{body} = $rest;
        $r{complete} = 1;    # until close
    }
    return \%r;
}

sub _response_done {
    my ($buf, $method) = @_;
    my $r = parse_http_response($buf, $method);
    return 0 unless defined $r->{status};
    my $h = $r->{headers};
    return $r->{complete}
        if ($h->{'transfer-encoding'} || '') =~ /chunked/i
           || defined $h->{'content-length'}
           || $r->{status} == 204 || $r->{status} == 304
           || ($method && $method eq 'HEAD');
    return 0;    # read until close
}

# http($method, $path, headers => {...}, body => $bytes, port => N,
#      timeout => S, host => 'h:p')
# One request on a new connection (Connection: close).  Headers with an
# undef value are not sent; Host defaults to 127.0.0.1:PORT.
# Returns the parsed response (see parse_http_response), plus `timed_out`.
sub http {
    my ($method, $path, %o) = @_;
    my $port = $o{port} || port();
    my $timeout = $o{timeout} || $TIMEOUT;
    my %hdr = (Host => "127.0.0.1:$port", Connection => 'close');
    my $body = $o{body};
    $hdr{'Content-Length'} = length $body if defined $body;
    my @order = ('Host', 'Connection');
    my $given = $o{headers} || {};
    my @extra = ref $given eq 'ARRAY' ? @$given : map { ($_, $given->{$_}) }
                                                 sort keys %$given;
    my @lines;
    my %seen;
    for (my $i = 0; $i < @extra; $i += 2) {
        my ($k, $v) = ($extra[$i], $extra[$i + 1]);
        for my $d (keys %hdr) { delete $hdr{$d} if lc $d eq lc $k; }
        $seen{lc $k} = 1;
        push @lines, "$k: $v" if defined $v;
    }
    my @base = grep { exists $hdr{$_} } (@order, sort keys %hdr);
    my %dup;
    @base = grep { !$dup{$_}++ } @base;
    my $req = "$method $path HTTP/1.1\r\n"
            . join('', map { "$_: $hdr{$_}\r\n" } @base)
            . join('', map { "$_\r\n" } @lines)
            . "\r\n";
    $req .= $body if defined $body;

    diag("> $req") if $ENV{MCP_TEST_VERBOSE};
    my $s = _connect($port, $timeout);
    _write_all($s, $req);
    my ($buf, $closed) = _read_until_close($s, $timeout,
                                           sub { _response_done($_[0], $method) });
    close $s;
    my $r = parse_http_response($buf, $method);
    $r->{timed_out} = (!$closed && !$r->{complete}) ? 1 : 0;
    diag("< $buf") if $ENV{MCP_TEST_VERBOSE};
    return $r;
}

# raw_send($bytes, port => N, timeout => S, until_close => 1, no_read => 1,
#          half_close => 1)
# Sends bytes as they are, then reads until a whole response has arrived, the
# server closes the connection (always, with until_close) or the timeout
# passes.  no_read: close right after sending.  Returns {raw, closed,
# elapsed, and the fields of parse_http_response}.
sub raw_send {
    my ($bytes, %o) = @_;
    my $port = $o{port} || port();
    my $timeout = $o{timeout} || $TIMEOUT;
    my $t0 = time;
    my $s = _connect($port, $timeout);
    _write_all($s, $bytes) if length $bytes;
    shutdown($s, 1) if $o{half_close};
    if ($o{no_read}) {
        close $s;
        return { raw => '', closed => 0, elapsed => time - $t0 };
    }
    my ($buf, $closed) = _read_until_close($s, $timeout,
        $o{until_close} ? undef : sub { _response_done($_[0]) });
    close $s;
    my $r = parse_http_response($buf);
    $r->{raw} = $buf;
    $r->{closed} = $closed;
    $r->{elapsed} = time - $t0;
    return $r;
}

# ---------------------------------------------------------------------------
# MCP

# data: lines of an SSE body, each decoded as JSON (undef when not JSON)
# reads an open stream's socket for up to $secs seconds, or until what came
# (after $buf, what came before, if given) matches $until; returns (what
# came, whether the peer closed)
# session_store($redis_port, $prefix): the http{} lines of the sessions'
# store, a Redis server on that port with that key prefix, or (no port) a
# shared-memory zone
sub session_store {
    my ($redis, $prefix) = @_;
    return 'mcp_session_zone s:1m;' unless $redis;
    return "upstream cache { mcp_redis_server 127.0.0.1:$redis; }\n"
           . "    mcp_session_store redis=cache prefix=$prefix;";
}

sub read_for {
    my ($s, $secs, $until, $buf) = @_;
    my $sel = IO::Select->new($s);
    $buf //= '';
    my $end = time + $secs;
    while ((my $left = $end - time) > 0) {
        next unless $sel->can_read($left);
        my $n = sysread($s, $buf, 65536, length $buf);
        return ($buf, 1) if !defined $n || $n == 0;
        return ($buf, 0) if $until && $buf =~ $until;
    }
    return ($buf, 0);
}

sub sse_messages {
    my ($body) = @_;
    my @msgs;
    my $data;
    for my $line (split /\r?\n/, $body, -1) {
        if ($line eq '') {
            push @msgs, json_decode($data) if defined $data && $data ne '';
            $data = undef;
        } elsif ($line =~ /^data: ?(.*)$/) {
            $data = defined $data ? "$data\n$1" : $1;
        }
    }
    push @msgs, json_decode($data) if defined $data && $data ne '';
    return @msgs;
}

# mcp_post($body_or_ref, %headers)
# POSTs to the MCP endpoint with Content-Type: application/json and
# Accept: application/json, text/event-stream.  A reference is encoded as
# JSON.  Header values of undef remove a default header.  Options among the
# headers, all starting with '-': -path, -port, -timeout, -host.
# Returns {status, headers, body, json, messages, raw}: json is the decoded
# body (for an SSE answer: the last message, i.e. the response, and
# `messages` has all of them).
sub mcp_post {
    my ($body, @kv) = @_;
    my (%opt, @hdr);
    for (my $i = 0; $i < @kv; $i += 2) {
        if ($kv[$i] =~ /^-(\w+)$/) { $opt{$1} = $kv[$i + 1]; }
        else { push @hdr, $kv[$i], $kv[$i + 1]; }
    }
    $body = json_encode($body) if ref $body;
    my $port = $opt{port} || port();
    my @headers = ('Content-Type' => 'application/json',
                   'Accept' => 'application/json, text/event-stream');
    push @headers, Host => $opt{host} if defined $opt{host};
    # caller's headers override defaults, case-insensitively
    my %over;
    for (my $i = 0; $i < @hdr; $i += 2) { $over{ lc $hdr[$i] } = 1 }
    my @final;
    for (my $i = 0; $i < @headers; $i += 2) {
        push @final, $headers[$i], $headers[$i + 1]
            unless $over{ lc $headers[$i] };
    }
    push @final, @hdr;
    my $r = http('POST', $opt{path} || $PATH, headers => \@final,
                 body => $body, port => $port, timeout => $opt{timeout});
    my $ct = $r->{headers}{'content-type'} || '';
    $r->{messages} = [];
    if ($ct =~ m{^text/event-stream}i) {
        my @m = sse_messages($r->{body});
        $r->{messages} = \@m;
        $r->{json} = $m[-1];
    } elsif (defined $r->{body} && length $r->{body}) {
        $r->{json} = json_decode($r->{body});
    }
    return $r;
}

sub _id { return $next_id++ }

# legacy_post($sid, $version, $method, $params, %opt)
# A request in a legacy session: Mcp-Session-Id and (from 2025-06-18)
# MCP-Protocol-Version headers.  $params undef: no params member.
# Options: id (default: a fresh integer), headers => [...] extra headers.
sub legacy_post {
    my ($sid, $version, $method, $params, %o) = @_;
    my $msg = { jsonrpc => '2.0', id => $o{id} // _id(), method => $method };
    $msg->{params} = $params if defined $params;
    my @h;
    push @h, 'Mcp-Session-Id' => $sid if defined $sid;
    push @h, 'MCP-Protocol-Version' => $version
        if defined $version && $version ne '2025-03-26';
    push @h, @{ $o{headers} } if $o{headers};
    return mcp_post($msg, @h);
}

sub legacy_notify {
    my ($sid, $version, $method, $params, %o) = @_;
    my $msg = { jsonrpc => '2.0', method => $method };
    $msg->{params} = $params if defined $params;
    my @h;
    push @h, 'Mcp-Session-Id' => $sid if defined $sid;
    push @h, 'MCP-Protocol-Version' => $version
        if defined $version && $version ne '2025-03-26';
    push @h, @{ $o{headers} } if $o{headers};
    return mcp_post($msg, @h);
}

# mcp_init($version, %opt): initialize + notifications/initialized.
# Returns the session id; in list context (sid, initialize response,
# initialized response).  Options: capabilities => {...}, headers => [...]
# (on both requests), path/port via '-path'/'-port' in headers.
sub mcp_init {
    my ($version, %o) = @_;
    $version //= '2025-11-25';
    my @extra = @{ $o{headers} || [] };
    my $init = mcp_post({
        jsonrpc => '2.0', id => _id(), method => 'initialize',
        params => {
            protocolVersion => $version,
            capabilities => $o{capabilities} || {},
            clientInfo => { name => 'mcp-test', version => '1.0.0' },
        },
    }, @extra);
    my $sid = $init->{headers}{'mcp-session-id'};
    my $neg = $init->{json} && ref $init->{json}{result} eq 'HASH'
            ? $init->{json}{result}{protocolVersion} : undef;
    my @vh = (defined $neg && $neg ne '2025-03-26')
           ? ('MCP-Protocol-Version' => $neg) : ();
    my $notif = mcp_post({ jsonrpc => '2.0',
                           method => 'notifications/initialized' },
                         (defined $sid ? ('Mcp-Session-Id' => $sid) : ()),
                         @vh, @extra);
    return wantarray ? ($sid, $init, $notif) : $sid;
}

# modern_body($method, $params, %opt): the JSON-RPC request of modern_post
sub modern_body {
    my ($method, $params, %o) = @_;
    my %p = %{ $params || {} };
    unless ($o{no_meta}) {
        my %meta = (
            'io.modelcontextprotocol/protocolVersion' => $o{version} // MODERN,
            'io.modelcontextprotocol/clientCapabilities' => $o{caps} // {},
            'io.modelcontextprotocol/clientInfo' =>
                { name => 'mcp-test', version => '1.0.0' },
        );
        my $m = $o{meta} || {};
        for my $k (keys %$m) {
            my $full = $k =~ m{/} ? $k : "io.modelcontextprotocol/$k";
            if (defined $m->{$k}) { $meta{$full} = $m->{$k} }
            else { delete $meta{$full} }
        }
        $p{_meta} = \%meta;
    }
    my $msg = { jsonrpc => '2.0', method => $method,
                id => exists $o{id} ? $o{id} : _id() };
    delete $msg->{id} if $o{notification};
    $msg->{params} = \%p unless $o{no_params};
    return $msg;
}

# modern_post($method, $params, %opt): a 2026-07-28 request.
# params get _meta (protocolVersion, clientCapabilities {}, clientInfo);
# headers MCP-Protocol-Version, Mcp-Method and, for tools/call, prompts/get
# and resources/read, Mcp-Name (params.name / params.uri).
# Options: id, version (in _meta; the header follows unless header_version),
#   header_version, caps, meta => {key => value or undef to drop},
#   no_meta, no_params, notification,
#   headers => [name => value or undef to drop a default one],
#   path, port, body (send this instead of the built message).
sub modern_post {
    my ($method, $params, %o) = @_;
    my $msg = $o{body} // modern_body($method, $params, %o);
    my %h = (
        'MCP-Protocol-Version' => $o{header_version} // $o{version} // MODERN,
        'Mcp-Method' => $method,
    );
    if ($method =~ m{^(?:tools/call|prompts/get)$} && $params
        && defined $params->{name})
    {
        $h{'Mcp-Name'} = $params->{name};
    } elsif ($method eq 'resources/read' && $params && defined $params->{uri}) {
        $h{'Mcp-Name'} = $params->{uri};
    }
    my @extra = @{ $o{headers} || [] };
    for (my $i = 0; $i < @extra; $i += 2) {
        for my $k (keys %h) { delete $h{$k} if lc $k eq lc $extra[$i]; }
    }
    my @hdr = map { ($_, $h{$_}) } sort keys %h;
    for (my $i = 0; $i < @extra; $i += 2) {
        push @hdr, $extra[$i], $extra[$i + 1] if defined $extra[$i + 1];
    }
    push @hdr, -path => $o{path} if $o{path};
    push @hdr, -port => $o{port} if $o{port};
    return mcp_post($msg, @hdr);
}

# ---------------------------------------------------------------------------
# one request in either era, and what a tool answered

# mcp_request($era, $method, $params, path => P, headers => [...]): a
# stateless request for MODERN, else a request in the session of that
# path (made once, then reused)
my %sessions;

sub mcp_request {
    my ($era, $method, $params, %o) = @_;
    my $path = $o{path} // $PATH;
    my @h = @{ $o{headers} || [] };
    if ($era eq MODERN) {
        return modern_post($method, $params, path => $path, headers => \@h);
    }
    $sessions{$path} //= mcp_init('2025-11-25', headers => [-path => $path]);
    return legacy_post($sessions{$path}, $era, $method, $params,
                       headers => [-path => $path, @h]);
}

sub mcp_tool_call {
    my ($era, $name, $args, %o) = @_;
    return mcp_request($era, 'tools/call',
                       { name => $name, arguments => $args // {} }, %o);
}

# the JSON-RPC result object, or {} when there is none
sub mcp_result {
    my ($r) = @_;
    return $r->{json} && ref $r->{json}{result} eq 'HASH' ? $r->{json}{result} : {};
}

# structuredContent.rows of a tool's result, or undef
sub mcp_tool_rows {
    my ($r) = @_;
    my $s = mcp_result($r)->{structuredContent};
    return ref $s eq 'HASH' && ref $s->{rows} eq 'ARRAY' ? $s->{rows} : undef;
}

# the text of a tool result's first content item, or undef
sub mcp_tool_text {
    my ($r) = @_;
    my $c = mcp_result($r)->{content};
    return ref $c eq 'ARRAY' && $c->[0] ? $c->[0]{text} : undef;
}

# three tests: HTTP 200, isError, and the text (a string or a regex)
sub mcp_tool_error_is {
    my ($r, $want, $name) = @_;
    Test::More::is($r->{status}, 200, "$name: HTTP 200");
    Test::More::ok(mcp_result($r)->{isError}, "$name: isError")
        or Test::More::diag($r->{body});
    if (ref $want) { Test::More::like(mcp_tool_text($r) // '', $want, "$name: text") }
    else { Test::More::is(mcp_tool_text($r), $want, "$name: text") }
}

# ---------------------------------------------------------------------------
# fixtures

# backend(\&serve): an HTTP backend of the test's own on a free loopback
# port, one forked child per connection calling serve($socket).  Returns
# the port; the server is stopped when the test ends.
my @backends;

sub backend {
    my ($serve) = @_;
    my $listen = IO::Socket::INET->new(Listen => 512,
                                       LocalAddr => '127.0.0.1',
                                       LocalPort => 0, Proto => 'tcp',
                                       ReuseAddr => 1)
        or die "backend: $!\n";
    my $port = $listen->sockport;

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        $SIG{CHLD} = 'IGNORE';
        $SIG{PIPE} = 'IGNORE';
        while (1) {
            my $c = $listen->accept or next;
            my $child = fork;
            if (!defined $child) { close $c; next; }
            if ($child == 0) {
                close $listen;
                eval { $serve->($c) };
                close $c;
                POSIX::_exit(0);
            }
            close $c;
        }
    }

    close $listen;
    push @backends, $pid;
    return $port;
}

END { kill 'TERM', @backends if @backends; }

# backend_request($socket): one HTTP/1.1 request read by a backend:
# {method, path, headers => {lowercase name => value, repeats joined with
# ", "}, header_list => [[name, value], ...], body}, or undef.
sub backend_request {
    my ($s) = @_;
    my $buf = '';
    my $end;
    while (($end = index $buf, "\r\n\r\n") < 0) {
        my $n = sysread $s, $buf, 65536, length $buf;
        return undef unless $n;
    }
    my @lines = split /\r\n/, substr($buf, 0, $end);
    my $body = substr $buf, $end + 4;
    my ($method, $path) = (shift @lines) =~ m{^(\S+) (\S+) HTTP/}
        or return undef;
    my (%h, @list);
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        push @list, [$k, $v];
        $h{lc $k} = exists $h{lc $k} ? "$h{lc $k}, $v" : $v;
    }
    while (length $body < ($h{'content-length'} // 0)) {
        my $n = sysread $s, $body, 65536, length $body;
        last unless $n;
    }
    return { method => $method, path => $path, headers => \%h,
             header_list => \@list, body => $body };
}

# backend_reply($socket, $status, $type or undef, $body, @headers): a
# whole answer (with "Name: value" @headers), then the connection closes
sub backend_reply {
    my ($s, $status, $type, $body, @more) = @_;
    my $h = "HTTP/1.1 $status X\r\n";
    $h .= "Content-Type: $type\r\n" if defined $type;
    $h .= "$_\r\n" for @more;
    $h .= "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n";
    my $out = $h . $body;
    while (length $out) {
        my $n = syswrite $s, $out;
        last unless defined $n && $n > 0;
        substr($out, 0, $n) = '';
    }
}

# a loopback port nobody listens on
sub closed_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp')
        or die "closed_port: $!\n";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub _crc32 {
    my ($data) = @_;
    my $crc = 0xffffffff;
    for my $byte (unpack 'C*', $data) {
        $crc ^= $byte;
        for (1 .. 8) {
            $crc = ($crc & 1) ? (($crc >> 1) ^ 0xedb88320) : ($crc >> 1);
        }
    }
    return $crc ^ 0xffffffff;
}

sub _adler32 {
    my ($data) = @_;
    my ($a, $b) = (1, 0);
    for my $byte (unpack 'C*', $data) {
        $a = ($a + $byte) % 65521;
        $b = ($b + $a) % 65521;
    }
    return ($b << 16) | $a;
}

sub _png_chunk {
    my ($type, $data) = @_;
    return pack('N', length $data) . $type . $data
         . pack('N', _crc32($type . $data));
}

# a valid 1x1 RGBA PNG (one red pixel), built byte by byte
sub png_1x1 {
    my $ihdr = pack 'NNCCCCC', 1, 1, 8, 6, 0, 0, 0;
    my $raw = "\x00\xff\x00\x00\xff";    # filter 0, RGBA
    # zlib stream with one stored (uncompressed) block
    my $z = "\x78\x01" . "\x01" . pack('v', length $raw)
          . pack('v', 0xffff ^ length $raw) . $raw . pack('N', _adler32($raw));
    return "\x89PNG\r\n\x1a\n" . _png_chunk('IHDR', $ihdr)
         . _png_chunk('IDAT', $z) . _png_chunk('IEND', '');
}

# a tiny valid WAV: 8 kHz, mono, 16-bit, 16 samples of a square wave
sub wav_tiny {
    my $samples = pack 's<*', map { $_ % 4 < 2 ? 8000 : -8000 } 0 .. 15;
    my $fmt = pack 'vvVVvv', 1, 1, 8000, 16000, 2, 16;
    return 'RIFF' . pack('V', 4 + 8 + length($fmt) + 8 + length $samples)
         . 'WAVE' . 'fmt ' . pack('V', length $fmt) . $fmt
         . 'data' . pack('V', length $samples) . $samples;
}

1;
