// The official TypeScript SDK's OAuth client against fastmcp, headless: a client-credentials
// client (ClientCredentialsProvider) that knows only fastmcp's URL and its own credentials. The
// SDK must find the authorization server from fastmcp's 401 (`resource_metadata`) and its
// Protected Resource Metadata, fetch the server's metadata, get a token for fastmcp's resource
// URL, and retry. Prints one JSON line: what it discovered, what it sent, what the tool said.
//
// usage: node sdk_oauth.mjs http://127.0.0.1:PORT/mcp
// The SDK is the one tests/clients installs (`npm ci` there).
const sdk = new URL('../clients/node_modules/@modelcontextprotocol/sdk/dist/esm/', import.meta.url);
const { Client } = await import(new URL('client/index.js', sdk));
const { StreamableHTTPClientTransport } = await import(new URL('client/streamableHttp.js', sdk));
const { ClientCredentialsProvider } = await import(new URL('client/auth-extensions.js', sdk));

const url = process.argv[2];
setTimeout(() => {
  console.error('gave up after 20 s');
  process.exit(2);
}, 20000).unref();

const seen = { fetched: [] };
// Records where the SDK goes; the requests themselves are the SDK's.
const recording = async (input, init) => {
  const target = typeof input === 'string' ? input : input.url ?? String(input);
  seen.fetched.push(`${init?.method ?? 'GET'} ${target}`);
  if (target.endsWith('/token')) {
    seen.authorizationServer = new URL(target).origin;
    const body = new URLSearchParams(String(init?.body ?? ''));
    seen.resource = body.get('resource');
    seen.grant = body.get('grant_type');
  }
  return fetch(input, init);
};

const provider = new ClientCredentialsProvider({
  clientId: 'fastmcp-test',
  clientSecret: 'fastmcp-secret',
  scope: 'read',
});
const transport = new StreamableHTTPClientTransport(new URL(url), {
  authProvider: provider,
  fetch: recording,
});
const client = new Client({ name: 'sdk-oauth-test', version: '1.0.0' });
await client.connect(transport);
const tools = await client.listTools();
const result = await client.callTool({ name: 'whoami', arguments: {} });
seen.tools = tools.tools.map((t) => t.name);
seen.whoami = result.content?.[0]?.text;
await client.close();
process.stdout.write(`${JSON.stringify(seen)}\n`);
