// Server-to-client requests with the official MCP TypeScript SDK client:
// it connects with (CAPS "all") or without (CAPS "none") the sampling,
// elicitation and roots capabilities, answers what the server asks, and
// calls each tool named; with several URLs its fetch sends every request
// to the next replica in turn, so that the client's answers reach another
// replica than the call.  Prints one JSON line per step; exits non-zero on
// a failure.
//
//   node s2c-client.mjs CAPS TOOL,TOOL,... URL [URL...]

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from
    '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema,
         ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const [caps, tools, ...urls] = process.argv.slice(2);
if (!urls.length) {
    console.error('usage: node s2c-client.mjs CAPS TOOLS URL...');
    process.exit(2);
}

const sent = [];          // {replica, kind}, every POST in order
let next = 0;

function rotatingFetch(input, init = {}) {
    const u = new URL(input instanceof URL ? input.href
                      : typeof input === 'string' ? input : input.url);
    const replica = next++ % urls.length;
    u.host = new URL(urls[replica]).host;

    let kind = init.method || 'GET';
    if (typeof init.body === 'string') {
        try {
            const m = JSON.parse(init.body);
            kind = m.method ? m.method
                 : (m.result !== undefined || m.error !== undefined)
                   ? 'response' : 'message';
        } catch (e) {
            kind = 'unparsable';
        }
    }
    sent.push({ replica, kind });
    return fetch(u, init);
}

function out(step, data) {
    console.log(JSON.stringify({ step, ...data }));
}

const capabilities = caps === 'all'
    ? { sampling: {}, elicitation: {}, roots: { listChanged: true } } : {};

const client = new Client({ name: 's2c-test', version: '1.0.0' },
                          { capabilities });

let asked = [];

if (caps === 'all') {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
        asked.push({ method: 'elicitation/create', params: req.params });
        if (/decline/.test(req.params.message)) {
            return { action: 'decline' };
        }
        return { action: 'accept', content: { name: 'Ada' } };
    });
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
        asked.push({ method: 'sampling/createMessage', params: req.params });
        return { role: 'assistant', model: 'test-model',
                 content: { type: 'text', text: 'sampled words' },
                 stopReason: 'endTurn' };
    });
    client.setRequestHandler(ListRootsRequestSchema, async () => {
        asked.push({ method: 'roots/list' });
        return { roots: [{ uri: 'file:///work', name: 'work' }] };
    });
}

try {
    const transport = new StreamableHTTPClientTransport(new URL(urls[0]),
                                                        { fetch: rotatingFetch });
    await client.connect(transport);
    out('connect', { sessionId: transport.sessionId });

    for (const name of tools.split(',')) {
        asked = [];
        const from = sent.length;
        const result = await client.callTool({ name, arguments: {} });
        const mine = sent.slice(from);
        out('call', {
            name, result, asked,
            callReplica: mine.find((s) => s.kind === 'tools/call')?.replica,
            answerReplicas: mine.filter((s) => s.kind === 'response')
                                .map((s) => s.replica),
        });
    }

    await client.close();
    out('done', {});
} catch (e) {
    out('error', { message: String(e && e.message || e) });
    process.exit(1);
}
