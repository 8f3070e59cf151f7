/*
 * tokend console: a static page over tokend's own API, same origin.
 * Safe by construction: every value from the API reaches the page through
 * textContent, an attribute or an input's value, never innerHTML; the
 * credential lives in sessionStorage only (never a URL, cookie or
 * localStorage); the console offers what GET /v1/whoami says the
 * credential may do, and the API still decides every call.
 */
'use strict';
(function () {
  const KEY = 'tokend.credential';
  const S = { cred: null, me: null, spaces: [], space: null, tokens: [], tab: 'tokens',
              editing: null, names: {} };

  const $ = (id) => document.getElementById(id);

  /* el('tr', {class: 'x'}, child, 'text', ...): children are nodes or text */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function may(what) { return !!(S.me && S.me.may && S.me.may[what]); }

  /* ---- talking to tokend ------------------------------------------------ */

  class ApiError extends Error {
    constructor(status, message, fields) {
      super(message);
      this.status = status;
      this.fields = fields;	/* {field: [messages]} from a 422, else null */
    }
  }

  /* The message of an error body, in any of tokend's dialects; never the
   * request's values (tokend's messages name fields and rules only). */
  function errorMessage(status, data) {
    if (data && typeof data.error === 'string') return data.error;
    if (Array.isArray(data) && typeof data[0] === 'string') return data[0];
    if (data && Array.isArray(data.data) && data.data[0] && data.data[0].attributes)
      return String(data.data[0].attributes.code);
    if (status === 0) return 'tokend could not be reached';
    return 'request failed';
  }

  async function api(method, path, body, headers) {
    const h = Object.assign({ Authorization: 'Bearer ' + S.cred, Accept: 'application/json' },
                            headers || {});
    if (body !== undefined) h['Content-Type'] = 'application/json';
    let r;
    try {
      r = await fetch(path, { method, headers: h, cache: 'no-store', credentials: 'omit',
                              redirect: 'error', referrerPolicy: 'no-referrer',
                              body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, 'tokend could not be reached', null);
    }
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      let fields = null;
      /* Storyblok's and tokend's 422: {"field": ["message"]} */
      if (r.status === 422 && data && typeof data === 'object' && !Array.isArray(data)) {
        fields = {};
        for (const [k, v] of Object.entries(data))
          if (Array.isArray(v)) fields[k] = v.map(String);
        if (typeof data.field === 'string' && typeof data.error === 'string')
          fields[data.field] = [data.error];
      }
      throw new ApiError(r.status, errorMessage(r.status, data), fields);
    }
    return data;
  }

  /* ---- page state: status line, errors, progress ------------------------ */

  function status(text) { $('status').textContent = text || ''; }

  function showError(e) {
    const box = $('error');
    if (!e) { box.hidden = true; box.textContent = ''; return; }
    const code = e.status ? ' (' + e.status + ')' : '';
    box.textContent = (e.status === 401 ? 'Your credential was refused: sign in again'
                       : e.status === 403 ? 'Not allowed for this credential: ' + e.message
                       : e.message) + code;
    box.hidden = false;
    if (e.status === 401 && S.me) signOut(true);
  }

  function loading(container, what) {
    container.replaceChildren(el('p', { class: 'loading' },
      el('progress', { 'aria-label': 'Loading ' + what }), ' Loading ' + what + '…'));
    container.setAttribute('aria-busy', 'true');
  }

  function done(container, ...nodes) {
    container.replaceChildren(...nodes);
    container.removeAttribute('aria-busy');
  }

  function empty(text) { return el('p', { class: 'empty' }, text); }

  function when(iso) {
    if (!iso) return 'never';
    return String(iso).replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
  }

  /* a table: columns [{label, cell(row) -> node|text}] */
  function table(caption, columns, rows) {
    return el('table', {},
      el('caption', { class: 'sr' }, caption),
      el('thead', {}, el('tr', {}, ...columns.map((c) => el('th', { scope: 'col' }, c.label)))),
      el('tbody', {}, ...rows.map((r) => el('tr', {},
        ...columns.map((c) => el('td', { 'data-label': c.label }, c.cell(r)))))));
  }

  /* ---- form helpers ----------------------------------------------------- */

  function clearErrors(form) {
    for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
    for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
  }

  /* the API's 422 fields, each beside its input (prefix: "err-tf-") */
  function fieldErrors(form, prefix, e) {
    let shown = false;
    if (e.fields) {
      for (const [field, msgs] of Object.entries(e.fields)) {
        const p = $(prefix + field);
        if (!p) continue;
        p.textContent = field + ' ' + msgs.join(', ');
        const input = form.querySelector('[aria-describedby~="' + p.id + '"]');
        if (input) input.setAttribute('aria-invalid', 'true');
        if (!shown && input) input.focus();
        shown = true;
      }
      if (!shown) {
        $(prefix + 'other').textContent = Object.entries(e.fields)
          .map(([f, m]) => f + ' ' + m.join(', ')).join('; ');
        shown = true;
      }
    }
    if (!shown) showError(e);
  }

  function list(text) {
    return String(text).split(/[\s,]+/).filter((s) => s !== '');
  }
  /* ids as numbers where they are plain integers; anything else is sent as
   * typed, and the API's 422 says what is wrong */
  function ids(text) {
    return list(text).map((s) => (/^\d{1,15}$/.test(s) ? Number(s) : s));
  }
  function intOrNull(text) {
    const t = String(text).trim();
    if (t === '') return null;
    return /^-?\d{1,15}$/.test(t) ? Number(t) : t;
  }
  function utc(local) { return local ? local + (local.length === 16 ? ':00' : '') + 'Z' : null; }
  function local(iso) { return iso ? String(iso).slice(0, 16) : ''; }

  /* ---- the value shown once --------------------------------------------- */

  function reveal(label, value, note) {
    $('reveal-label').textContent = label;
    $('reveal-value').value = value;
    $('reveal-note').textContent = note || '';
    $('reveal').hidden = false;
    $('reveal').focus();
  }
  function hideReveal() {
    $('reveal-value').value = '';
    $('reveal').hidden = true;
  }
  async function copyReveal() {
    const input = $('reveal-value');
    try {
      await navigator.clipboard.writeText(input.value);
    } catch (e) {
      input.select();
      document.execCommand('copy');
    }
    status('Copied to the clipboard.');
  }

  /* ---- confirmation ----------------------------------------------------- */

  function confirmAction(title, text, okLabel, grace) {
    const d = $('confirm');
    $('confirm-h').textContent = title;
    $('confirm-text').textContent = text;
    $('confirm-ok').textContent = okLabel;
    $('confirm-grace-field').hidden = !grace;
    $('confirm-grace').value = '0';
    d.returnValue = 'cancel';
    return new Promise((resolve) => {
      d.addEventListener('close', () => resolve(d.returnValue === 'ok'
        ? { grace: $('confirm-grace').value } : null), { once: true });
      d.showModal();
      $('confirm-cancel').focus();
    });
  }

  /* ---- sign in, sign out ------------------------------------------------ */

  async function signIn(cred) {
    S.cred = cred;
    status('Signing in…');
    try {
      S.me = await api('GET', '/v1/whoami');
    } catch (e) {
      S.cred = null;
      S.me = null;
      sessionStorage.removeItem(KEY);
      status('');
      showError(e.status === 401 ? new ApiError(401, 'That credential was refused', null) : e);
      return false;
    }
    sessionStorage.setItem(KEY, cred);
    showError(null);
    status('Signed in.');
    renderWho();
    $('signin-view').hidden = true;
    $('app-view').hidden = false;
    $('signout').hidden = false;
    $('nav-pats').hidden = !may('pats.list') && !may('pats.create');
    $('nav-account').hidden = !may('activities');
    showSpaces();
    return true;
  }

  function signOut(refused) {
    sessionStorage.removeItem(KEY);
    Object.assign(S, { cred: null, me: null, spaces: [], space: null, tokens: [], editing: null,
                       names: {} });
    hideReveal();
    for (const id of ['spaces-list', 'tokens-list', 'activity-list', 'roles-list', 'pats-list',
                      'account-list'])
      $(id).replaceChildren();
    $('who').hidden = true;
    $('who').textContent = '';
    $('signout').hidden = true;
    $('app-view').hidden = true;
    $('signin-view').hidden = false;
    if (!refused) { showError(null); status('Signed out.'); }
    $('signin-credential').focus();
  }

  function renderWho() {
    const m = S.me;
    const kind = m.kind === 'personal_access_token' ? 'Personal access token' : 'Space token';
    const spaces = m.spaces === 'all' ? 'all spaces' : 'space ' + m.spaces.join(', ');
    const scopes = Object.entries(m.scopes).map(([k, v]) => k + ':' + v).join(' ') || 'no scope';
    $('who').textContent = kind + ' #' + m.id + ' · ' + spaces + ' · ' + scopes +
      (m.full_permission ? ' · full permission' : '') +
      (m.role ? ' · role ' + m.role : '') + (m.expires_at ? ' · expires ' + when(m.expires_at) : '');
    $('who').hidden = false;
  }

  /* ---- views ------------------------------------------------------------ */

  function show(view) {
    for (const v of ['spaces', 'space', 'pats', 'account'])
      $(v + '-view').hidden = v !== view;
    for (const b of document.querySelectorAll('nav.tabs button[data-view]'))
      b.setAttribute('aria-current', b.dataset.view === view ||
                     (view === 'space' && b.dataset.view === 'spaces') ? 'page' : 'false');
  }

  async function showSpaces() {
    show('spaces');
    showError(null);
    $('space-create-form').hidden = !may('spaces.create');
    const box = $('spaces-list');
    if (!may('spaces.list')) {
      /* a credential that may not list spaces still reaches its own */
      const mine = Array.isArray(S.me.spaces) ? S.me.spaces : [];
      $('space-open-form').hidden = S.me.spaces !== 'all';
      done(box, mine.length ? table('Your spaces', [
        { label: 'Id', cell: (id) => String(id) },
        { label: '', cell: (id) => el('button', { type: 'button',
            onclick: () => openSpace({ id, name: String(id) }) }, 'Open space ' + id) },
      ], mine) : empty('This credential lists no spaces: open one by its id.'));
      return;
    }
    $('space-open-form').hidden = true;
    loading(box, 'spaces');
    try {
      S.spaces = (await api('GET', '/v1/spaces')).spaces;
    } catch (e) {
      done(box);
      showError(e);
      return;
    }
    renderSpaces();
  }

  function renderSpaces() {
    const box = $('spaces-list');
    if (S.spaces.length === 0) {
      done(box, empty(may('spaces.create') ? 'No spaces yet: create the first one below.'
                                           : 'No spaces yet.'));
      return;
    }
    done(box, table('Spaces', [
      { label: 'Id', cell: (s) => String(s.id) },
      { label: 'Name', cell: (s) => s.name },
      { label: 'Default min_cache', cell: (s) => may('spaces.update') ? minCacheEditor(s)
                                                  : String(s.min_cache) + ' s' },
      { label: 'Actions', cell: (s) => el('button', { type: 'button', class: 'open-space',
          'aria-label': 'Open space ' + s.name, onclick: () => openSpace(s) }, 'Open') },
    ], S.spaces));
  }

  function minCacheEditor(s) {
    const id = 'mc-' + s.id;
    const input = el('input', { id, inputmode: 'numeric', class: 'short', value: s.min_cache,
                                'aria-describedby': 'err-' + id });
    const err = el('span', { class: 'field-error', id: 'err-' + id });
    const f = el('form', { class: 'inline', novalidate: true },
      el('label', { for: id, class: 'sr' }, 'Default min_cache of ' + s.name + ' in seconds'),
      input, el('button', { type: 'submit' }, 'Save'), err);
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.textContent = '';
      try {
        const r = await api('PUT', '/v1/spaces/' + s.id,
                            { space: { min_cache: intOrNull(input.value) } });
        s.min_cache = r.space.min_cache;
        status('Saved min_cache of ' + s.name + ': ' + s.min_cache + ' s.');
      } catch (e) {
        if (e.fields) err.textContent = Object.entries(e.fields)
          .map(([k, m]) => k + ' ' + m.join(', ')).join('; ');
        else showError(e);
      }
    });
    return f;
  }

  async function createSpace(ev) {
    ev.preventDefault();
    const f = $('space-create-form');
    clearErrors(f);
    const space = { name: $('space-name').value };
    if ($('space-id').value.trim() !== '') space.id = intOrNull($('space-id').value);
    if ($('space-min-cache').value.trim() !== '') space.min_cache = intOrNull($('space-min-cache').value);
    try {
      const r = await api('POST', '/v1/spaces', { space });
      f.reset();
      status('Created space ' + r.space.name + '.');
      S.spaces.push(r.space);
      renderSpaces();
    } catch (e) {
      fieldErrors(f, 'err-space-', e);
    }
  }

  /* ---- one space: tokens, activity, roles -------------------------------- */

  function openSpace(s) {
    S.space = s;
    S.tokens = [];
    show('space');
    showError(null);
    $('space-h').textContent = s.name === String(s.id) ? 'Space ' + s.id
                                                       : 'Space ' + s.name + ' (' + s.id + ')';
    $('tab-activity').hidden = !may('spaces.activities');
    $('tab-roles').hidden = !may('roles.list');
    $('token-new').hidden = !may('tokens.create');
    $('token-form').hidden = true;
    $('token-search').value = '';
    tab('tokens');
    $('space-h').setAttribute('tabindex', '-1');
    $('space-h').focus();
  }

  function tab(which) {
    S.tab = which;
    for (const t of ['tokens', 'activity', 'roles']) {
      $(t + '-panel').hidden = t !== which;
      $('tab-' + t).setAttribute('aria-current', t === which ? 'page' : 'false');
    }
    if (which === 'tokens') loadTokens();
    else if (which === 'activity') loadActivity();
    else loadRoles();
  }

  async function loadTokens() {
    const box = $('tokens-list');
    if (!may('tokens.list')) { done(box, empty('This credential may not list tokens.')); return; }
    loading(box, 'tokens');
    try {
      S.tokens = (await api('GET', '/v1/spaces/' + S.space.id + '/api_keys')).api_keys;
    } catch (e) {
      done(box);
      showError(e);
      return;
    }
    renderTokens();
  }

  function restrictions(t) {
    const out = [];
    if (t.story_ids && t.story_ids.length) out.push('stories ' + t.story_ids.join(', '));
    if (t.release_ids && t.release_ids.length) out.push('releases ' + t.release_ids.join(', '));
    if (t.branch_id !== null && t.branch_id !== undefined) out.push('branch ' + t.branch_id);
    if (t.allowed_cidrs && t.allowed_cidrs.length) out.push('from ' + t.allowed_cidrs.join(', '));
    if (t.max_uses !== null && t.max_uses !== undefined)
      out.push(t.remaining_uses + ' of ' + t.max_uses + ' uses left');
    return out.length ? out.join('; ') : 'none';
  }

  function tokenMatches(t, q) {
    if (!q) return true;
    const hay = [t.id, t.name, t.description, t.access, t.status].join(' ').toLowerCase();
    return hay.includes(q.toLowerCase());
  }

  function renderTokens() {
    const box = $('tokens-list');
    const q = $('token-search').value.trim();
    const key = $('token-sort').value;
    const dir = Number($('token-order').value);
    const rows = S.tokens.filter((t) => tokenMatches(t, q)).sort((a, b) => {
      let x = a[key], y = b[key];
      if (x === null || x === undefined) x = '';
      if (y === null || y === undefined) y = '';
      if (typeof x === 'string') { x = x.toLowerCase(); y = String(y).toLowerCase(); }
      return (x < y ? -1 : x > y ? 1 : a.id - b.id) * dir;
    });
    if (S.tokens.length === 0) {
      done(box, empty(may('tokens.create')
        ? 'This space has no tokens yet. Create one with “New token”.'
        : 'This space has no tokens yet.'));
      return;
    }
    if (rows.length === 0) { done(box, empty('No token matches “' + q + '”.')); return; }
    done(box, table('Tokens of space ' + S.space.name, [
      { label: 'Name', cell: (t) => el('span', { class: 'token-name' }, t.name === null ? '(no name)' : t.name) },
      { label: 'Id', cell: (t) => String(t.id) },
      { label: 'Access', cell: (t) => t.access },
      { label: 'Status', cell: (t) => el('span', { class: 'badge ' + t.status }, t.status) },
      { label: 'Expires', cell: (t) => when(t.expires_at) },
      { label: 'Last use', cell: (t) => when(t.last_used_at) },
      { label: 'min_cache', cell: (t) => t.min_cache + ' s' },
      { label: 'Restrictions', cell: (t) => restrictions(t) },
      { label: 'Actions', cell: tokenActions },
    ], rows));
  }

  function tokenLabel(t) { return (t.name === null ? '(no name)' : '“' + t.name + '”') + ' (id ' + t.id + ')'; }

  function tokenActions(t) {
    const b = (label, what, fn) => el('button', { type: 'button', 'data-action': what,
      'aria-label': label + ' ' + tokenLabel(t), onclick: () => fn(t) }, label);
    const acts = [];
    if (may('tokens.update')) acts.push(b('Edit', 'edit', editToken));
    if (may('tokens.regenerate')) acts.push(b('Regenerate', 'regenerate', regenerateToken));
    if (may('tokens.status'))
      acts.push(t.status === 'active' ? b('Disable', 'disable', (x) => setStatus(x, 'disabled'))
                                      : b('Enable', 'enable', (x) => setStatus(x, 'active')));
    if (may('tokens.delete')) acts.push(b('Delete', 'delete', deleteToken));
    return acts.length ? el('div', { class: 'actions' }, ...acts) : '—';
  }

  function tokenForm(t) {
    const f = $('token-form');
    S.editing = t;
    f.reset();
    clearErrors(f);
    $('token-form-h').textContent = t ? 'Edit token ' + tokenLabel(t) : 'New token';
    $('tf-submit').textContent = t ? 'Save changes' : 'Create token';
    $('tf-access').disabled = !!t;	/* the value's prefix tells its access: fixed */
    if (t) {
      $('tf-name').value = t.name === null ? '' : t.name;
      $('tf-access').value = t.access;
      $('tf-description').value = t.description || '';
      $('tf-status').value = t.status;
      $('tf-expires').value = local(t.expires_at);
      $('tf-min-cache').value = String(t.min_cache);
      $('tf-max-uses').value = t.max_uses === null ? '' : String(t.max_uses);
      $('tf-story-ids').value = (t.story_ids || []).join(', ');
      $('tf-release-ids').value = (t.release_ids || []).join(', ');
      $('tf-branch-id').value = t.branch_id === null ? '' : String(t.branch_id);
      $('tf-cidrs').value = (t.allowed_cidrs || []).join(', ');
    }
    f.hidden = false;
    $('tf-name').focus();
  }

  function editToken(t) { tokenForm(t); }

  /* the form as an api_key: on create the fields given; on edit the fields
   * that changed (a max_uses sent again would start its count again) */
  function tokenBody(t) {
    const v = {
      name: $('tf-name').value === '' ? null : $('tf-name').value,
      description: $('tf-description').value,
      status: $('tf-status').value,
      expires_at: utc($('tf-expires').value),
      min_cache: intOrNull($('tf-min-cache').value),
      max_uses: intOrNull($('tf-max-uses').value),
      story_ids: ids($('tf-story-ids').value),
      release_ids: ids($('tf-release-ids').value),
      branch_id: intOrNull($('tf-branch-id').value),
      allowed_cidrs: list($('tf-cidrs').value),
    };
    const out = {};
    if (!t) {
      out.access = $('tf-access').value;
      for (const [k, x] of Object.entries(v)) {
        if (x === null || x === '' || (Array.isArray(x) && x.length === 0)) continue;
        if (k === 'status' && x === 'active') continue;
        out[k] = x;
      }
      return out;
    }
    for (const [k, x] of Object.entries(v)) {
      const was = k === 'expires_at' ? local(t[k]) : t[k];
      const now = k === 'expires_at' ? local(x) : x;
      if (JSON.stringify(was === undefined ? null : was) !== JSON.stringify(now)) out[k] = x;
    }
    return out;
  }

  async function submitToken(ev) {
    ev.preventDefault();
    const f = $('token-form');
    clearErrors(f);
    const t = S.editing;
    const body = tokenBody(t);
    try {
      if (t) {
        if (Object.keys(body).length === 0) { f.hidden = true; status('Nothing changed.'); return; }
        await api('PUT', '/v1/spaces/' + S.space.id + '/api_keys/' + t.id, { api_key: body });
        status('Saved token ' + tokenLabel(t) + '.');
      } else {
        const r = await api('POST', '/v1/spaces/' + S.space.id + '/api_keys', { api_key: body });
        const k = r.api_key;
        status('Created token ' + tokenLabel(k) + '.');
        if (k.token) reveal('Token ' + tokenLabel(k), k.token, '');
      }
      f.hidden = true;
      S.editing = null;
      await loadTokens();
    } catch (e) {
      fieldErrors(f, 'err-tf-', e);
    }
  }

  async function regenerateToken(t) {
    const ok = await confirmAction('Regenerate ' + tokenLabel(t) + '?',
      'A new value replaces the one of the token ' + tokenLabel(t) +
      '. Without a grace period the old value is refused at once.', 'Regenerate', true);
    if (!ok) return;
    const grace = intOrNull(ok.grace);
    try {
      const r = await api('POST', '/v1/spaces/' + S.space.id + '/api_keys/' + t.id + '/regenerate',
                          grace ? { grace_seconds: grace } : undefined);
      const k = r.api_key;
      reveal('New value of ' + tokenLabel(k), k.token || '', k.previous_expires_at
        ? 'The old value works until ' + when(k.previous_expires_at) + '.'
        : 'The old value is refused from now on.');
      await loadTokens();
    } catch (e) { showError(e); }
  }

  async function setStatus(t, to) {
    try {
      await api('PUT', '/v1/spaces/' + S.space.id + '/api_keys/' + t.id, { api_key: { status: to } });
      status((to === 'active' ? 'Enabled ' : 'Disabled ') + 'token ' + tokenLabel(t) + '.');
      await loadTokens();
    } catch (e) { showError(e); }
  }

  async function deleteToken(t) {
    const ok = await confirmAction('Delete ' + tokenLabel(t) + '?',
      'The token ' + tokenLabel(t) + ' will be deleted: every request with it is refused ' +
      'from now on. This cannot be undone.', 'Delete token', false);
    if (!ok) return;
    try {
      await api('DELETE', '/v1/spaces/' + S.space.id + '/api_keys/' + t.id);
      status('Deleted token ' + tokenLabel(t) + '.');
      await loadTokens();
    } catch (e) { showError(e); }
  }

  async function loadActivity() {
    const box = $('activity-list');
    loading(box, 'activity');
    let acts;
    try {
      acts = (await api('GET', '/v1/spaces/' + S.space.id + '/activities?limit=200')).activities;
      await actorNames();
    } catch (e) { done(box); showError(e); return; }
    done(box, activityTable('Activity of space ' + S.space.name, acts));
  }

  /* "pat:1" and "token:7" with the names the caller may see */
  async function actorNames() {
    S.names = {};
    for (const t of S.tokens) S.names['token:' + t.id] = t.name;
    if (!may('pats.list')) return;
    const pats = (await api('GET', '/v1/personal_access_tokens')).personal_access_tokens;
    for (const p of pats) S.names['pat:' + p.id] = p.name;
  }

  function actor(a) {
    const n = S.names && S.names[a];
    return n ? n + ' (' + a + ')' : a;
  }

  function activityTable(caption, acts) {
    if (acts.length === 0) return empty('No activity yet.');
    return table(caption, [
      { label: 'When', cell: (a) => when(a.at) },
      { label: 'Who', cell: (a) => actor(a.actor) },
      { label: 'What', cell: (a) => a.action },
      { label: 'Record', cell: (a) => String(a.resource_id) },
    ], acts);
  }

  async function loadRoles() {
    const box = $('roles-list');
    loading(box, 'roles');
    let roles;
    try {
      roles = (await api('GET', '/roles', undefined,
                         { 'X-Api-Version': '3', 'X-Space-Id': String(S.space.id) })).data;
    } catch (e) { done(box); showError(e); return; }
    const yes = (b) => (b ? 'yes' : 'no');
    done(box, table('Roles of space ' + S.space.name, [
      { label: 'Id', cell: (r) => r.id },
      { label: 'Name', cell: (r) => r.attributes.name },
      { label: 'Manages tokens', cell: (r) => yes(r.attributes.can_manage_access_tokens) },
      { label: 'Reads the audit log', cell: (r) => yes(r.attributes.can_access_audit_log) },
      { label: 'Inherits from', cell: (r) => {
          const rel = r.relationships && r.relationships.inherits_permissions_from;
          const d = rel && Array.isArray(rel.data) ? rel.data.map((x) => x.id) : [];
          return d.length ? d.join(', ') : '—';
        } },
    ], roles));
  }

  /* ---- personal access tokens ------------------------------------------ */

  async function showPats() {
    show('pats');
    showError(null);
    $('pat-form').hidden = !may('pats.create');
    $('pf-full-field').hidden = !S.me.full_permission;
    const box = $('pats-list');
    if (!may('pats.list')) { done(box, empty('This credential may not list personal access tokens.')); return; }
    loading(box, 'personal access tokens');
    let pats;
    try { pats = (await api('GET', '/v1/personal_access_tokens')).personal_access_tokens; }
    catch (e) { done(box); showError(e); return; }
    if (pats.length === 0) { done(box, empty('No personal access tokens.')); return; }
    const scopes = (p) => Object.entries(p.scopes).map(([k, v]) => k + ':' + v).join(' ') || 'none';
    done(box, table('Personal access tokens', [
      { label: 'Name', cell: (p) => el('span', { class: 'pat-name' }, p.name) },
      { label: 'Id', cell: (p) => String(p.id) },
      { label: 'Spaces', cell: (p) => p.spaces === 'all' ? 'all' : p.spaces.join(', ') },
      { label: 'Scopes', cell: (p) => scopes(p) + (p.full_permission ? ' (full)' : '') },
      { label: 'Expires', cell: (p) => when(p.expires_at) },
      { label: 'Last use', cell: (p) => when(p.last_used_at) },
      { label: 'Made by', cell: (p) => p.created_by || 'command line' },
      { label: 'Actions', cell: (p) => may('pats.delete') && p.id !== S.me.id
          ? el('button', { type: 'button', 'data-action': 'revoke',
                           'aria-label': 'Revoke ' + patLabel(p), onclick: () => revokePat(p) },
               'Revoke') : '—' },
    ], pats));
  }

  function patLabel(p) { return '“' + p.name + '” (id ' + p.id + ')'; }

  async function createPat(ev) {
    ev.preventDefault();
    const f = $('pat-form');
    clearErrors(f);
    const sp = $('pf-spaces').value.trim();
    const scopes = {};
    for (const s of f.querySelectorAll('select[data-scope]'))
      if (s.value) scopes[s.dataset.scope] = s.value;
    const pat = { name: $('pf-name').value, spaces: sp === 'all' ? 'all' : ids(sp), scopes };
    if ($('pf-expires').value) pat.expires_at = utc($('pf-expires').value);
    if ($('pf-cidrs').value.trim()) pat.allowed_cidrs = list($('pf-cidrs').value);
    if ($('pf-full').checked) pat.full_permission = true;
    try {
      const r = await api('POST', '/v1/personal_access_tokens', { personal_access_token: pat });
      f.reset();
      reveal('Personal access token ' + patLabel(r.personal_access_token),
             r.personal_access_token.token, '');
      await showPats();
    } catch (e) {
      fieldErrors(f, 'err-pf-', e);
    }
  }

  async function revokePat(p) {
    const ok = await confirmAction('Revoke ' + patLabel(p) + '?',
      'The personal access token ' + patLabel(p) + ' and every credential it made are ' +
      'revoked at once. This cannot be undone.', 'Revoke', false);
    if (!ok) return;
    try {
      await api('DELETE', '/v1/personal_access_tokens/' + p.id);
      status('Revoked ' + patLabel(p) + '.');
      await showPats();
    } catch (e) { showError(e); }
  }

  async function showAccount() {
    show('account');
    showError(null);
    const box = $('account-list');
    loading(box, 'account activity');
    try {
      const acts = (await api('GET', '/v1/activities?limit=200')).activities;
      await actorNames();
      done(box, activityTable('Account activity', acts));
    } catch (e) { done(box); showError(e); }
  }

  /* ---- wiring ----------------------------------------------------------- */

  document.addEventListener('DOMContentLoaded', () => {
    $('signin-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const input = $('signin-credential');
      const v = input.value.trim();
      input.value = '';
      if (v === '') { showError(new ApiError(0, 'Enter a credential', null)); return; }
      await signIn(v);
    });
    $('signout').addEventListener('click', () => signOut(false));
    $('nav-spaces').addEventListener('click', showSpaces);
    $('back-spaces').addEventListener('click', showSpaces);
    $('nav-pats').addEventListener('click', showPats);
    $('nav-account').addEventListener('click', showAccount);
    $('space-create-form').addEventListener('submit', createSpace);
    $('space-open-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const id = intOrNull($('space-open-id').value);
      if (typeof id === 'number' && id > 0) openSpace({ id, name: String(id) });
    });
    for (const t of ['tokens', 'activity', 'roles'])
      $('tab-' + t).addEventListener('click', () => tab(t));
    $('token-new').addEventListener('click', () => tokenForm(null));
    $('tf-cancel').addEventListener('click', () => { $('token-form').hidden = true; S.editing = null; });
    $('token-form').addEventListener('submit', submitToken);
    $('token-search').addEventListener('input', renderTokens);
    $('token-sort').addEventListener('change', renderTokens);
    $('token-order').addEventListener('change', renderTokens);
    $('pat-form').addEventListener('submit', createPat);
    $('reveal-copy').addEventListener('click', copyReveal);
    $('reveal-done').addEventListener('click', hideReveal);
    const saved = sessionStorage.getItem(KEY);
    if (saved) signIn(saved);
    else $('signin-credential').focus();
  });
}());
