#!/usr/bin/perl
# nginx's code style, machine-checked on the module's sources: 80 columns, no
# tabs, no trailing white space, a final newline, the copyright header.

use strict;
use warnings;
use FindBin;
use File::Find;
use Test::More;

my $top = "$FindBin::Bin/..";
my @files;
find(sub { push @files, $File::Find::name if /\.[ch]$/ },
     "$top/ngx_http_mcp_module");

ok(@files > 10, 'module sources found');

for my $f (sort @files) {
    open(my $fh, '<', $f) or die "$f: $!";
    local $/;
    my $text = <$fh>;
    close $fh;

    (my $name = $f) =~ s{^\Q$top\E/}{};
    my @bad;
    my $n = 0;

    for my $line (split /\n/, $text, -1) {
        $n++;
        push @bad, "$n: longer than 80 columns" if length($line) > 80;
        push @bad, "$n: tab" if $line =~ /\t/;
        push @bad, "$n: trailing white space" if $line =~ /[ \t]$/;
    }

    ok(!@bad, "$name: 80 columns, no tabs, no trailing white space")
        or diag(join("\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]));
    like($text, qr/\n\z/, "$name: ends with a newline");
    like($text, qr/\A\n\/\*\n \* Copyright/, "$name: copyright header");
}

done_testing();
