// A real OpenID provider for Branchline's tests and demo ("bank SSO"): panva/node-oidc-provider
// (OpenID-Certified) with its own sign-in page instead of devInteractions, which would accept any
// login without a password. Started by tests/support/idp.py:
//
//   node tests/idp/idp.mjs <config.json>
//
// config.json: {"port", "issuer", "jwks": {"keys": [private JWKs]}, "clients": [client metadata],
//               "accounts": {"<login>": {"password", "claims": {...}, "amr": [optional]}}, "ttl": {"IdToken", "Session"},
//               "cookie_keys": [optional]}
// Listens on 127.0.0.1 only and prints "ready <issuer>" once it does.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts || {};
const ttl = { IdToken: 3600, Session: 3600, ...(config.ttl || {}) };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

const escape = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; background: #eef1f5; margin: 0; color: #1d2733; }
  main { max-width: 22rem; margin: 3rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px;
         box-shadow: 0 1px 4px rgba(0, 0, 0, .12); }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; } label { display: block; margin: .75rem 0; }
  input { display: block; width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; margin-top: .25rem; }
  button { font: inherit; padding: .5rem 1.25rem; background: #0b3a5d; color: #fff; border: 0; border-radius: 4px; }
  .error { color: #a01515; }
</style></head>
<body><main>${body}</main></body></html>`;
}

function loginPage(uid, { login = '', error = '', clientId = '' } = {}) {
  return page('Sign in to the bank', `<h1>Sign in to the bank</h1>
<p>to continue to ${escape(clientId)}</p>
${error ? `<p role="alert" class="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}" autocomplete="off">
  <label>Login <input type="text" name="login" value="${escape(login)}" required autofocus></label>
  <label>Password <input type="password" name="password" required></label>
  <button type="submit">Sign in</button>
</form>`);
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: {
    keys: config.cookie_keys || [
      'Zq4t7w9z$C&F)J@NcRfUjXn2r5u8x/A?', 'h9Rk2LwP0vQy3sTb6NfE1mJc8ZxG4aDu', 'V7pX1cK5nB3qW9eR2tY6uI0oL8kJ4hGf',
    ],
  },
  claims: {
    // amr: how the account signed in (a workforce provider's ["pwd", "mfa"]), when its config says.
    openid: ['sub', 'amr'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    bank: ['customer_number', 'segment'],
  },
  // Scope claims (profile, bank) in the ID token too, not only at /me: oidc-provider's default
  // (true) keeps them out of ID tokens whenever an access token is issued alongside.
  conformIdTokenClaims: false,
  pkce: { required: () => true }, // oidc-provider 9 only knows S256: "plain" is refused
  ttl,
  features: {
    devInteractions: { enabled: false }, // our own page below: a login needs its password
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // Plain pages (the defaults load web fonts from Google).
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out', `<h1>Do you want to sign out from the bank?</h1>
${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<h1>You are signed out</h1>');
      },
    },
  },
  // oidc-provider 9 refuses outgoing requests (back-channel logout tokens) to special-use addresses,
  // loopback included (SSRF protection in its dispatcher); the relying parties of tests listen on
  // 127.0.0.1, so loopback URLs go without that dispatcher. Everything else keeps it.
  fetch(url, options) {
    if (LOOPBACK.has(new URL(url).hostname)) delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<h1>Something went wrong</h1>${Object.entries(out)
      .map(([key, value]) => `<p><strong>${escape(key)}</strong>: ${escape(value)}</p>`).join('')}`);
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { ...(account.claims || {}), sub: id };
      },
    };
  },
});

for (const event of ['server_error', 'backchannel.error', 'grant.error']) {
  provider.on(event, (...args) => {
    const error = args.find((arg) => arg instanceof Error);
    const cause = error?.cause ? ` (cause: ${error.cause.code || ''} ${error.cause.message || error.cause})` : '';
    console.error(`${event}: ${error?.stack || error}${cause}`);
  });
}
provider.on('backchannel.success', (client, accountId, sid) => {
  console.log(`backchannel.success ${client.clientId} ${accountId} ${sid}`);
});

async function readForm(req, limit = 16 * 1024) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw new Error('body too large');
  }
  return new URLSearchParams(body);
}

function send(res, status, html) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
}

// GET shows the sign-in form (prompt "login") or grants consent at once (prompt "consent": the
// bank's own apps ask for nothing the customer must approve); POST checks login and password.
async function interaction(req, res, uid) {
  const { prompt, params, session, grantId } = await provider.interactionDetails(req, res);
  if (req.method === 'POST' && prompt.name === 'login') {
    const form = await readForm(req);
    const login = form.get('login') || '';
    const account = Object.hasOwn(accounts, login) ? accounts[login] : undefined;
    if (!account || account.password !== form.get('password')) {
      send(res, 200, loginPage(uid, { login, error: 'Invalid login', clientId: params.client_id }));
      return;
    }
    // An account's "amr" (e.g. ["pwd", "mfa"]) says how it signed in, as a workforce provider's does.
    const result = { accountId: login, ...(account.amr ? { amr: account.amr } : {}) };
    await provider.interactionFinished(req, res, { login: result }, { mergeWithLastSubmission: false });
    return;
  }
  if (req.method === 'GET' && prompt.name === 'login') {
    send(res, 200, loginPage(uid, { clientId: params.client_id }));
    return;
  }
  if (prompt.name === 'consent') {
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const { details } = prompt;
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true });
    return;
  }
  send(res, 501, page('Not implemented', `<h1>prompt ${escape(prompt.name)} is not implemented</h1>`));
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  if (req.url === '/favicon.ico') {  // browsers ask; a 404 would be a console error in the browser tests
    res.writeHead(204);
    res.end();
    return;
  }
  const match = /^\/interaction\/([\w-]+)\/?(?:\?.*)?$/.exec(req.url);
  if (!match) {
    callback(req, res);
    return;
  }
  try {
    await interaction(req, res, match[1]);
  } catch (error) {
    console.error(`interaction: ${error.stack || error}`);
    if (!res.headersSent) send(res, 400, page('Error', `<h1>${escape(error.name)}</h1><p>${escape(error.message)}</p>`));
    else res.end();
  }
});

// Started by tests/support/idp.py with a pipe as stdin: when that process goes, so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

server.listen(config.port, '127.0.0.1', () => {
  console.log(`ready ${config.issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
