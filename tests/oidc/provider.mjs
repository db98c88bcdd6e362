// A real OpenID provider for the test suite: oidc-provider (OpenID-certified) with one test
// client, PKCE required, test users carrying group claims, and a minimal login page.
//
//   node tests/oidc/provider.mjs PORT
//
// The client is a "native" one so that its loopback redirect URI is allowed on any port
// (RFC 8252): each test's app server listens on a port of its own.
import http from 'node:http';
import { URL } from 'node:url';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || process.env.OIDC_TEST_PORT);
if (!port) {
  console.error('usage: node provider.mjs PORT');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

export const CLIENT_ID = 'every-seat-test';
export const CLIENT_SECRET = 'every-seat-test-secret-that-is-long-enough';

// login name -> claims. The group names are the ones tests map to roles.
const USERS = {
  alice: { email: 'alice@trust.example', name: 'Alice Curator', groups: ['grp-staff', 'grp-curators'] },
  bob: { email: 'bob@trust.example', name: 'Bob Admin', groups: ['grp-admins', 'grp-staff'] },
  carol: { email: 'carol@trust.example', name: 'Carol Elsewhere', groups: ['grp-finance'] },
  dan: { email: 'dan@trust.example', name: 'Dan Learner', groups: ['grp-staff'] },
};

const configuration = {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/login/sso/callback'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  // The scope's claims go into the ID token too (as Entra ID sends groups there).
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups'],
  },
  async findAccount(_ctx, id) {
    const user = USERS[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: user.email, email_verified: true, name: user.name, groups: user.groups };
      },
    };
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['every-seat-test-cookie-key-0123456789'] },
  ttl: { IdToken: 600, AccessToken: 600, AuthorizationCode: 60, Session: 3600, Interaction: 600, Grant: 3600 },
};

const provider = new Provider(issuer, configuration);
const callback = provider.callback();

function page(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(`<!DOCTYPE html><html lang="en"><head><title>Test provider sign-in</title></head><body>${body}</body></html>`);
}

async function readForm(req) {
  let data = '';
  for await (const chunk of req) data += chunk;
  return new URLSearchParams(data);
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  const match = url.pathname.match(/^\/interaction\/([\w-]+)(\/login)?$/u);
  if (!match) {
    callback(req, res);
    return;
  }
  try {
    const details = await provider.interactionDetails(req, res);
    if (process.env.OIDC_TEST_DEBUG) console.log(JSON.stringify({ prompt: details.prompt, session: details.session }));
    if (details.prompt.name === 'consent') {
      // A first-party client: consent is implied (oidc-provider asks it of every native client).
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    if (req.method === 'GET') {
      page(res, 200, `<main><h1>Test provider</h1>
        <form method="post" action="/interaction/${details.uid}/login">
          <label for="login">Login name</label> <input id="login" name="login" autocomplete="off">
          <button type="submit">Sign in to the test provider</button>
        </form></main>`);
      return;
    }
    const login = (await readForm(req)).get('login') || '';
    if (!USERS[login]) {
      page(res, 400, '<main><h1>Unknown user</h1></main>');
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  } catch (error) {
    page(res, 400, `<main><h1>Error</h1><p>${String(error.message).replace(/[<>&]/gu, '')}</p></main>`);
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`oidc test provider on ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
