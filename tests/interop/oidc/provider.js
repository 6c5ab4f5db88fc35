// A real OpenID Connect provider (oidc-provider) for tests/interop/oidc: the
// institution's IdP the academy signs staff in through. Started by the tests:
//   node provider.js <redirect_uri>
// It listens on a free port of 127.0.0.1 and prints "listening <issuer>" once ready.
// Sign-in uses oidc-provider's development interactions: POST the login form with any
// account id; the accounts below carry the claims the tests expect. Consent is implied
// (a first-party client), so a sign-in is: authorize -> login form -> redirect back.
//
// Test-only controls (never in a real IdP), so the tests can make the provider
// misbehave the way a broken or hostile token response would:
//   POST /__test__/next-token  {"id_token": "..."}  the next token response carries
//        this id token instead of its own (an id token issued to another client);
//   POST /__test__/next-token  {"skew": -3600}      the next token response is made
//        with the provider's clock moved by that many seconds (an expired id token).
import http from 'node:http';
import Provider from 'oidc-provider';
import { generateKeyPair, exportJWK } from 'jose';

const redirectUri = process.argv[2] || 'http://localhost/login/sso/callback';

const ACCOUNTS = {
  'mei.trainer': {
    email: 'mei.lin@bank.example', email_verified: true, name: '林美', preferred_username: 'mei.lin',
    roles: ['academy-trainers', 'staff'],
  },
  'hao.officer': {
    email: 'hao.chen@bank.example', email_verified: true, name: '陳浩', preferred_username: 'hao.chen',
    roles: ['staff'],
  },
  'existing.user': {
    email: 'existing@bank.example', email_verified: true, name: 'Existing', preferred_username: 'existing',
    roles: ['staff'],
  },
  'disabled.user': {
    email: 'disabled@bank.example', email_verified: true, name: 'Disabled', preferred_username: 'disabled',
    roles: ['staff'],
  },
};

let nextToken = {};

const server = http.createServer();
server.listen(0, '127.0.0.1', async () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'courseware', client_secret: 'courseware-secret',
        redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'],
      },
      {
        client_id: 'other-app', client_secret: 'other-secret',
        redirect_uris: ['http://other.example/callback'],
        grant_types: ['authorization_code'], response_types: ['code'],
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: ['interop-test-only'] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      roles: ['roles'],
    },
    scopes: ['openid', 'email', 'profile', 'roles'],
    // CONFORM_ID_TOKEN_CLAIMS=1: the id token carries only sub; email, name and roles come
    // from the userinfo endpoint (as many providers do).
    conformIdTokenClaims: process.env.CONFORM_ID_TOKEN_CLAIMS === '1',
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    async findAccount(ctx, id) {
      const claims = ACCOUNTS[id] || { email: `${id}@bank.example`, name: id, roles: [] };
      return { accountId: id, async claims() { return { sub: id, ...claims }; } };
    },
    async loadExistingGrant(ctx) {
      // First-party: every client is granted what it asks for, no consent screen.
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile roles');
      await grant.save();
      return grant;
    },
  });

  provider.use(async (ctx, next) => {
    if (ctx.path !== '/token' || ctx.method !== 'POST') return next();
    const { skew = 0, id_token: swapped } = nextToken;
    nextToken = {};
    const realNow = Date.now;
    if (skew) Date.now = () => realNow() + skew * 1000;
    try {
      await next();
    } finally {
      Date.now = realNow;
    }
    if (swapped && ctx.body && ctx.body.id_token) ctx.body.id_token = swapped;
  });

  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url === '/__test__/next-token' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => {
        nextToken = JSON.parse(body || '{}');
        res.writeHead(204).end();
      });
      return;
    }
    callback(req, res);
  });
  console.log(`listening ${issuer}`);
});
