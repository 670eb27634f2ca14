// bench/streams.mjs: N idle GET streams of N 2025-11-25 sessions on one
// nginx worker, its memory before and after, and the time one publication
// takes to reach all of them; beside it, N idle HTTP/1.1 keep-alive
// connections to a plain nginx location (nginx's own cost of an idle
// connection, the peer).  Driven by bench/streams.sh, which starts nginx.
//
//   node bench/streams.mjs PORT WORKER_PID N ROUNDS [FLOOR_PORT]
//
// With FLOOR_PORT, the same fan-out is timed against the floor peer
// (bench/peers/fanout-floor: one send() to each of N connections): what
// pushing to N loopback connections costs on this machine at least.
//
// Prints one JSON object.

import net from 'node:net';
import http from 'node:http';
import fs from 'node:fs';

const [port, pid, n, rounds, floorPort] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

// the worker's CPU time so far, ms (utime + stime, clock ticks of 10 ms)
function cpu() {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
}

function rss() {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(s)[1]) * 1024;
}

function post(path, body, headers = {}) {
    return new Promise((resolve, reject) => {
        const data = JSON.stringify(body);
        const req = http.request({
            host: '127.0.0.1', port, path, method: 'POST', agent,
            headers: { 'Content-Type': 'application/json',
                       'Accept': 'application/json, text/event-stream',
                       'Content-Length': Buffer.byteLength(data), ...headers },
        }, (res) => {
            let buf = '';
            res.on('data', (c) => { buf += c; });
            res.on('end', () => resolve({ status: res.statusCode,
                                          headers: res.headers, body: buf }));
        });
        req.on('error', reject);
        req.end(data);
    });
}

async function session() {
    const r = await post('/mcp', {
        jsonrpc: '2.0', id: 1, method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {},
                  clientInfo: { name: 'bench', version: '1' } } });
    const sid = r.headers['mcp-session-id'];
    await post('/mcp', { jsonrpc: '2.0', method: 'notifications/initialized' },
               { 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-11-25' });
    return sid;
}

// a raw connection that sends `head` and resolves once `ready` is seen
function open(head, ready) {
    return new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1');
        s.setNoDelay(true);
        let buf = '';
        const onData = (c) => {
            buf += c;
            if (buf.includes(ready)) {
                s.removeListener('data', onData);
                resolve(s);
            }
        };
        s.on('data', onData);
        s.on('error', reject);
        s.write(head);
    });
}

async function inBatches(count, size, f) {
    const out = [];
    for (let i = 0; i < count; i += size) {
        const part = [];
        for (let j = i; j < Math.min(count, i + size); j++) part.push(f(j));
        out.push(...await Promise.all(part));
    }
    return out;
}

const settle = () => new Promise((r) => setTimeout(r, 1500));

// the peer: idle keep-alive connections after one small answer each
await settle();
const base0 = rss();
const idle = await inBatches(n, 500, () =>
    open('GET /idle HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', '\r\n\r\nok'));
await settle();
const idleRss = rss();
for (const s of idle) s.destroy();
await settle();

// the streams
const sids = await inBatches(n, 100, () => session());
await settle();
const base = rss();
const streams = await inBatches(n, 500, (i) =>
    open('GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n'
         + `Mcp-Session-Id: ${sids[i]}\r\nMCP-Protocol-Version: 2025-11-25\r\n\r\n`,
         'data: \r\n\r\n'));
await settle();
const streamRss = rss();

// fan-out: the time from the publication to the last stream that has it,
// and the worker's CPU time for all the rounds
const fanout = [];
const cpu0 = cpu();
for (let k = 0; k < rounds; k++) {
    let got = 0;
    let last = 0;
    const done = new Promise((resolve) => {
        for (const s of streams) {
            const onData = (c) => {
                if (c.toString().includes('list_changed')) {
                    s.removeListener('data', onData);
                    last = process.hrtime.bigint();
                    if (++got === streams.length) resolve();
                }
            };
            s.on('data', onData);
        }
    });
    const t0 = process.hrtime.bigint();
    const r = await post('/publish', { jsonrpc: '2.0',
                                       method: 'notifications/tools/list_changed' });
    if (r.status !== 202) throw new Error(`publish: ${r.status} ${r.body}`);
    const timeout = new Promise((resolve) => setTimeout(resolve, 10000));
    await Promise.race([done, timeout]);
    fanout.push({ reached: got, ms: Number(last - t0) / 1e6 });
    await new Promise((r) => setTimeout(r, 300));
}

const cpuPer = (cpu() - cpu0) / rounds;
const pubRss = rss();           // the streams after the publications

for (const s of streams) s.destroy();

// the floor: N plain connections, one more that triggers the push
const floor = [];
if (floorPort) {
    const conn = () => new Promise((resolve, reject) => {
        const s = net.connect(floorPort, '127.0.0.1', () => resolve(s));
        s.on('error', reject);
    });
    const fs2 = await inBatches(n, 500, () => conn());
    const trigger = await conn();
    await settle();
    for (let k = 0; k < rounds; k++) {
        let got = 0;
        let last = 0;
        const done = new Promise((resolve) => {
            for (const s of fs2) {
                const onData = (c) => {
                    if (c.toString().includes('list_changed')) {
                        s.removeListener('data', onData);
                        last = process.hrtime.bigint();
                        if (++got === fs2.length) resolve();
                    }
                };
                s.on('data', onData);
            }
        });
        const t0 = process.hrtime.bigint();
        trigger.write('x');
        await Promise.race([done, new Promise((r) => setTimeout(r, 10000))]);
        floor.push({ reached: got, ms: Number(last - t0) / 1e6 });
        await new Promise((r) => setTimeout(r, 300));
    }
    for (const s of fs2) s.destroy();
    trigger.destroy();
}

console.log(JSON.stringify({
    n,
    idle_bytes_each: Math.round((idleRss - base0) / n),
    stream_bytes_each: Math.round((streamRss - base) / n),
    worker_rss_before: base,
    worker_rss_streams: streamRss,
    worker_rss_after_publications: pubRss,
    streams_growth_mib: (streamRss - base) / 1048576,
    fanout,
    worker_cpu_ms_per_publication: cpuPer,
    floor_fanout: floor,
}));
process.exit(0);
