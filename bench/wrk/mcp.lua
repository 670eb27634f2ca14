-- wrk script of `make bench`: one MCP request, sent again and again.
--
-- Environment (set by bench/run.sh):
--   BENCH_REQ       file with the request: header lines "Name: value",
--                   an empty line, then the body (sent as is)
--   BENCH_EXPECT    a fragment every valid response body contains
--   BENCH_HEADER    optional: a response header every valid response has
--   BENCH_VALIDATE  "1": check every response (the warm-up pass);
--                   otherwise no response() hook, so wrk does not keep
--                   bodies and the measured runs pay nothing for checking
--   BENCH_UNIQUE_ID "1": every request gets its own JSON-RPC id (the body's
--                   "id":1 becomes "id":N), as a client in a session must
--                   do; otherwise the same bytes every time
--   BENCH_RANDOM_ARG N: the body's "arguments":{"id":42} gets a random id
--                   from 1 to N in every request (bench/pg.sh: primary-key
--                   lookups spread over the table, as pgbench's
--                   random(1, N) does)
--   BENCH_TOKENS    a file of bearer tokens, one per line: every request
--                   sends the next one (bench/auth.sh: tokens that are
--                   never in the module's cache)
--
-- done() prints one line "RESULT {json}" with the counts, the throughput
-- and latency percentiles; with validation also ok/invalid counts and the
-- first invalid response.

local function read_request(path)
    local f = assert(io.open(path, "rb"))
    local text = f:read("*a")
    f:close()

    local head, body = text:match("^(.-)\r?\n\r?\n(.*)$")
    assert(head, "BENCH_REQ: no empty line between headers and body")
    body = body:gsub("\r?\n$", "")

    local headers = {}
    for line in head:gmatch("[^\r\n]+") do
        local name, value = line:match("^([^:]+):%s*(.*)$")
        assert(name, "BENCH_REQ: bad header line: " .. line)
        headers[name] = value
    end

    return headers, body
end

local req_headers, req_body = read_request(os.getenv("BENCH_REQ"))
local expect = os.getenv("BENCH_EXPECT") or ""
local want_header = os.getenv("BENCH_HEADER")
local validate = os.getenv("BENCH_VALIDATE") == "1"

wrk.method = "POST"
wrk.body = req_body
for name, value in pairs(req_headers) do
    wrk.headers[name] = value
end

local threads = {}

if os.getenv("BENCH_UNIQUE_ID") == "1" then
    local head, tail = req_body:match('^(.-"id":)1(,.*)$')
    assert(head, 'BENCH_UNIQUE_ID: no "id":1, in the body')
    local next_id = 1000

    function request()
        next_id = next_id + 1
        return wrk.format(nil, nil, nil, head .. next_id .. tail)
    end
elseif (os.getenv("BENCH_TOKENS") or "") ~= "" then
    local tokens = {}
    for line in io.lines(os.getenv("BENCH_TOKENS")) do
        if line ~= "" then
            table.insert(tokens, line)
        end
    end
    assert(#tokens > 0, "BENCH_TOKENS: no tokens")
    local next_token = 0

    function request()
        next_token = next_token % #tokens + 1
        local h = {}
        for name, value in pairs(req_headers) do
            h[name] = value
        end
        h["Authorization"] = "Bearer " .. tokens[next_token]
        return wrk.format(nil, nil, h, req_body)
    end
elseif (tonumber(os.getenv("BENCH_RANDOM_ARG") or "") or 0) > 0 then
    local n = tonumber(os.getenv("BENCH_RANDOM_ARG"))
    local head, tail = req_body:match('^(.-"arguments":{"id":)%d+(}.*)$')
    assert(head, 'BENCH_RANDOM_ARG: no "arguments":{"id":N} in the body')
    math.randomseed(os.time())

    function request()
        return wrk.format(nil, nil, nil, head .. math.random(n) .. tail)
    end
end

function setup(thread)
    table.insert(threads, thread)
end

-- globals: done() reads them from each thread with thread:get()
ok_count = 0
bad_count = 0
first_bad = ""

local function has_header(headers, name)
    name = name:lower()
    for k, _ in pairs(headers) do
        if k:lower() == name then
            return true
        end
    end
    return false
end

if validate then
    function response(status, headers, body)
        local good = status == 200
                     and body ~= nil
                     and body:find(expect, 1, true) ~= nil
                     and (want_header == nil or want_header == ""
                          or has_header(headers, want_header))
        if good then
            ok_count = ok_count + 1
        else
            bad_count = bad_count + 1
            if first_bad == "" then
                first_bad = tostring(status) .. " " .. tostring(body)
            end
        end
    end
end

local function json_string(s)
    s = s:sub(1, 300)
    s = s:gsub('[%c"\\]', function(c)
        if c == '"' then return '\\"' end
        if c == '\\' then return '\\\\' end
        return string.format("\\u%04x", c:byte())
    end)
    return '"' .. s .. '"'
end

function done(summary, latency, requests)
    local ok, bad, sample = 0, 0, ""
    for _, t in ipairs(threads) do
        ok = ok + (t:get("ok_count") or 0)
        bad = bad + (t:get("bad_count") or 0)
        local fb = t:get("first_bad") or ""
        if sample == "" then
            sample = fb
        end
    end

    local e = summary.errors
    local secs = summary.duration / 1e6
    io.write(string.format(
        'RESULT {"requests":%d,"duration_s":%.6f,"rps":%.1f,' ..
        '"bytes":%d,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
        '"err_status":%d,"err_timeout":%d,' ..
        '"lat_mean_us":%.1f,"lat_p50_us":%d,"lat_p90_us":%d,' ..
        '"lat_p99_us":%d,"lat_max_us":%d,' ..
        '"validated":%s,"ok":%d,"invalid":%d,"first_invalid":%s}\n',
        summary.requests, secs, summary.requests / secs,
        summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
        latency.mean, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max,
        validate and "true" or "false", ok, bad, json_string(sample)))
end
