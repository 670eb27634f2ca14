// The peer of `bench/run.sh pg`: the official MCP TypeScript SDK v2 server
// (@modelcontextprotocol/server 2.4.0, createMcpHandler, 2026-07-28) with a
// node-postgres Pool, serving the same primary-key lookup tool as the
// module's bench catalog (bench/pg.sh):
//
//   node server.mjs --port PORT --pg 'postgresql://app:secret@127.0.0.1:N/app'
//                   [--pool 16]
//
// pk_lookup runs `SELECT id, status, total FROM orders WHERE id = $1` as a
// named statement (node-postgres prepares it once per connection, as the
// module and `pgbench -M prepared` do) and answers what the module answers:
// structuredContent {"rows":[...],"rowCount":N,"truncated":false} plus the
// same JSON as text (numeric arrives from node-postgres as a string, as the
// module writes it).
//
// The SDK's cheapest serving: createMcpHandler with responseMode 'json' (one
// JSON body, no SSE), 2026 requests only (legacy 'reject'), plain node:http
// through toNodeHandler (no express).  createMcpHandler builds a server from
// the factory for each request, its documented pattern.

import http from 'node:http';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import pg from 'pg';
import { z } from 'zod';

function arg(name, dflt) {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : dflt;
}

const port = Number(arg('port', '18753'));
const pool = new pg.Pool({
    connectionString: arg('pg', 'postgresql://app:secret@127.0.0.1:5432/app'),
    max: Number(arg('pool', '16')),
    idleTimeoutMillis: 0,
});

const sql = 'SELECT id, status, total FROM orders WHERE id = $1';

async function lookup({ id }) {
    const r = await pool.query({ name: 'pk_lookup', text: sql, values: [id] });
    const structured = { rows: r.rows, rowCount: r.rows.length, truncated: false };
    return {
        content: [{ type: 'text', text: JSON.stringify(structured) }],
        structuredContent: structured,
    };
}

function factory() {
    const server = new McpServer({ name: 'bench-pg', version: '1.0.0' });
    server.registerTool('pk_lookup', {
        description: 'Looks up one order by primary key',
        inputSchema: z.object({ id: z.number().int().describe('Order id') }),
    }, lookup);
    return server;
}

const handler = toNodeHandler(createMcpHandler(factory, {
    responseMode: 'json',
    legacy: 'reject',
}));

http.createServer((req, res) => {
    handler(req, res).catch((e) => {
        if (!res.headersSent) {
            res.writeHead(500, { 'Content-Type': 'text/plain' });
        }
        res.end(String(e));
    });
}).listen(port, '127.0.0.1', () => {
    console.log(`ts-sdk v2 + pg peer on 127.0.0.1:${port}`);
});
