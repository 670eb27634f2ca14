#!/usr/bin/perl
# Sends one request N times over one keep-alive connection, one after the
# other, and checks each answer (status 200, the expected fragment): the
# client of the callgrind profile (bench/run.sh profile), where wrk's
# timing does not matter but the exact count does.
#
#   bench/reqloop.pl PORT PATH REQFILE N EXPECT
#
# REQFILE is a bench request file: header lines, an empty line, the body.
use strict;
use warnings;
use IO::Socket::INET;

my ($port, $path, $file, $n, $expect) = @ARGV;
die "usage: reqloop.pl PORT PATH REQFILE N EXPECT\n" unless defined $expect;

open my $fh, '<', $file or die "$file: $!\n";
my $text = do { local $/; <$fh> };
close $fh;
my ($head, $body) = split /\r?\n\r?\n/, $text, 2;
$body =~ s/\r?\n\z//;

my $req = "POST $path HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n"
        . join('', map { "$_\r\n" } split /\r?\n/, $head)
        . "Content-Length: " . length($body) . "\r\n\r\n" . $body;

my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                              Proto => 'tcp', Timeout => 30)
    or die "connect: $!\n";
binmode $s;

my $buf = '';
for my $i (1 .. $n) {
    print {$s} $req or die "write: $!\n";
    while ($buf !~ /\r\n\r\n/) {
        my $r = sysread($s, $buf, 65536, length $buf);
        die "read: connection closed after $i\n" unless $r;
    }
    my ($h, $rest) = split /\r\n\r\n/, $buf, 2;
    die "request $i: $h\n" unless $h =~ m{^HTTP/1\.1 200};
    my ($len) = $h =~ /^Content-Length:\s*(\d+)/mi;
    die "no Content-Length\n" unless defined $len;
    while (length $rest < $len) {
        my $r = sysread($s, $rest, 65536, length $rest);
        die "read: connection closed\n" unless $r;
    }
    die "request $i: unexpected answer: " . substr($rest, 0, $len) . "\n"
        if index(substr($rest, 0, $len), $expect) < 0;
    $buf = substr($rest, $len);
}
print "$n requests ok\n";
