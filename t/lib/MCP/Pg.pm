package MCP::Pg;

# A throwaway PostgreSQL 15 for one test file, run by scripts/db/pg-temp.sh:
# initdb in a directory of its own under t/tmp, served on 127.0.0.1:PORT
# (SCRAM passwords; role app, password "secret", owns database app) and on a
# Unix socket in that directory (trust).  It is stopped when the object goes
# away or the test file ends, also when the test dies or gets SIGINT/SIGTERM.
#
#   use MCP::Pg;        # before MCP::Test: PostgreSQL then outlives nginx
#   use MCP::Test;      # when the test file ends
#
#   my $pg = MCP::Pg->new(sql => [$fixture, ...]);   # run as role app,
#                            # then a CHECKPOINT: a kill does not lose them
#   $pg->port; $pg->dir;
#   $pg->psql($sql);         # as the superuser on database app; dies on an
#                            # error; returns the output (psql -A -t)
#   $pg->try_psql($sql);     # (exit status, output, error output)
#   $pg->kill;               # SIGKILL to the server and its backends
#   $pg->start; $pg->stop; $pg->restart;   # restart = stop (or kill) + start
#   $pg->up;                 # whether it answers
#   $pg->fill($template);    # %%PG_PORT%% and %%PG_DIR%% replaced
#   $pg->log;                # the server's log so far
#
# The port is outside the kernel's ephemeral range: nothing else takes it
# while the server is down (nginx's own ports come from that range, and an
# outgoing connection to a port of that range that nobody listens on can
# connect to itself).
#
# Environment: MCP_TEST_KEEP=1 keeps the directory (also kept when the test
# fails); PGBIN as for pg-temp.sh.
#
# Written for this project; uses Perl core modules only.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Scalar::Util qw(weaken);
use Time::HiRes qw(time sleep);
use Test::More ();

my $TOP = abs_path(File::Spec->catdir(dirname(__FILE__), '..', '..', '..'));
my $SCRIPT = "$TOP/scripts/db/pg-temp.sh";

my @instances;                # weak references, for END

my $test_pid = $$;

# SIGINT, SIGTERM, SIGHUP: the servers stop at once (the signal may be
# dispatched anywhere, even inside a DESTROY, where a die would be lost),
# then the test dies.  A forked helper of the test (a backend, a client)
# just ends, as it would without this handler.
for my $sig (qw(INT TERM HUP)) {
    next if $SIG{$sig} && ref $SIG{$sig};
    $SIG{$sig} = sub {
        if ($$ != $test_pid) {
            $SIG{$sig} = 'DEFAULT';
            CORE::kill($sig, $$);
            POSIX::_exit(128);
        }
        for my $pg (grep { defined } @instances) {
            $pg->{failed} = 1;
            $pg->_shutdown;
        }
        die "MCP::Pg: caught SIG$sig\n";
    };
}

# The file helpers are this module's own, not MCP::Test's: loading MCP::Test
# from here would compile its END blocks before ours, and PostgreSQL would
# then stop before nginx does.
sub _read_file {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return '';
    local $/;
    my $s = <$fh>;
    close $fh;
    return defined $s ? $s : '';
}

sub _write_file {
    my ($path, $content) = @_;
    open my $fh, '>:raw', $path or die "MCP::Pg: $path: $!\n";
    print $fh $content;
    close $fh or die "MCP::Pg: $path: $!\n";
    chmod 0644, $path;
}

# a port below the ephemeral range that nobody listens on
sub _free_port {
    my $lo = 32768;
    if (open my $fh, '<', '/proc/sys/net/ipv4/ip_local_port_range') {
        my $l = <$fh>;
        close $fh;
        ($lo) = $l =~ /^\s*(\d+)/ if defined $l;
        $lo = 32768 unless $lo && $lo > 21000;
    }
    for (1 .. 500) {
        my $p = 20000 + int rand($lo - 20000);
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                      LocalPort => $p, Proto => 'tcp',
                                      ReuseAddr => 1)
            or next;
        close $s;
        return $p;
    }
    die "MCP::Pg: no free port\n";
}

# runs pg-temp.sh with @args; stdin from $in (a file) or /dev/null;
# returns (exit status, stdout, stderr)
sub _run {
    my ($self, $in, @args) = @_;
    my $out = "$self->{top}/run-$$.out";
    my $err = "$self->{top}/run-$$.err";
    my $pid = fork;
    die "MCP::Pg: fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', defined $in ? $in : '/dev/null';
        open STDOUT, '>', $out;
        open STDERR, '>', $err;
        exec 'bash', $SCRIPT, @args or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    my $rc = $?;
    return ($rc, _read_file($out), _read_file($err));
}

# MCP::Pg->new(sql => [text, ...], name => 'x'): initdb, start, fixtures
# (each run as role app, in order).  Dies (a setup failure) when anything
# goes wrong.
sub new {
    my ($class, %opt) = @_;

    die "MCP::Pg: $SCRIPT is missing\n" unless -f $SCRIPT;
    my $bin = $ENV{PGBIN} || '/usr/lib/postgresql/15/bin';
    die "MCP::Pg: no PostgreSQL binaries in $bin\n" unless -x "$bin/initdb";

    my $base = "$TOP/t/tmp";
    make_path($base);
    chmod 0755, $base;
    my $name = $opt{name} || $0;
    $name =~ s{.*/}{};
    $name =~ s/\.t$//;
    $name =~ s/[^A-Za-z0-9_.-]/_/g;
    my $top = tempdir("$name-pg-XXXXXX", DIR => $base, CLEANUP => 0);
    chmod 0755, $top;

    my $self = bless {
        top => $top,
        dir => "$top/pg",         # the cluster's directory (owned by postgres)
        port => _free_port(),
        running => 0,
        pid => $$,
    }, $class;
    push @instances, $self;
    weaken($instances[-1]);

    my @files;
    my $n = 0;
    for my $sql (@{ $opt{sql} || [] }) {
        my $f = sprintf "%s/fixture-%02d.sql", $top, ++$n;
        _write_file($f, $sql);
        push @files, $f;
    }

    my ($rc, $out, $err) = $self->_run(undef, 'start', $self->{dir},
                                       $self->{port}, @files);
    if ($rc != 0) {
        $self->{failed} = 1;
        die "MCP::Pg: pg-temp.sh start failed ($rc):\n$out$err"
            . $self->log . "\n";
    }
    $self->{running} = 1;

    # the fixtures on disk: a kill soon after must not lose them (the
    # cluster runs with synchronous_commit off)
    $self->psql('CHECKPOINT');
    return $self;
}

sub port { return $_[0]{port} }
sub dir  { return $_[0]{dir} }
sub log  { return _read_file("$_[0]{dir}/postgres.log") }

sub fill {
    my ($self, $template) = @_;
    $template =~ s/%%PG_PORT%%/$self->{port}/g;
    $template =~ s/%%PG_DIR%%/$self->{dir}/g;
    return $template;
}

# try_psql($sql, @psql_args): the SQL as the superuser on database app
# through the Unix socket; (exit status, output, error output)
sub try_psql {
    my ($self, $sql, @args) = @_;
    my $f = "$self->{top}/psql-$$.sql";
    _write_file($f, $sql);
    return $self->_run($f, 'psql', $self->{dir}, $self->{port},
                       '-A', '-t', '-f', '-', @args);
}

sub psql {
    my ($self, $sql, @args) = @_;
    my ($rc, $out, $err) = $self->try_psql($sql, @args);
    die "MCP::Pg: psql failed ($rc): $err\nSQL: $sql\n" if $rc != 0;
    chomp $out;
    return $out;
}

# whether the server answers on its TCP port
sub up {
    my ($self) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $self->{port},
                                  Proto => 'tcp', Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

sub start {
    my ($self) = @_;
    my ($rc, $out, $err) = $self->_run(undef, 'start', $self->{dir},
                                       $self->{port});
    die "MCP::Pg: start failed ($rc):\n$out$err" . $self->log . "\n"
        if $rc != 0;
    $self->{running} = 1;
    return $self;
}

sub stop {
    my ($self) = @_;
    my ($rc, $out, $err) = $self->_run(undef, 'stop', $self->{dir});
    die "MCP::Pg: stop failed ($rc):\n$out$err\n" if $rc != 0;
    $self->{running} = 0;
    return $self;
}

sub kill {
    my ($self) = @_;
    my ($rc, $out, $err) = $self->_run(undef, 'kill', $self->{dir});
    die "MCP::Pg: kill failed ($rc):\n$out$err\n" if $rc != 0;
    $self->{running} = 0;
    return $self;
}

sub restart {
    my ($self) = @_;
    $self->stop if $self->{running};
    return $self->start;
}

sub _shutdown {
    my ($self) = @_;
    return if $self->{done} || $$ != $self->{pid};
    $self->{done} = 1;
    # a signal now must not cut the shutdown short
    local @SIG{qw(INT TERM HUP)} = ('IGNORE') x 3;
    if (-f "$self->{dir}/data/postmaster.pid") {
        my ($rc) = $self->_run(undef, 'stop', $self->{dir});
        $self->_run(undef, 'kill', $self->{dir})
            if $rc != 0 || -f "$self->{dir}/data/postmaster.pid";
    }
    $self->{running} = 0;

    my $tb = Test::More->builder;
    if (!$ENV{MCP_TEST_KEEP} && !$self->{failed} && $tb->is_passing
        && !$self->{status})
    {
        remove_tree($self->{top});
    } else {
        Test::More::diag("PostgreSQL directory kept: $self->{top}");
    }
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $@, $!);
    $self->_shutdown;
}

END {
    my $status = $?;
    for my $pg (grep { defined } @instances) {
        $pg->{status} = $status;
        $pg->_shutdown;
    }
    $? = $status;
}

1;
