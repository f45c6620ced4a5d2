/**
 * A small OpenID provider on 127.0.0.1 standing in for デジタル認証アプリ or LINE Login: discovery,
 * JWKS, an authorization endpoint that logs in the user the test chose (the upstream's own login is
 * not ours to test), a token endpoint that checks the client secret and PKCE (S256), and userinfo.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Who logs in at the next authorization request: the upstream subject and its claims. */
  user: { sub: string; claims: Record<string, unknown> };
  /** The authorization requests received, as query parameters. */
  requests: URLSearchParams[];
  close(): Promise<void>;
}

interface Code {
  sub: string;
  claims: Record<string, unknown>;
  nonce: string | null;
  challenge: string;
  redirectUri: string;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => resolve(body));
  });
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export async function startTestIdp(options: { acr?: string } = {}): Promise<TestIdp> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test', alg: 'RS256', use: 'sig' };
  const codes = new Map<string, Code>();
  const tokens = new Map<string, { sub: string; claims: Record<string, unknown> }>();
  const idp: TestIdp = {
    issuer: '',
    clientId: 'machi-test',
    clientSecret: randomBytes(16).toString('hex'),
    user: { sub: 'upstream-user', claims: {} },
    requests: [],
    close: async () => {},
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(String(req.url), idp.issuer);
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer: idp.issuer,
        authorization_endpoint: `${idp.issuer}/authorize`,
        token_endpoint: `${idp.issuer}/token`,
        userinfo_endpoint: `${idp.issuer}/userinfo`,
        jwks_uri: `${idp.issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic'],
      });
    }
    if (url.pathname === '/jwks') return json(res, 200, { keys: [jwk] });
    if (url.pathname === '/authorize') {
      idp.requests.push(url.searchParams);
      const p = url.searchParams;
      if (p.get('client_id') !== idp.clientId || p.get('code_challenge_method') !== 'S256') {
        return json(res, 400, { error: 'invalid_request' });
      }
      const code = randomBytes(16).toString('base64url');
      codes.set(code, {
        ...idp.user,
        nonce: p.get('nonce'),
        challenge: String(p.get('code_challenge')),
        redirectUri: String(p.get('redirect_uri')),
      });
      const back = new URL(String(p.get('redirect_uri')));
      back.searchParams.set('code', code);
      back.searchParams.set('state', String(p.get('state')));
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const basic = Buffer.from(
        String(req.headers.authorization).replace(/^Basic /, ''),
        'base64',
      ).toString();
      const [id, secret] = basic.split(':').map(decodeURIComponent);
      if (id !== idp.clientId || secret !== idp.clientSecret)
        return json(res, 401, { error: 'invalid_client' });
      const code = codes.get(String(form.get('code')));
      codes.delete(String(form.get('code')));
      const verifier = String(form.get('code_verifier'));
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (!code || code.challenge !== challenge || code.redirectUri !== form.get('redirect_uri')) {
        return json(res, 400, { error: 'invalid_grant' });
      }
      const accessToken = randomBytes(16).toString('base64url');
      tokens.set(accessToken, { sub: code.sub, claims: code.claims });
      const idToken = await new SignJWT({
        ...(code.nonce ? { nonce: code.nonce } : {}),
        ...(options.acr ? { acr: options.acr } : {}),
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'test' })
        .setIssuer(idp.issuer)
        .setAudience(idp.clientId)
        .setSubject(code.sub)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      return json(res, 200, {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: 300,
        id_token: idToken,
      });
    }
    if (url.pathname === '/userinfo') {
      const found = tokens.get(String(req.headers.authorization).replace(/^Bearer /, ''));
      if (!found) return json(res, 401, { error: 'invalid_token' });
      return json(res, 200, { sub: found.sub, ...found.claims });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  idp.issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  idp.close = () => new Promise((resolve) => server.close(() => resolve()));
  return idp;
}
