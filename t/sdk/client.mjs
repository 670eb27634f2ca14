// A full legacy session with the official MCP TypeScript SDK client against
// the URL given as the first argument.  Prints one JSON line per step and
// exits non-zero on the first failure.
//
//   node client.mjs http://127.0.0.1:PORT/mcp
//   MCP_CLIENT_HOST=mcp.example.com node client.mjs http://127.0.0.1:PORT/mcp
//
// MCP_CLIENT_ARGS='{"id":"42"}': values of prompt arguments by name
// (others get "World").
// MCP_CLIENT_HOST: the Host header every request carries (the name an
// Ingress routes by) while the connection goes to the URL's address; fetch
// itself never sends a Host of the caller's, so requests then go through
// node:http.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from
    '@modelcontextprotocol/sdk/client/streamableHttp.js';
import http from 'node:http';
import { Readable } from 'node:stream';

const url = process.argv[2];
if (!url) {
    console.error('usage: node client.mjs URL');
    process.exit(2);
}

const opts = { timeout: 10000 };

// MCP_CLIENT_ARGS: prompt arguments by name ({"id":"42"}), else "World"
const argValues = JSON.parse(process.env.MCP_CLIENT_ARGS || '{}');

// a fetch that sends `host` as the Host header, for the SDK's transport
function hostFetch(host) {
    return (input, init = {}) => new Promise((resolve, reject) => {
        const u = new URL(input instanceof URL ? input.href
                          : typeof input === 'string' ? input : input.url);
        const headers = Object.fromEntries(new Headers(init.headers || {}));
        headers.host = host;
        const req = http.request({
            hostname: u.hostname, port: u.port, path: u.pathname + u.search,
            method: init.method || 'GET', headers, signal: init.signal,
        }, (res) => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
                h.set(k, Array.isArray(v) ? v.join(', ') : v);
            }
            const empty = res.statusCode === 204 || res.statusCode === 304
                          || init.method === 'HEAD';
            resolve(new Response(empty ? null : Readable.toWeb(res),
                                 { status: res.statusCode, headers: h }));
        });
        req.on('error', reject);
        if (init.body !== undefined && init.body !== null) {
            req.write(init.body);
        }
        req.end();
    });
}

function out(step, data) {
    console.log(JSON.stringify({ step, ...data }));
}

async function all(list, key, params = {}) {
    const items = [];
    let cursor;
    let pages = 0;
    do {
        const res = await list(cursor === undefined ? params : { ...params, cursor });
        items.push(...res[key]);
        cursor = res.nextCursor;
        pages++;
        if (pages > 100) {
            throw new Error(`${key}: more than 100 pages`);
        }
    } while (cursor !== undefined);
    return { items, pages };
}

function needsNoArguments(tool) {
    const s = tool.inputSchema || {};
    return !Array.isArray(s.required) || s.required.length === 0;
}

async function main() {
    const client = new Client({ name: 'ngx-mcp-sdk-test', version: '1.0.0' },
                              { capabilities: {} });
    const transport = new StreamableHTTPClientTransport(new URL(url),
        process.env.MCP_CLIENT_HOST
            ? { fetch: hostFetch(process.env.MCP_CLIENT_HOST) } : {});

    await client.connect(transport, opts);
    out('connect', {
        protocolVersion: transport.protocolVersion,
        sessionId: transport.sessionId,
        serverInfo: client.getServerVersion(),
        capabilities: client.getServerCapabilities(),
        instructions: client.getInstructions(),
    });

    const tools = await all((p) => client.listTools(p, opts), 'tools');
    out('listTools', { names: tools.items.map((t) => t.name), pages: tools.pages });

    for (const tool of tools.items) {
        if (!needsNoArguments(tool)) {
            continue;
        }
        const result = await client.callTool({ name: tool.name, arguments: {} },
                                             undefined, opts);
        out('callTool', { name: tool.name, result });
    }

    const resources = await all((p) => client.listResources(p, opts), 'resources');
    out('listResources', { uris: resources.items.map((r) => r.uri),
                           pages: resources.pages });
    for (const r of resources.items) {
        const result = await client.readResource({ uri: r.uri }, opts);
        out('readResource', { uri: r.uri, result });
    }

    const templates = await all((p) => client.listResourceTemplates(p, opts),
                                'resourceTemplates');
    out('listResourceTemplates', {
        uriTemplates: templates.items.map((t) => t.uriTemplate) });

    const prompts = await all((p) => client.listPrompts(p, opts), 'prompts');
    out('listPrompts', { names: prompts.items.map((p) => p.name) });

    for (const p of prompts.items) {
        const args = {};
        for (const a of p.arguments || []) {
            if (a.required) {
                args[a.name] = argValues[a.name] ?? 'World';
            }
        }
        const result = await client.getPrompt({ name: p.name, arguments: args }, opts);
        out('getPrompt', { name: p.name, result });

        if ((p.arguments || []).length > 0) {
            const arg = p.arguments[0].name;
            const c = await client.complete({
                ref: { type: 'ref/prompt', name: p.name },
                argument: { name: arg, value: '' },
            }, opts);
            out('complete', { name: p.name, argument: arg, values: c.completion.values });
        }
    }

    await client.setLoggingLevel('info', opts);
    out('setLoggingLevel', { level: 'info' });

    const pong = await client.ping(opts);
    out('ping', { result: pong });

    const sid = transport.sessionId;
    await transport.terminateSession();
    out('terminateSession', { sessionId: sid, after: transport.sessionId ?? null });

    await client.close();
    out('done', {});
}

main().then(() => process.exit(0), (err) => {
    out('error', { message: String(err && err.message || err),
                   code: err && err.code });
    process.exit(1);
});
