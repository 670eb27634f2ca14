#!/usr/bin/perl
# Shared memory per session, measured: sends initialize requests (each one
# creates a session) over one keep-alive connection until the error log
# shows the zone's first eviction, and prints how many sessions the zone
# held then.
#
#   bench/sessions.pl PORT ERROR_LOG [MAX]
#
# Prints: {"sessions_before_eviction":N,"requests":M}
use strict;
use warnings;
use IO::Socket::INET;

my ($port, $log, $max) = @ARGV;
die "usage: sessions.pl PORT ERROR_LOG [MAX]\n" unless $port && $log;
$max ||= 1_000_000;

my $body = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":'
         . '{"protocolVersion":"2025-11-25","capabilities":{},'
         . '"clientInfo":{"name":"wrk","version":"1.0.0"}}}';
my $req = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
        . "Content-Type: application/json\r\n"
        . "Accept: application/json, text/event-stream\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n" . $body;

my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                              Proto => 'tcp')
    or die "connect: $!\n";
binmode $s;

sub evicted {
    open my $fh, "<", $log or return 0;
    while (<$fh>) { return 1 if /is full, evicted/ }
    return 0;
}

my $size0 = -s $log || 0;

my $buf = '';
my $n = 0;
while ($n < $max) {
    print {$s} $req or die "write: $!\n";
    # one response: headers, then Content-Length bytes
    while ($buf !~ /\r\n\r\n/) {
        my $r = sysread($s, $buf, 65536, length $buf);
        die "read: connection closed\n" unless $r;
    }
    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    die "bad status: $head\n" unless $head =~ m{^HTTP/1\.1 200};
    die "no session id\n" unless $head =~ /^Mcp-Session-Id: /mi;
    my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
    die "no Content-Length\n" unless defined $len;
    while (length $rest < $len) {
        my $r = sysread($s, $rest, 65536, length $rest);
        die "read: connection closed\n" unless $r;
    }
    $buf = substr($rest, $len);
    $n++;
    # the log line is written before the answer of the request that
    # evicted; the size check is cheap, the grep confirms
    last if (-s $log || 0) != $size0 && evicted();
}

# the last request evicted one session to fit: the zone held n - 1
my $held = $n - 1;
print "{\"sessions_before_eviction\":$held,\"requests\":$n}\n";
