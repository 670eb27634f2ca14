#!/usr/bin/perl
# The layers of DESIGN.md section 4, machine-checked on the module's
# includes: they point down (transport -> protocol -> catalog -> json,
# backend -> json), nothing but the module file includes transport/, other
# folders reach backend/ only through its interface (ngx_http_mcp_backend.h)
# and auth/ (the access phase, called by transport and health) only through
# ngx_http_mcp_auth.h, and no two files of different folders include each other in a circle.

use strict;
use warnings;
use FindBin;
use File::Find;
use Test::More;

my $top = "$FindBin::Bin/../ngx_http_mcp_module";

# the folders a folder must not include from
my %forbid = (
    json      => [qw(catalog protocol transport state backend auth limit observe health upstream)],
    catalog   => [qw(protocol transport state auth limit observe health)],
    protocol  => [qw(transport health auth)],
    backend   => [qw(transport protocol state health auth)],
    state     => [qw(transport protocol backend catalog health auth)],
    health    => [qw(transport protocol)],
    upstream  => [qw(transport protocol catalog backend state health auth)],
    auth      => [qw(transport protocol state backend health upstream limit observe)],
    limit     => [qw(transport protocol catalog state health auth observe)],
    observe   => [qw(transport protocol catalog state backend health auth limit upstream)],
);

my (%folder, %includes);

find(sub {
    return unless /\.[ch]$/;
    (my $rel = $File::Find::name) =~ s{^\Q$top\E/}{};
    my $dir = $rel =~ m{^([^/]+)/} ? $1 : '.';
    $folder{$rel} = $dir;
    open(my $fh, '<', $_) or die "$rel: $!";
    while (<$fh>) {
        push @{ $includes{$rel} }, $1 if /^\s*#\s*include\s+"([^"]+)"/;
    }
    close $fh;
}, $top);

ok(keys %folder > 20, 'module sources found');

for my $d (qw(json catalog protocol transport state backend health upstream auth limit observe)) {
    ok(-d "$top/$d", "the folder $d/ exists");
}

my @bad;
my %edge;    # folder -> folder, for circles

for my $file (sort keys %includes) {
    my $from = $folder{$file};
    for my $inc (@{ $includes{$file} }) {
        next unless exists $folder{$inc};    # "ngx_http_mcp_module.h" etc.
        my $to = $folder{$inc};
        next if $to eq $from || $to eq '.' || $from eq '.';
        $edge{$from}{$to} = "$file includes $inc";
        if (grep { $_ eq $to } @{ $forbid{$from} || [] }) {
            push @bad, "$file includes $inc: $from/ must not include $to/";
        } elsif ($to eq 'transport') {
            push @bad, "$file includes $inc: only the module file includes transport/";
        } elsif ($to eq 'backend' && $inc ne 'backend/ngx_http_mcp_backend.h') {
            push @bad, "$file includes $inc: outside backend/, only its interface";
        } elsif ($to eq 'auth' && $inc ne 'auth/ngx_http_mcp_auth.h') {
            push @bad, "$file includes $inc: outside auth/, only its interface";
        }
    }
    for my $inc (@{ $includes{$file} }) {
        next if exists $folder{$inc} || $inc eq 'ngx_http_mcp_module.h';
        push @bad, "$file includes \"$inc\", which is not a file of the module"
            unless $inc =~ m{^[a-z]+/ngx_http_mcp_\w+\.h$};
    }
}

ok(!@bad, 'includes point down the layers') or diag(join("\n", @bad));

# circles between folders
my @circles;
for my $a (sort keys %edge) {
    for my $b (sort keys %{ $edge{$a} }) {
        push @circles, "$edge{$a}{$b}, and $edge{$b}{$a}"
            if $a lt $b && $edge{$b} && $edge{$b}{$a};
    }
}

ok(!@circles, 'no two folders include each other') or diag(join("\n", @circles));

done_testing();
