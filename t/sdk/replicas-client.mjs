// One legacy session with the official MCP TypeScript SDK client against
// several replicas at once: its fetch sends every request to the next
// replica in turn, so that no two requests in a row reach the same one.
// Prints one JSON line per step and exits non-zero on the first failure.
//
//   node replicas-client.mjs http://127.0.0.1:P1/mcp http://127.0.0.1:P2/mcp ...
//
// Steps: connect (initialize on one replica, notifications/initialized on
// the next), tools, calls, a call of the tool `slow` cancelled (the
// cancellation reaches another replica than the call), the session's
// DELETE, then the session id on every replica.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from
    '@modelcontextprotocol/sdk/client/streamableHttp.js';

const urls = process.argv.slice(2);
if (urls.length < 2) {
    console.error('usage: node replicas-client.mjs URL URL...');
    process.exit(2);
}

const sent = [];          // {replica, method}, every request in order
let next = 0;

function rotatingFetch(input, init = {}) {
    const u = new URL(input instanceof URL ? input.href
                      : typeof input === 'string' ? input : input.url);
    const replica = next++ % urls.length;
    const target = new URL(urls[replica]);
    u.host = target.host;

    let method = init.method || 'GET';
    if (typeof init.body === 'string') {
        try {
            const m = JSON.parse(init.body);
            method = m.method || (m.result !== undefined ? 'response'
                                                         : 'message');
        } catch (e) {
            method = 'unparsable';
        }
    }
    sent.push({ replica, method });

    return fetch(u, init);
}

function out(step, data) {
    console.log(JSON.stringify({ step, ...data }));
}

function last(method) {
    for (let i = sent.length - 1; i >= 0; i--) {
        if (sent[i].method === method) {
            return sent[i].replica;
        }
    }
    return -1;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
    const transport = new StreamableHTTPClientTransport(new URL(urls[0]),
                                                        { fetch: rotatingFetch });
    const client = new Client({ name: 'replicas-client', version: '1.0.0' });

    await client.connect(transport);
    out('connect', { sessionId: transport.sessionId,
                     protocolVersion: transport.protocolVersion,
                     initialize: last('initialize'),
                     initialized: last('notifications/initialized') });

    const tools = await client.listTools();
    out('listTools', { names: tools.tools.map((t) => t.name),
                       replica: last('tools/list') });

    for (let i = 0; i < urls.length + 1; i++) {
        const r = await client.callTool({ name: 'hello' });
        out('callTool', { result: r, replica: last('tools/call') });
    }

    // a call in flight on one replica, cancelled through another

    const ac = new AbortController();
    const call = client.callTool({ name: 'slow' }, undefined,
                                 { signal: ac.signal, timeout: 30000 });
    const callReplica = last('tools/call');
    await sleep(1000);
    ac.abort('test');
    let outcome = 'answered';
    try {
        await call;
    } catch (e) {
        outcome = 'aborted';
    }
    await sleep(200);
    out('cancel', { call: callReplica,
                    cancelled: last('notifications/cancelled'), outcome });

    const sessionId = transport.sessionId;

    await transport.terminateSession();
    out('delete', { replica: last('DELETE') });

    // the session is gone everywhere: a tools/list on each replica

    await sleep(100);
    const after = [];
    for (const url of urls) {
        const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json',
                       accept: 'application/json, text/event-stream',
                       'mcp-session-id': sessionId,
                       'mcp-protocol-version': transport.protocolVersion },
            body: JSON.stringify({ jsonrpc: '2.0', id: 99,
                                   method: 'tools/list' }),
        });
        after.push(res.status);
        await res.text();
    }
    out('after', { statuses: after });

    out('sent', { requests: sent });
    await client.close();
}

main().catch((e) => {
    console.log(JSON.stringify({ step: 'error', message: String(e) }));
    process.exit(1);
});
