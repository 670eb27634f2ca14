// The official MCP TypeScript SDK client against a URL that wants a bearer
// token.  Prints one JSON line and exits 0 when things went as expected,
// else prints one JSON line {"error": ...} and exits 1.
//
//   node auth-client.mjs http://127.0.0.1:PORT/mcp TOKEN
//
// With a TOKEN (sent as "Authorization: Bearer TOKEN" on every request,
// through the transport's requestInit): initialize, tools/list (all pages),
// one tools/call, close.  Prints
//   {"ok":true,"protocolVersion":..,"sessionId":..,"tools":[names],
//    "tool":NAME,"result":{the tools/call result}}
// MCP_TOOL: the tool to call (default "echo"); MCP_ARGS: its arguments as
// JSON (default {}).  A refused request is an error line with "code", the
// HTTP status (the SDK's StreamableHTTPError.code).
//
//   node auth-client.mjs http://127.0.0.1:PORT/mcp
//
// Without a TOKEN: the SDK's connect must fail with 401.  Without an
// authProvider the SDK does not throw UnauthorizedError but
// StreamableHTTPError with code 401; either is taken.  Then
//   * a plain POST of an initialize request: its status, its
//     WWW-Authenticate header, and what the SDK's
//     extractWWWAuthenticateParams() makes of it (resourceMetadataUrl,
//     scope, error);
//   * the SDK's discoverOAuthProtectedResourceMetadata(URL) fetches the RFC
//     9728 metadata (a GET with MCP-Protocol-Version: 2025-11-25): first
//     /.well-known/oauth-protected-resource followed by the URL's path (a
//     trailing "/" dropped, the query kept), then, when that answer is not
//     2xx but below 500 (or the fetch threw) and the path is not "/",
//     /.well-known/oauth-protected-resource at the root.  A 404 there, or
//     no answer, is "does not implement" and any other non-2xx an error;
//     the JSON must have "resource" (a URL).  MCP_DISCOVERY=header passes
//     the resource_metadata URL from WWW-Authenticate instead (what the
//     SDK's own auth() does): that one URL, no fallback.
// Prints
//   {"unauthorized":true,"connectError":{name,code,message},"status":401,
//    "wwwAuthenticate":..,"resourceMetadataUrl":..,"scope":..,
//    "wwwError":..,"metadata":{...},"resourceAllowed":true,
//    "discovery":[{url,status},...]}
// resourceAllowed: the SDK's checkResourceAllowed(), which its auth() applies
// before asking for a token: metadata.resource has the URL's origin and its
// path is a prefix (by whole segments) of the URL's path.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from
    '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
    UnauthorizedError,
    discoverOAuthProtectedResourceMetadata,
    extractWWWAuthenticateParams,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { checkResourceAllowed, resourceUrlFromServerUrl } from
    '@modelcontextprotocol/sdk/shared/auth-utils.js';

const url = process.argv[2];
const token = process.argv[3];
if (!url) {
    console.error('usage: node auth-client.mjs URL [TOKEN]');
    process.exit(2);
}

const opts = { timeout: 10000 };

function out(data) {
    console.log(JSON.stringify(data));
}

function describe(err) {
    return {
        name: err && err.constructor && err.constructor.name,
        code: err && err.code,
        message: String(err && err.message || err),
    };
}

async function withToken() {
    const tool = process.env.MCP_TOOL || 'echo';
    const args = JSON.parse(process.env.MCP_ARGS || '{}');

    const client = new Client({ name: 'ngx-mcp-auth-test', version: '1.0.0' },
                              { capabilities: {} });
    const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { Authorization: 'Bearer ' + token } },
    });

    await client.connect(transport, opts);

    const tools = [];
    let cursor;
    let pages = 0;
    do {
        const res = await client.listTools(cursor === undefined ? {} : { cursor },
                                           opts);
        tools.push(...res.tools.map((t) => t.name));
        cursor = res.nextCursor;
        if (++pages > 100) {
            throw new Error('tools/list: more than 100 pages');
        }
    } while (cursor !== undefined);

    const result = await client.callTool({ name: tool, arguments: args },
                                         undefined, opts);
    const seen = {
        ok: true,
        protocolVersion: transport.protocolVersion,
        sessionId: transport.sessionId ?? null,
        tools,
        tool,
        result,
    };
    await client.close();
    return seen;
}

async function withoutToken() {
    // the SDK's own connect, which must be refused
    const client = new Client({ name: 'ngx-mcp-auth-test', version: '1.0.0' },
                              { capabilities: {} });
    const transport = new StreamableHTTPClientTransport(new URL(url));
    let connectError;
    try {
        await client.connect(transport, opts);
    } catch (err) {
        connectError = err;
    }
    await client.close().catch(() => {});
    if (!connectError) {
        throw new Error('connect succeeded without a token');
    }
    if (!(connectError instanceof UnauthorizedError) && connectError.code !== 401) {
        throw Object.assign(new Error('connect did not fail with 401: '
                                      + connectError.message),
                            { code: connectError.code });
    }

    // the 401 as it is, and the SDK's reading of its WWW-Authenticate
    const res = await fetch(url, {
        method: 'POST',
        headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
            jsonrpc: '2.0', id: 1, method: 'initialize',
            params: {
                protocolVersion: '2025-11-25', capabilities: {},
                clientInfo: { name: 'ngx-mcp-auth-test', version: '1.0.0' },
            },
        }),
        signal: AbortSignal.timeout(opts.timeout),
    });
    await res.body?.cancel();
    const www = extractWWWAuthenticateParams(res);

    // RFC 9728 discovery by the SDK, every URL it fetched noted
    const discovery = [];
    const noting = async (input, init) => {
        const r = await fetch(input, init);
        discovery.push({ url: String(input instanceof Request ? input.url : input),
                         status: r.status });
        return r;
    };
    const byHeader = process.env.MCP_DISCOVERY === 'header';
    if (byHeader && !www.resourceMetadataUrl) {
        throw new Error('MCP_DISCOVERY=header: no resource_metadata in '
                        + 'WWW-Authenticate');
    }
    let metadata;
    try {
        metadata = await discoverOAuthProtectedResourceMetadata(url,
            byHeader ? { resourceMetadataUrl: www.resourceMetadataUrl } : undefined,
            noting);
    } catch (err) {
        throw Object.assign(new Error('discovery failed: ' + err.message),
                            { discovery });
    }

    return {
        unauthorized: true,
        connectError: describe(connectError),
        status: res.status,
        wwwAuthenticate: res.headers.get('www-authenticate'),
        resourceMetadataUrl: www.resourceMetadataUrl?.href ?? null,
        scope: www.scope ?? null,
        wwwError: www.error ?? null,
        metadata,
        // whether the SDK's auth() would take metadata.resource for this URL
        resourceAllowed: checkResourceAllowed({
            requestedResource: resourceUrlFromServerUrl(url),
            configuredResource: metadata.resource,
        }),
        discovery,
    };
}

(token === undefined ? withoutToken() : withToken()).then((seen) => {
    out(seen);
    process.exit(0);
}, (err) => {
    out({ error: String(err && err.message || err), ...describe(err),
          discovery: err && err.discovery });
    process.exit(1);
});
