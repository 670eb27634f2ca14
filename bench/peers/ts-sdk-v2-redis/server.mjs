// The peer of `bench/run.sh redis`: the official MCP TypeScript SDK v2 server
// (@modelcontextprotocol/server 2.4.0) with a node-redis 5 client, serving
// what the module serves in bench/redis.sh:
//
//   node server.mjs --port PORT --redis redis://127.0.0.1:N
//
// POST /mcp      stateless, 2026-07-28: createMcpHandler with responseMode
//                'json' (one JSON body, no SSE), 2026 requests only (legacy
//                'reject'), plain node:http through toNodeHandler, a server
//                built by the factory for each request (its documented
//                pattern), as bench/peers/ts-sdk-v2-pg does.  The tool `get`
//                runs GET key on one node-redis client (one connection; the
//                client pipelines the commands of concurrent calls on it) and
//                answers the value as a text item, as the module's
//                `redis UPSTREAM GET "{key}"` does (bench/redis.sh compares
//                the two answers' content before measuring).
// POST /session  2025-era sessions (the `ping` rows): a
//                NodeStreamableHTTPServerTransport with sessionIdGenerator
//                randomUUID and enableJsonResponse, kept with its McpServer
//                in a Map by Mcp-Session-Id.  These sessions are in this
//                process's memory: the SDK has no session store to put them
//                in Redis (a transport holds its session; its EventStore
//                hook replays SSE events, it stores no session), so the
//                module's sessions in Redis are compared with the SDK's in
//                memory.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import {
    createMcpHandler, isInitializeRequest, McpServer,
} from '@modelcontextprotocol/server';
import {
    NodeStreamableHTTPServerTransport, toNodeHandler,
} from '@modelcontextprotocol/node';
import { createClient } from 'redis';
import { z } from 'zod';

function arg(name, dflt) {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : dflt;
}

const port = Number(arg('port', '18754'));
const redis = createClient({ url: arg('redis', 'redis://127.0.0.1:6379') });
redis.on('error', (e) => console.error(`redis: ${e}`));
await redis.connect();

// a string is the text result; nil is {"value":null}, structured and as
// text, as the module answers it
async function get({ key }) {
    const value = await redis.get(key);
    if (value === null) {
        const structured = { value: null };
        return { content: [{ type: 'text', text: JSON.stringify(structured) }],
                 structuredContent: structured };
    }
    return { content: [{ type: 'text', text: value }] };
}

function makeServer() {
    const server = new McpServer({ name: 'bench-redis', version: '1.0.0' });
    server.registerTool('get', {
        description: 'Reads one key',
        inputSchema: z.object({ key: z.string().describe('Key') }),
    }, get);
    return server;
}

const stateless = toNodeHandler(createMcpHandler(makeServer, {
    responseMode: 'json',
    legacy: 'reject',
}));

function readBody(req) {
    return new Promise((resolve, reject) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            try {
                const s = Buffer.concat(chunks).toString('utf8');
                resolve(s.length ? JSON.parse(s) : undefined);
            } catch (e) {
                reject(e);
            }
        });
        req.on('error', reject);
    });
}

function fail(res, code, message) {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', id: null,
                             error: { code: -32000, message } }));
}

const sessions = new Map();

async function stateful(req, res) {
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    const sid = req.headers['mcp-session-id'];
    let transport = sid ? sessions.get(sid) : undefined;

    if (!transport) {
        if (sid || req.method !== 'POST' || !isInitializeRequest(body)) {
            return fail(res, sid ? 404 : 400, 'no valid session');
        }
        const t = new NodeStreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            enableJsonResponse: true,
            onsessioninitialized: (id) => sessions.set(id, t),
        });
        t.onclose = () => {
            if (t.sessionId) {
                sessions.delete(t.sessionId);
            }
        };
        await makeServer().connect(t);
        transport = t;
    }

    await transport.handleRequest(req, res, body);
}

http.createServer((req, res) => {
    const route = req.url === '/session' ? stateful : stateless;
    route(req, res).catch((e) => {
        if (!res.headersSent) {
            fail(res, 500, String(e));
        } else {
            res.end();
        }
    });
}).listen(port, '127.0.0.1', () => {
    console.log(`ts-sdk v2 + redis peer on 127.0.0.1:${port}`);
});
