// A real OpenID provider (panva's oidc-provider) on 127.0.0.1 for the OAuth tests (tests/oauth.rs).
//
// Prints one JSON line {"issuer": URL} when it listens, then serves until stdin closes (so a
// test that dies takes it along). One confidential client, `fastmcp-test` / `fastmcp-secret`,
// may use the client-credentials grant for any resource indicator; the access token is a JWT
// whose `aud` is that resource and whose `scope` is what was asked (of `read admin`).
//
// Test controls under /test/ (this process only, 127.0.0.1 only):
//   POST /test/rotate        a new signing key replaces the old one (the old is no longer published)
//   POST /test/clock?skew=S  the provider's clock runs S seconds off (tokens issued in the past)
//   POST /test/jwks-down?on=1  the JWKS endpoint answers 503 until on=0
//   POST /test/sign          {header, claims} signed with the current key: a token the provider's
//                            key really signed, with whatever header a test wants to try
import http from 'node:http';
import { CompactSign, exportJWK, generateKeyPair, importJWK } from 'jose';
import Provider from 'oidc-provider';

let skewSeconds = 0;
const realNow = Date.now;
Date.now = () => realNow() + skewSeconds * 1000;

let keyCount = 0;
async function newKey() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  keyCount += 1;
  return { ...jwk, kid: `key-${keyCount}`, alg: 'RS256', use: 'sig' };
}

function makeProvider(issuer, key) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'fastmcp-test',
      client_secret: 'fastmcp-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'read admin',
    }],
    jwks: { keys: [key] },
    scopes: ['read', 'admin'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => ({
          scope: 'read admin',
          audience: resource,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  provider.proxy = false;
  return provider;
}

let handler = null;
let jwksDown = false;
let issuer = '';
let current = null;

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  if (req.method === 'POST' && url.pathname.startsWith('/test/')) {
    if (url.pathname === '/test/rotate') {
      current = await newKey();
      handler = makeProvider(issuer, current).callback();
    } else if (url.pathname === '/test/clock') {
      skewSeconds = Number(url.searchParams.get('skew') || 0);
    } else if (url.pathname === '/test/sign') {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const { header, claims } = JSON.parse(Buffer.concat(chunks).toString());
      const key = await importJWK(current, 'RS256');
      const jws = await new CompactSign(Buffer.from(JSON.stringify(claims)))
        .setProtectedHeader({ ...header, alg: 'RS256', kid: current.kid })
        .sign(key);
      res.writeHead(200, { 'content-type': 'application/jwt' });
      res.end(jws);
      return;
    } else if (url.pathname === '/test/jwks-down') {
      jwksDown = url.searchParams.get('on') === '1';
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kid: current.kid, skew: skewSeconds, jwksDown }));
    return;
  }
  if (jwksDown && url.pathname === '/jwks') {
    res.writeHead(503).end('down');
    return;
  }
  handler(req, res);
});

server.listen(0, '127.0.0.1', async () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  current = await newKey();
  handler = makeProvider(issuer, current).callback();
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
