// The peer of `make bench`: the official MCP TypeScript SDK server
// (McpServer + StreamableHTTPServerTransport) with the same tools as the
// module's bench catalog (bench/gen-conf.sh).
//
//   node server.mjs --mode stateless|stateful --port PORT [--tools N]
//
// stateless: sessionIdGenerator undefined; a new McpServer and transport per
//            request, the SDK's documented pattern (a stateless transport
//            cannot be reused across requests).
// stateful:  sessionIdGenerator randomUUID; initialize creates a server and a
//            transport kept in a map by Mcp-Session-Id.
//
// Both answer with application/json (enableJsonResponse), as the module
// does, rather than an SSE stream: the cheaper of the SDK's two answers.
// Plain node:http, no express: again the cheaper choice for the peer.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from
    '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

function arg(name, dflt) {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : dflt;
}

const mode = arg('mode', 'stateless');
const port = Number(arg('port', '18750'));
const ntools = Number(arg('tools', '10'));

function makeServer() {
    const server = new McpServer({ name: 'bench', version: '1.0.0' });

    server.registerTool('hello', {
        description: 'Says hello',
    }, async () => ({
        content: [{ type: 'text', text: 'Hello from the bench' }],
    }));

    server.registerTool('lookup', {
        description: 'Looks up an order',
        inputSchema: { id: z.number().int().describe('Order id') },
    }, async () => {
        const structured = { id: 42, status: 'shipped' };
        return {
            content: [{ type: 'text', text: JSON.stringify(structured) }],
            structuredContent: structured,
        };
    });

    for (let i = 3; i <= ntools; i++) {
        const name = `tool_${String(i).padStart(5, '0')}`;
        server.registerTool(name, {
            description: `Filler tool number ${i} of the bench catalog`,
        }, async () => ({
            content: [{ type: 'text', text: `Answer of ${name}` }],
        }));
    }

    return server;
}

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

async function stateless(req, res) {
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    const server = makeServer();
    const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
    });
    res.on('close', () => {
        transport.close();
        server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
}

async function stateful(req, res) {
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    const sid = req.headers['mcp-session-id'];
    let transport = sid ? sessions.get(sid) : undefined;

    if (!transport) {
        if (sid || req.method !== 'POST' || !isInitializeRequest(body)) {
            return fail(res, sid ? 404 : 400, 'no valid session');
        }
        transport = new StreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            enableJsonResponse: true,
            onsessioninitialized: (id) => sessions.set(id, transport),
        });
        transport.onclose = () => {
            if (transport.sessionId) {
                sessions.delete(transport.sessionId);
            }
        };
        await makeServer().connect(transport);
    }

    await transport.handleRequest(req, res, body);
}

const handler = mode === 'stateful' ? stateful : stateless;

http.createServer((req, res) => {
    handler(req, res).catch((e) => {
        if (!res.headersSent) {
            fail(res, 500, String(e));
        }
    });
}).listen(port, '127.0.0.1', () => {
    console.log(`ts-sdk peer (${mode}, ${ntools} tools) on 127.0.0.1:${port}`);
});
