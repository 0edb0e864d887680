// The token explorer: a public OAuth client (`explorer`, no secret) served from the same
// origin as the APIs (the gateway). Plain JavaScript, no library, no build step.
//
// Where things are kept:
//   - the PKCE verifier, the state and the nonce: in sessionStorage, only across the
//     redirect to the sign-in page and back, and removed as soon as the page reads them;
//   - the tokens: in the variables of this closure, nowhere else (never localStorage or
//     sessionStorage, never a cookie): a reload forgets them.
// Every value from a server is put into the page as text (textContent), never as HTML.
'use strict';

(() => {
  const CLIENT_ID = 'explorer';
  // `openid profile`: an ID token for this page, about the user (OpenID Connect); the rest
  // are the access token's, for the APIs.
  const SCOPE = 'openid profile posts:read posts:write users:read';
  const FLOW_KEY = 'explorer.signin';
  const REDIRECT_URI = new URL('/', window.location.href).href;

  /** The tokens: only here. */
  let tokens = null;
  let ticker = null;

  const $ = (id) => document.getElementById(id);

  // --- small helpers ------------------------------------------------------------------

  function base64url(bytes) {
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function fromBase64url(text) {
    const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  function randomString(bytes) {
    return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
  }

  async function sha256(text) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  }

  /** The header and claims of a JWT, decoded (not verified: see verifySignature). */
  function decodeJwt(jwt) {
    const parts = jwt.split('.');
    if (parts.length !== 3) throw new Error('not a JWT (expected three dot-separated parts)');
    const json = (part) => JSON.parse(new TextDecoder().decode(fromBase64url(part)));
    return { header: json(parts[0]), claims: json(parts[1]), parts };
  }

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function say(message) {
    // Cleared first, so the same message twice is announced twice.
    $('status').textContent = '';
    window.setTimeout(() => { $('status').textContent = message; }, 50);
  }

  function problem(message) {
    const box = $('problem');
    box.textContent = message || '';
    box.hidden = !message;
  }

  function when(seconds) {
    return new Date(seconds * 1000).toLocaleString();
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const m = Math.floor(s / 60);
    return m ? `${m} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
  }

  // --- every call, logged -------------------------------------------------------------

  /**
   * fetch() with a request id of our own, logged in the Calls list with what the services
   * did (`explain` gets the response and its JSON body, and returns lines of text).
   */
  async function call(label, url, init, explain) {
    const requestId = `explorer-${randomString(9)}`;
    const headers = new Headers(init.headers || {});
    headers.set('X-Request-Id', requestId);
    const entry = el('li', { class: 'call' });
    entry.append(el('p', { class: 'call-line' }, el('strong', { text: label }), ` ${init.method || 'GET'} ${url}`));
    $('calls').prepend(entry);
    let response;
    try {
      // No cookies (unless asked): these APIs take bearer tokens and form parameters.
      response = await fetch(url, { credentials: 'omit', ...init, headers, cache: 'no-store' });
    } catch (e) {
      entry.append(el('p', { class: 'bad', text: `no answer: ${e.message}` }));
      throw new Error(`${label}: no answer from the server`);
    }
    let body = null;
    const text = await response.text();
    try { body = text ? JSON.parse(text) : null; } catch (_) { body = null; }
    const echoed = response.headers.get('X-Request-Id');
    entry.append(el('p', { class: response.ok ? 'good' : 'bad', text: `${response.status} ${response.statusText}` }));
    const facts = el('ul', { class: 'facts' });
    facts.append(el('li', {},
      'X-Request-Id: ', el('code', { class: 'request-id', text: echoed || '(none)' }),
      echoed === requestId
        ? ' (the id this page sent, kept by the gateway and logged by every service that handled the call)'
        : ' (the gateway replaced the id this page sent)'));
    const lines = response.ok ? explain(response, body) : [
      body && body.error ? `refused: ${body.error}${body.error_description ? `: ${body.error_description}` : ''}` : 'refused',
    ];
    for (const line of lines) facts.append(el('li', { text: line }));
    entry.append(facts);
    return { response, body, text };
  }

  function failure(label, result) {
    const b = result.body;
    const why = b && (b.error_description || b.error) ? (b.error_description || b.error) : `HTTP ${result.response.status}`;
    return new Error(`${label} failed: ${why}`);
  }

  // --- signing in -----------------------------------------------------------------------

  async function signIn() {
    const verifier = randomString(32); // 43 characters, RFC 7636 §4.1
    const state = randomString(16);
    const nonce = randomString(16); // comes back inside the ID token: it was made for this sign-in
    const challenge = base64url(await sha256(verifier));
    sessionStorage.setItem(FLOW_KEY, JSON.stringify({ verifier, state, nonce }));
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    window.location.assign(`/oauth/authorize?${query}`);
  }

  /** Back from the sign-in page: ?code=…&state=… or ?error=…&state=… */
  async function handleCallback() {
    const params = new URLSearchParams(window.location.search);
    if (!params.has('code') && !params.has('error') && !params.has('state')) return;
    // Read once and forget: neither the verifier nor the state outlives this moment, and
    // the code leaves the address bar (and the history) before anything else happens.
    const saved = sessionStorage.getItem(FLOW_KEY);
    sessionStorage.removeItem(FLOW_KEY);
    window.history.replaceState(null, '', REDIRECT_URI);
    let flow = null;
    try { flow = saved ? JSON.parse(saved) : null; } catch (_) { flow = null; }
    if (!flow || !flow.state || params.get('state') !== flow.state) {
      problem('The sign-in response was refused: its state does not match a sign-in started from this page '
        + '(a forged or replayed response, or one from another tab). Nothing was exchanged; sign in again.');
      return;
    }
    // Mix-up defence (RFC 9207): the response names the server that sent it, which must be
    // the one this page trusts, as its discovery document names it.
    const discovered = await call('Discovery', '/.well-known/openid-configuration', { method: 'GET' }, (_, body) => [
      `the issuer is ${body.issuer}; the sign-in response says it came from ${params.get('iss') || '(nobody)'}`,
    ]);
    if (!discovered.response.ok) throw failure('Loading the discovery document', discovered);
    if (params.get('iss') !== discovered.body.issuer) {
      problem(`The sign-in response was refused: it names the issuer ${params.get('iss') || '(none)'}, `
        + `not ${discovered.body.issuer} (RFC 9207: a response from another server). Nothing was exchanged.`);
      return;
    }
    if (params.has('error')) {
      problem(`Sign-in did not complete: ${params.get('error_description') || params.get('error')}`);
      return;
    }
    say('Signed in; exchanging the code for tokens…');
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code'),
      redirect_uri: REDIRECT_URI,
      client_id: CLIENT_ID,
      code_verifier: flow.verifier,
    });
    const result = await call('Code for tokens', '/oauth/token', { method: 'POST', body: form }, (_, body) => [
      'users-service checked the code: single use, at most 60 s old, issued to this client for this redirect URI, '
        + 'and the SHA-256 of the code_verifier sent now equals the code_challenge sent before sign-in (PKCE)',
      `it signed an access token (${body.expires_in} s) and issued a refresh token; this page keeps both in memory only`,
      body.id_token ? 'and, for the scope openid, an ID token: who signed in, for this page (OpenID Connect)' : 'no ID token',
    ]);
    if (!result.response.ok) throw failure('Exchanging the code', result);
    await useTokens(result.body, 'signed in', flow.nonce);
  }

  // --- the token --------------------------------------------------------------------------

  async function useTokens(body, how, nonce) {
    const before = tokens;
    tokens = {
      access: body.access_token,
      refresh: body.refresh_token || (before && before.refresh),
      scope: body.scope,
      // A refresh brings no new ID token: the one from sign-in stays (it names the user
      // at sign-out).
      id: body.id_token ? { jwt: body.id_token, nonce, access: body.access_token } : before && before.id,
    };
    signedIn(true);
    problem('');
    showToken();
    await showKeys();
    say(`${how}: access token ${tokens.scope ? `for ${tokens.scope}` : ''} shown below`);
  }

  const MEANINGS = {
    iss: 'issuer: who signed it (users-service, by its public URL)',
    sub: 'subject: the user, by id',
    aud: 'audience: the services that may accept it',
    exp: 'expires: refused after this time',
    iat: 'issued at',
    nbf: 'not valid before',
    jti: 'token id: unique per token',
    client_id: 'the client it was issued to: this page',
    scope: 'what it allows',
    username: "the user's name, so posts-service can name the author without asking",
    auth_time: 'when the user signed in',
  };
  const TIMES = new Set(['exp', 'iat', 'nbf', 'auth_time']);

  /** A JWT's claims as table rows: name, value (times also as dates), what it means. */
  function showClaims(rows, claims, meanings) {
    rows.replaceChildren();
    for (const [name, value] of Object.entries(claims)) {
      let shown = typeof value === 'string' ? value : JSON.stringify(value);
      if (TIMES.has(name) && typeof value === 'number') shown = `${value} (${when(value)})`;
      rows.append(el('tr', {},
        el('th', { scope: 'row' }, el('code', { text: name })),
        el('td', {}, el('code', { text: shown })),
        el('td', { text: meanings[name] || '' })));
    }
  }

  function showToken() {
    const { header, claims, parts } = decodeJwt(tokens.access);
    tokens.decoded = { header, claims, parts };
    $('token-header').textContent = JSON.stringify(header, null, 2);
    showClaims($('claims'), claims, MEANINGS);
    $('raw-token').replaceChildren(
      el('span', { class: 'seg-header', text: parts[0] }), '.',
      el('span', { class: 'seg-claims', text: parts[1] }), '.',
      el('span', { class: 'seg-signature', text: parts[2] }));
    $('refresh-note').textContent = tokens.refresh
      ? 'A refresh token (opaque, not a JWT) is held in memory too; "Refresh the token" spends it for a new pair.'
      : '';
    window.clearInterval(ticker);
    tick();
    ticker = window.setInterval(tick, 1000);
  }

  function tick() {
    if (!tokens || !tokens.decoded) return;
    const { exp, iat } = tokens.decoded.claims;
    const left = exp - Date.now() / 1000;
    const total = Math.max(1, exp - iat);
    $('lifetime').textContent = left > 0 ? `${duration(left)} left` : 'expired: refresh the token';
    $('lifetime').classList.toggle('expired', left <= 0);
    $('lifetime-bar').value = Math.max(0, Math.min(1, left / total));
    $('lifetime-detail').textContent = `${duration(total)} in all, until ${when(exp)}`;
  }

  /** The JWKS, fetched (and logged) once per new token. */
  async function publishedKeys() {
    const result = await call('Public keys', '/.well-known/jwks.json', { method: 'GET' }, (response, body) => [
      `users-service published ${body.keys.length} key(s); caching: ${response.headers.get('Cache-Control') || 'none said'}`,
      'posts-service keeps a copy of these keys and verifies every token itself with them',
    ]);
    return result.response.ok ? (result.body.keys || []) : null;
  }

  /** Which of `keys` signed the JWT `decoded`, and whether its signature checks out here. */
  async function signer(keys, decoded) {
    const { header, parts } = decoded;
    const index = keys.findIndex((k) => k.kid === header.kid);
    if (index < 0) return { index, verified: false };
    const jwk = keys[index];
    let verified = false;
    try {
      const key = await crypto.subtle.importKey('jwk', { kty: jwk.kty, n: jwk.n, e: jwk.e, alg: 'RS256', ext: true },
        { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
      verified = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, fromBase64url(parts[2]),
        new TextEncoder().encode(`${parts[0]}.${parts[1]}`));
    } catch (_) {
      verified = false;
    }
    return { index, jwk, verified };
  }

  async function showKeys() {
    const box = $('key');
    box.replaceChildren(el('p', { text: 'looking the key up…' }));
    const keys = await publishedKeys();
    if (!keys) {
      box.replaceChildren(el('p', { class: 'bad', text: 'the JWKS could not be loaded' }));
      return;
    }
    const { header } = tokens.decoded;
    const found = await signer(keys, tokens.decoded);
    if (found.index < 0) {
      box.replaceChildren(el('p', { class: 'bad', text: `no published key has kid ${header.kid}` }));
    } else {
      box.replaceChildren(
        el('p', {}, 'kid ', el('code', { id: 'kid', text: found.jwk.kid })),
        el('p', { text: `${found.jwk.kty} ${found.jwk.alg || header.alg}, key ${found.index + 1} of ${keys.length} in /.well-known/jwks.json` }),
        el('p', { id: 'signature', class: found.verified ? 'good' : 'bad',
          text: found.verified ? 'signature verified in this browser with that public key'
            : 'the signature does NOT verify with that key' }));
    }
    await showIdToken(keys);
  }

  const ID_MEANINGS = {
    iss: 'issuer: users-service, as for the access token',
    sub: 'subject: the user, by id (the same as the access token\'s)',
    aud: 'audience: this page (the client id): the ID token is for the app, never for an API',
    azp: 'authorized party: the client it was issued to',
    exp: 'expires: the app should not take it as fresh sign-in proof after this',
    iat: 'issued at',
    auth_time: 'when you typed your password (a session cookie may spare it later)',
    nonce: 'the random value this page sent with the sign-in request, echoed',
    at_hash: 'the left half of the SHA-256 of the access token issued with it',
    preferred_username: 'your username (scope profile)',
  };

  /** The ID token: its claims and the checks an OpenID Connect client makes on it. */
  async function showIdToken(keys) {
    const area = $('id-token-area');
    area.hidden = !tokens.id;
    if (!tokens.id) return;
    const decoded = decodeJwt(tokens.id.jwt);
    const { claims } = decoded;
    const found = await signer(keys, decoded);
    const atHash = base64url((await sha256(tokens.id.access)).slice(0, 16));
    const checks = [
      [found.verified, `signature: verified with the published key ${decoded.header.kid}, as the access token's`],
      [claims.aud === CLIENT_ID, `aud is ${JSON.stringify(claims.aud)}: this page's client id`],
      [claims.nonce === tokens.id.nonce, 'nonce equals the one this page sent: this token answers this sign-in, not a replayed one'],
      [claims.at_hash === atHash, 'at_hash matches the access token received with it'],
    ];
    $('id-checks').replaceChildren(...checks.map(([ok, text]) => el('li', { class: ok ? 'good' : 'bad', text: `${ok ? '✓' : '✗'} ${text}` })));
    showClaims($('id-claims'), claims, ID_MEANINGS);
  }

  async function refresh() {
    const old = tokens.decoded.claims.jti;
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh, client_id: CLIENT_ID });
    const result = await call('Refresh', '/oauth/token', { method: 'POST', body: form }, () => [
      'users-service rotated the refresh token: the one sent is spent (sending it again would revoke the whole family)',
      'and signed a new access token; the old access token stays valid until its own exp',
    ]);
    if (!result.response.ok) throw failure('Refreshing', result);
    await useTokens(result.body, 'token refreshed');
    say(`token refreshed: new jti ${tokens.decoded.claims.jti} (was ${old})`);
  }

  async function signOut() {
    const refreshToken = tokens && tokens.refresh;
    const idToken = tokens && tokens.id && tokens.id.jwt;
    forget();
    if (refreshToken) {
      const form = new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token', client_id: CLIENT_ID });
      const result = await call('Revoke', '/oauth/revoke', { method: 'POST', body: form }, () => [
        'users-service revoked the refresh token and every token rotated from the same sign-in (RFC 7009)',
        'the access token just forgotten would still verify until its exp: that is the price of local verification',
      ]);
      if (!result.response.ok) throw failure('Revoking the refresh token', result);
    }
    // The sign-in session at users-service (its HttpOnly cookie, which this page cannot
    // read): ended too, so the next sign-in asks for the password again. The ID token is
    // the proof that this page is asking for its own user (OpenID Connect RP-Initiated
    // Logout); without it, users-service would ask the user first.
    const form = new URLSearchParams({ client_id: CLIENT_ID });
    if (idToken) form.set('id_token_hint', idToken);
    const result = await call('End the sign-in session', '/oauth/logout', {
      method: 'POST', body: form, credentials: 'same-origin',
    }, () => [
      'users-service checked the id_token_hint (its own signature, issued to this page, for the user signed in)',
      'and ended the sign-in session of this browser and cleared its cookie',
    ]);
    if (!result.response.ok) throw failure('Ending the sign-in session', result);
    if (!result.text.includes('You are signed out')) {
      // No valid hint for the user signed in there (another user signed in since, in
      // another tab): users-service asks the user itself, on its own page.
      problem('users-service did not end its sign-in session without asking you: '
        + 'open /oauth/logout in this browser to confirm there.');
      return;
    }
    say('signed out: tokens forgotten, refresh token revoked, sign-in session ended');
  }

  function signedIn(yes) {
    $('signed-out').hidden = yes;
    $('signed-in').hidden = !yes;
    $('posts-area').hidden = !yes;
  }

  function forget() {
    tokens = null;
    window.clearInterval(ticker);
    signedIn(false);
    $('posts').replaceChildren();
    $('id-token-area').hidden = true;
    $('signin').focus();
  }

  // --- posts --------------------------------------------------------------------------

  function calls(response) {
    const n = response.headers.get('X-Users-Service-Calls');
    return n === null ? null : Number(n);
  }

  function lookupLine(response, what) {
    const n = calls(response);
    if (n === null) return 'posts-service did not say how many calls it made to users-service';
    if (n === 0) return `posts-service made no call to users-service: ${what}`;
    return `posts-service made ${n} call${n > 1 ? 's' : ''} to users-service (GET /users?ids=…, every author at once), `
      + 'carrying your same access token and this request id: users-service verified the token again itself';
  }

  function postItem(post) {
    const who = post.author ? post.author.username : `user ${post.user_id} (author unavailable)`;
    return el('li', { class: 'post' },
      el('h3', { text: post.title }),
      el('p', { class: 'byline' }, 'by ', el('span', { class: 'author', text: who })),
      el('p', { class: 'content', text: post.content }));
  }

  async function loadPosts() {
    const result = await call('List posts', '/posts?limit=10', {
      method: 'GET', headers: { Authorization: `Bearer ${tokens.access}` },
    }, (response, body) => [
      "posts-service verified the token locally: signature (with its cached copy of users-service's keys), "
        + 'issuer, audience, expiry and the scope posts:read; no call to users-service for that',
      lookupLine(response, 'no posts, so no authors to look up'),
      body.degraded ? 'users-service did not answer in time: the authors are missing (degraded)' : `${body.posts.length} post(s) with their authors`,
    ]);
    if (!result.response.ok) throw failure('Loading posts', result);
    const list = $('posts');
    list.replaceChildren(...result.body.posts.map(postItem));
    if (!result.body.posts.length) list.append(el('li', { class: 'empty', text: 'No posts yet: write the first.' }));
    say(`${result.body.posts.length} post(s) loaded`);
  }

  async function createPost() {
    const title = $('post-title').value;
    const content = $('post-content').value;
    const result = await call('Create a post', '/posts', {
      method: 'POST',
      headers: { Authorization: `Bearer ${tokens.access}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ title, content }),
    }, (response) => [
      'posts-service verified the token locally and checked the scope posts:write',
      lookupLine(response, "the author's id and name come from the token itself (sub, username)"),
    ]);
    if (!result.response.ok) throw failure('Publishing', result);
    $('new-post').reset();
    const list = $('posts');
    const empty = list.querySelector('.empty');
    if (empty) empty.remove();
    list.prepend(postItem(result.body));
    say(`published "${result.body.title}"`);
  }

  // --- registering ----------------------------------------------------------------------

  async function register() {
    const username = $('reg-username').value;
    const result = await call('Create an account', '/users', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, email: $('reg-email').value, password: $('reg-password').value }),
    }, (_, body) => [
      `users-service hashed the password with Argon2 and stored user ${body.id}, ${body.username}; no token is issued here:`
        + ' signing in is the authorization endpoint\'s job',
    ]);
    if (!result.response.ok) throw failure('Creating the account', result);
    $('register').reset();
    say(`account ${result.body.username} created: now sign in with it`);
    $('signin').focus();
  }

  // --- wiring -------------------------------------------------------------------------

  /**
   * Runs an action from a button or form, one at a time, showing its failure instead of
   * throwing it away. Buttons stay enabled (focus stays where it is); a second press
   * while one runs is ignored.
   */
  let busy = false;
  function action(fn) {
    return async (event) => {
      if (event && event.type === 'submit') event.preventDefault();
      if (busy) return;
      busy = true;
      $('main').setAttribute('aria-busy', 'true');
      try {
        problem('');
        await fn(event);
      } catch (e) {
        problem(e.message);
      } finally {
        busy = false;
        $('main').removeAttribute('aria-busy');
      }
    };
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('signin').addEventListener('click', action(signIn));
    $('refresh').addEventListener('click', action(refresh));
    $('signout').addEventListener('click', action(signOut));
    $('load-posts').addEventListener('click', action(loadPosts));
    $('new-post').addEventListener('submit', action(createPost));
    $('register').addEventListener('submit', action(register));
    action(handleCallback)();
  });
})();
