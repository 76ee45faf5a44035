// A real OpenID Connect provider for the console's sign-in tests (tests/console/oidc_peer.py):
// panva's oidc-provider, pinned by package-lock.json and installed by tests/peers/install.sh.
//
//   node provider.mjs PORT REDIRECT_URI
//
// with TRADEOPS_TEST_OIDC_CLIENT_ID and TRADEOPS_TEST_OIDC_CLIENT_SECRET in the environment (not
// on the command line, which every process can read). Listens on 127.0.0.1:PORT, the issuer
// being http://127.0.0.1:PORT. One confidential client (client_secret_basic, PKCE required,
// the one redirect URI). People sign in on the module's development login form by typing an
// account name (any password); consent is given for them, as for a company's own application.
// Access tokens are JWTs for the services: audience `tradeops` (TRADEOPS_TEST_OIDC_AUDIENCE),
// the account's roles in the `roles` claim, reached through a resource indicator (RFC 8707)
// that every authorization request gets by default.
import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const ACCOUNTS = {
  alice: ['ops'],
  bob: ['ops'],
  carol: ['compliance'],
  vic: ['viewer'],
};
const RESOURCE = 'urn:tradeops:services';
const SCOPE = 'openid profile';

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = crypto.randomBytes(8).toString('hex');
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

async function findAccount(ctx, id) {
  if (!Object.hasOwn(ACCOUNTS, id)) return undefined;
  return { accountId: id, claims: async () => ({ sub: id, name: id }) };
}

// The grant a first-party application gets without asking the person: what it requests.
async function loadExistingGrant(ctx) {
  const { client, session, provider, result } = ctx.oidc;
  const grantId = result?.consent?.grantId || session.grantIdFor(client.clientId);
  if (grantId) return provider.Grant.find(grantId);
  const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  grant.addOIDCScope(SCOPE);
  await grant.save();
  return grant;
}

function resourceServer(audience) {
  return async (ctx, indicator) => {
    if (indicator !== RESOURCE) throw new errors.InvalidTarget();
    return { scope: '', audience, accessTokenFormat: 'jwt', accessTokenTTL: 3600 };
  };
}

function configuration(client, audience) {
  return {
    clients: [client],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], profile: ['name'] },
    findAccount,
    loadExistingGrant,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCE,
        // The token endpoint issues the access token for the resource the person granted, not
        // for the provider's userinfo endpoint.
        useGrantedResource: async () => true,
        getResourceServerInfo: resourceServer(audience),
      },
    },
    extraTokenClaims: async (ctx, token) => (
      token.kind === 'AccessToken' ? { roles: ACCOUNTS[token.accountId] } : undefined
    ),
    ttl: {
      AccessToken: 3600, AuthorizationCode: 60, Grant: 3600, IdToken: 3600, Interaction: 600,
      Session: 3600,
    },
  };
}

// The development login pages import a web font from the internet: a test's browser must ask
// nothing outside this machine, so the import is taken out (the pages fall back to sans-serif).
async function offline(ctx, next) {
  await next();
  if (typeof ctx.body === 'string' && ctx.response.is('html')) {
    ctx.body = ctx.body.replace(/@import url\(https?:[^)]*\);/g, '');
  }
}

function main() {
  const [port, redirectUri] = process.argv.slice(2);
  const { TRADEOPS_TEST_OIDC_CLIENT_ID: id, TRADEOPS_TEST_OIDC_CLIENT_SECRET: secret } = process.env;
  if (!port || !redirectUri || !id || !secret) {
    console.error('usage: TRADEOPS_TEST_OIDC_CLIENT_ID=.. TRADEOPS_TEST_OIDC_CLIENT_SECRET=.. '
      + 'node provider.mjs PORT REDIRECT_URI');
    process.exit(2);
  }
  const client = {
    client_id: id,
    client_secret: secret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
  const audience = process.env.TRADEOPS_TEST_OIDC_AUDIENCE || 'tradeops';
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration(client, audience));
  provider.use(offline);
  http.createServer(provider.callback()).listen(Number(port), '127.0.0.1', () => {
    console.log(`oidc-provider listening: ${issuer}`);
  });
  process.on('SIGTERM', () => process.exit(0));
}

main();
