#!/usr/bin/perl
# The report of `bench/run.sh profile`: instructions per request, the
# module's stages (inclusive cost of their entry functions) and the top
# functions by their own cost, from one callgrind dump per row.
#
#   bench/profile-report.pl DUMPS N OUT.json
#
# DUMPS has one line per row: "target:row FILE"; each FILE holds exactly N
# requests.
use strict;
use warnings;
use JSON::XS;

my ($dumps, $n, $out) = @ARGV;
die "usage: profile-report.pl DUMPS N OUT.json\n" unless $out;

# the stages: entry functions whose inclusive cost is reported
my @stages = (
    [ 'whole request (event loop included)' => 'ngx_process_events_and_timers' ],
    [ 'nginx: request line and headers'     => 'ngx_http_parse_header_line' ],
    [ 'module handler, everything below'    => 'ngx_http_mcp_handler' ],
    [ '  Accept header'                     => 'ngx_http_mcp_accept' ],
    [ '  Mcp-* headers'                     => 'ngx_http_mcp_read_headers' ],
    [ '  JSON parse (yajl + tree)'          => 'ngx_http_mcp_json_parse' ],
    [ '    yajl lexer/parser alone'         => 'SELF:yajl' ],
    [ '    UTF-8 check of strings'          => 'ngx_http_mcp_json_valid' ],
    [ '  JSON-RPC envelope'                 => 'ngx_http_mcp_jsonrpc_read' ],
    [ '  requests and entries for limits'   => 'ngx_http_mcp_dispatch_admits' ],
    [ '  limits and quotas (limit/)'        => 'ngx_http_mcp_limit_check' ],
    [ '  dispatch (method, era, tool)'      => 'ngx_http_mcp_dispatch' ],
    [ '    2026 _meta and header checks'    => 'ngx_http_mcp_modern_check' ],
    [ '    tools/call'                      => 'ngx_http_mcp_method_tools_call' ],
    [ '    argument validation'             => 'ngx_http_mcp_schema_validate' ],
    [ '    tools/list'                      => 'ngx_http_mcp_registry_list' ],
    [ '    session lookup (shm)'            => 'ngx_http_mcp_session_shm_lookup' ],
    [ '    session create (shm)'            => 'ngx_http_mcp_session_shm_create' ],
    [ '    random id (RAND_bytes)'          => 'RAND_bytes' ],
    [ '  response (header + body)'          => 'ngx_http_mcp_send' ],
    [ 'nginx: send header'                  => 'ngx_http_send_header' ],
    [ 'nginx: finalize/free request'        => 'ngx_http_finalize_request' ],
);

sub annotate {
    my ($file, $incl) = @_;
    my %cost;
    my $total;
    open my $p, '-|', 'callgrind_annotate', "--inclusive=$incl",
        '--threshold=100', $file or die "callgrind_annotate: $!\n";
    my $in = 0;
    while (<$p>) {
        if (/^\s*([\d,]+) .*PROGRAM TOTALS/) { ($total = $1) =~ tr/,//d; next }
        if (/file:function/) { $in = 1; next }
        next unless $in;
        last if /^\s*$/ && %cost;    # the function table ends here
        next if /^-+$/;
        next unless /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S.*?)(?: \[(\S+)\])?\s*$/;
        my ($ir, $loc, $obj) = ($1, $2, $3 // '');
        $ir =~ tr/,//d;
        my $fn = $loc;
        $fn =~ s/^.*://;
        $fn =~ s/\.(?:isra|constprop|part|cold)\.\d+//g;
        $fn = "yajl $fn" if $obj =~ /libyajl/ && $fn =~ /^0x/;
        $fn = "nginx $fn" if $obj =~ m{/nginx$} && $fn =~ /^0x/;
        $fn = "libcrypto $fn" if $obj =~ /libcrypto/ && $fn =~ /^0x/;
        # the same function may be listed under two spellings of its file
        $cost{$fn} = $ir if !defined $cost{$fn} || $ir > $cost{$fn};
        $cost{'SELF:yajl'} += $ir if $incl eq 'no' && $obj =~ /libyajl/;
    }
    close $p;
    return ($total, \%cost);
}

my (@rows, %doc);
open my $d, '<', $dumps or die "$dumps: $!\n";
while (<$d>) {
    chomp;
    my ($spec, $file) = split / /;
    my ($total, $self) = annotate($file, 'no');
    my (undef, $incl) = annotate($file, 'yes');
    my %stage;
    for my $s (@stages) {
        my ($label, $fn) = @$s;
        my $v = $fn =~ /^SELF:/ ? $self->{$fn} : $incl->{$fn};
        $stage{$label} = defined $v ? sprintf('%.0f', $v / $n) + 0 : undef;
    }
    my @top = sort { $self->{$b} <=> $self->{$a} }
              grep { !/^SELF:/ && $self->{$_} < 0.99 * $total } keys %$self;
    splice @top, 20 if @top > 20;
    push @rows, $spec;
    $doc{$spec} = {
        instructions_per_request => sprintf('%.0f', $total / $n) + 0,
        stages => \%stage,
        top_self => [ map { [ $_, sprintf('%.0f', $self->{$_} / $n) + 0 ] } @top ],
    };
}
close $d;

open my $o, '>', $out or die "$out: $!\n";
print {$o} JSON::XS->new->canonical->pretty->encode({
    requests_per_row => $n + 0, rows => \@rows, profile => \%doc });
close $o;

# the tables: instructions per request
printf "\n%-40s", 'instructions per request';
printf " %13s", (split /:/, $_)[1] =~ s/_2026//r for @rows;
print "\n";
printf "%-40s", '';
printf " %13s", (split /:/, $_)[0] for @rows;
print "\n";
printf "%-40s", 'total';
printf " %13d", $doc{$_}{instructions_per_request} for @rows;
print "\n";
for my $s (@stages) {
    my $label = $s->[0];
    next unless grep { defined $doc{$_}{stages}{$label} } @rows;
    printf "%-40s", $label;
    printf " %13s", $doc{$_}{stages}{$label} // '-' for @rows;
    print "\n";
}

for my $spec (@rows) {
    print "\ntop functions by own instructions per request, $spec:\n";
    for my $t (@{ $doc{$spec}{top_self} }) {
        printf "  %7d  %s\n", $t->[1], $t->[0];
    }
}
