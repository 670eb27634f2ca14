package MCP::Redis;

# A throwaway redis-server for one test file: its own directory under t/tmp,
# 127.0.0.1:PORT, nothing saved to disk.  Stopped when the object goes away
# or the test file ends.
#
#   use MCP::Redis;
#   my $r = MCP::Redis->new(password => 'secret');   # password optional
#   $r->port; $r->dir;
#   $r->cli(@args);       # redis-cli's output (raw), dies if it cannot run
#   $r->command(@args);   # one command over RESP, binary-safe: the reply
#                         # (a string, a number, undef for nil, an array
#                         # ref, or {error => message})
#   $r->stop;             # SIGTERM
#   $r->kill;             # SIGKILL
#   $r->start;            # again, on the same port
#   $r->up;               # whether it answers
#   $r->log;
#
# Written for this project; uses Perl core modules only.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

my $TOP = abs_path(File::Spec->catdir(dirname(__FILE__), '..', '..', '..'));
my @instances;

sub _free_port {
    for (1 .. 500) {
        my $p = 20000 + int rand(12000);
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                      LocalPort => $p, Proto => 'tcp',
                                      ReuseAddr => 1)
            or next;
        close $s;
        return $p;
    }
    die "MCP::Redis: no free port\n";
}

sub new {
    my ($class, %opt) = @_;
    my $bin = $ENV{REDIS_SERVER} || '/usr/bin/redis-server';
    die "MCP::Redis: no $bin (scripts/install-deps.sh installs redis-server)\n"
        unless -x $bin;
    my $base = "$TOP/t/tmp";
    make_path($base);
    my $name = $0;
    $name =~ s{.*/}{};
    $name =~ s/\.t$//;
    $name =~ s/[^A-Za-z0-9_.-]/_/g;
    my $dir = tempdir("$name-redis-XXXXXX", DIR => $base, CLEANUP => 0);
    my $self = bless { bin => $bin, dir => $dir, port => _free_port(),
                       password => $opt{password}, owner => $$ }, $class;
    push @instances, $self;
    $self->start;
    return $self;
}

sub port { return $_[0]{port} }
sub dir  { return $_[0]{dir} }

sub log {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/redis.log" or return '';
    local $/;
    return scalar <$fh>;
}

sub start {
    my ($self) = @_;
    my @args = ('--port', $self->{port}, '--bind', '127.0.0.1',
                '--save', '', '--appendonly', 'no', '--dir', $self->{dir},
                '--daemonize', 'no', '--logfile', "$self->{dir}/redis.log",
                '--enable-debug-command', 'local');
    push @args, '--requirepass', $self->{password} if $self->{password};
    my $pid = fork;
    die "MCP::Redis: fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$self->{dir}/stdout.log";
        open STDERR, '>&', \*STDOUT;
        exec $self->{bin}, @args or POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    my $deadline = time + 10;
    while (time < $deadline) {
        return $self if $self->up;
        die "MCP::Redis: redis-server exited\n" . $self->log
            if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.05;
    }
    die "MCP::Redis: redis-server does not answer\n" . $self->log;
}

sub up {
    my ($self) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $self->{port},
                                  Proto => 'tcp', Timeout => 1)
        or return 0;
    print $s "PING\r\n";
    my $line = <$s>;
    close $s;
    return defined $line && $line =~ /^(?:\+PONG|-NOAUTH)/ ? 1 : 0;
}

sub cli {
    my ($self, @args) = @_;
    my @cmd = ('redis-cli', '-p', $self->{port}, '--no-auth-warning');
    push @cmd, '-a', $self->{password} if $self->{password};
    open my $fh, '-|', @cmd, @args or die "MCP::Redis: redis-cli: $!\n";
    local $/;
    my $out = <$fh>;
    close $fh;
    $out = '' unless defined $out;
    $out =~ s/\s+\z//;
    return $out;
}

sub _reply {
    my ($s) = @_;
    my $line = <$s>;
    die "MCP::Redis: the connection closed\n" unless defined $line;
    $line =~ s/\r\n\z//;
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
    return $v if $t eq '+';
    return { error => $v } if $t eq '-';
    return $v + 0 if $t eq ':';
    if ($t eq '$') {
        return undef if $v < 0;
        my $buf = '';
        while (length $buf < $v + 2) {
            my $n = read $s, $buf, $v + 2 - length $buf, length $buf;
            die "MCP::Redis: the connection closed\n" unless $n;
        }
        return substr($buf, 0, $v);
    }
    if ($t eq '*') {
        return undef if $v < 0;
        return [ map { _reply($s) } 1 .. $v ];
    }
    die "MCP::Redis: cannot read \"$line\"\n";
}

sub command {
    my ($self, @args) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $self->{port},
                                  Proto => 'tcp', Timeout => 10)
        or die "MCP::Redis: connect: $!\n";
    binmode $s;
    my $auth = '';
    if ($self->{password}) {
        $auth = "*2\r\n\$4\r\nAUTH\r\n\$" . length($self->{password})
              . "\r\n$self->{password}\r\n";
    }
    my $req = $auth . '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;
    print $s $req;
    _reply($s) if $auth;
    my $r = _reply($s);
    close $s;
    return $r;
}

sub kill {
    my ($self) = @_;
    return unless $self->{pid};
    CORE::kill('KILL', $self->{pid});
    waitpid $self->{pid}, 0;
    $self->{pid} = undef;
    return $self;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    CORE::kill('TERM', $self->{pid});
    waitpid $self->{pid}, 0;
    $self->{pid} = undef;
    return $self;
}

sub DESTROY { $_[0]->stop if $_[0]{pid} && $$ == $_[0]{owner} }

END { for (@instances) { $_->stop if $_ && $_->{pid} && $$ == $_->{owner} } }

1;
