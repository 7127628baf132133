// A real OpenID provider (panva's oidc-provider) on 127.0.0.1 for the OAuth tests (tests/oauth.rs).
//
// Prints one JSON line {"issuer": URL} when it listens, then serves until stdin closes (so a
// test that dies takes it along). One confidential client, `fastmcp-test` / `fastmcp-secret`,
// may use the client-credentials grant for any resource indicator; the access token is a JWT
// whose `aud` is that resource and whose `scope` is what was asked (of `read admin`).
//
// Signing algorithms: the key set holds one key per algorithm fastmcp accepts (issue #18), each
// with its own `kid` and `alg`: RSA keys for RS256 (`key-N`, the one /test/rotate replaces),
// RS384, RS512 and PS256 (`rs384-key`, ...), EC P-256 for ES256, EC P-384 for ES384, OKP Ed25519
// for EdDSA. Access tokens are RS256 unless the token request carries the header
// `x-test-alg: ALG` (one of those seven; anything else is a 400): then that algorithm's key signs
// it. A header rather than the resource indicator, so the token's `aud` stays fastmcp's URL.
//
// Test controls under /test/ (this process only, 127.0.0.1 only):
//   POST /test/rotate        a new RS256 key replaces the old one (the old is no longer published);
//                            the keys of the other algorithms stay
//   POST /test/clock?skew=S  the provider's clock runs S seconds off (tokens issued in the past)
//   POST /test/jwks-down?on=1  the JWKS endpoint answers 503 until on=0
//   POST /test/sign          {header, claims, kid?} signed with the key `kid` (default: the
//                            current RS256 key) and the header's `alg` (default: the key's): a
//                            token the provider's key really signed, with whatever header a test
//                            wants to try, even an `alg` the key set does not name for that key
import http from 'node:http';
import { CompactSign, exportJWK, generateKeyPair, importJWK } from 'jose';
import Provider from 'oidc-provider';

let skewSeconds = 0;
const realNow = Date.now;
Date.now = () => realNow() + skewSeconds * 1000;

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];

async function privateJwk(alg, kid) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
}

let keyCount = 0;
async function newKey() {
  keyCount += 1;
  return privateJwk('RS256', `key-${keyCount}`);
}

// The keys of the other algorithms, made once: rotation is tested with the RS256 key only.
const others = await Promise.all(
  ALGORITHMS.filter((alg) => alg !== 'RS256')
    .map((alg) => privateJwk(alg, `${alg.toLowerCase()}-key`)),
);

function makeProvider(issuer, key) {
  // The RS256 key first: tests take keys[0] as "the provider's key".
  const keys = [key, ...others];
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'fastmcp-test',
      client_secret: 'fastmcp-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'read admin',
    }],
    jwks: { keys },
    scopes: ['read', 'admin'],
    // Discovery then advertises every algorithm (access tokens are signed per resource server
    // below, with the keystore's key of that `alg`).
    enabledJWA: { idTokenSigningAlgValues: ALGORITHMS },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => ({
          scope: 'read admin',
          audience: resource,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: ctx.get('x-test-alg') || 'RS256' } },
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
      const { header, claims, kid } = JSON.parse(Buffer.concat(chunks).toString());
      const jwk = [current, ...others].find((k) => k.kid === (kid ?? current.kid));
      if (!jwk) {
        res.writeHead(400).end(`no key ${kid}`);
        return;
      }
      const alg = header.alg ?? jwk.alg;
      // Imported without its `alg`, so it signs with whichever the test asked for.
      const key = await importJWK({ ...jwk, alg: undefined }, alg);
      const jws = await new CompactSign(Buffer.from(JSON.stringify(claims)))
        .setProtectedHeader({ ...header, alg, kid: jwk.kid })
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
  const alg = req.headers['x-test-alg'];
  if (alg !== undefined && !ALGORITHMS.includes(alg)) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`x-test-alg: not one of ${ALGORITHMS}`);
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
