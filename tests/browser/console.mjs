// Drives the console (console/) in Debian's Chromium, headless, against a
// running stack behind nginx: node console.mjs, with TOKEND_URL (nginx's base
// URL), TOKEND_ADMIN (an admin PAT), SPACE_ID and SHOTS (a directory for
// screenshots). Each step waits for what the page shows, then checks it; the
// last line on stdout is a JSON report the pytest side checks again
// (tests/integration/test_console.py). Any failure exits non-zero.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const base = process.env.TOKEND_URL;
const admin = process.env.TOKEND_ADMIN;
const sid = String(process.env.SPACE_ID || '4242');
const shots = process.env.SHOTS || 'build/console';
const XSS = '<img src=x onerror=alert(1)>';
fs.mkdirSync(shots, { recursive: true });

const report = { dialogs: [], foreign: [], consoleErrors: [], values: {}, verify: {}, steps: [] };
const step = (s) => { report.steps.push(s); process.stderr.write(`console test: ${s}\n`); };

async function verify(token) {
  const r = await fetch(`${base}/v1/verify`, {
    headers: { 'X-Original-URI': `/v2/cdn/stories?token=${token}` } });
  return r.status;
}

async function whoamiStatus(token) {
  const r = await fetch(`${base}/v1/whoami`, { headers: { Authorization: token } });
  return r.status;
}

function watch(page) {
  page.on('dialog', (d) => { report.dialogs.push(d.type() + ':' + d.message()); d.dismiss(); });
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:'))
    report.foreign.push(r.url()); });
  page.on('console', (m) => { if (m.type() === 'error') report.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => report.consoleErrors.push(String(e)));
}

async function signIn(page, cred) {
  await page.goto(`${base}/console/`);
  // keyboard only: the credential field has the focus, Enter submits
  await page.waitForFunction(() => document.activeElement &&
                             document.activeElement.id === 'signin-credential');
  await page.keyboard.type(cred);
  await page.keyboard.press('Enter');
  await page.locator('#who').waitFor({ state: 'visible' });
}

const tokenRow = (page, name) => page.locator('#tokens-list tbody tr', {
  has: page.locator('.token-name', { hasText: new RegExp(`^${name}$`) }) });

async function revealed(page) {
  await page.locator('#reveal').waitFor({ state: 'visible' });
  const v = await page.locator('#reveal-value').inputValue();
  assert.ok(v.length > 40, 'a value is shown once');
  return v;
}

async function confirmDialog(page, expectText, grace) {
  const d = page.locator('#confirm');
  await d.waitFor({ state: 'visible' });
  const text = await page.locator('#confirm-text').textContent();
  assert.ok(text.includes(expectText), `the confirmation names ${expectText}: ${text}`);
  if (grace !== undefined) await page.locator('#confirm-grace').fill(String(grace));
  await page.locator('#confirm-ok').click();
  await d.waitFor({ state: 'hidden' });
}

async function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((e) => e.offsetParent !== null)
    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') &&
                   !(e.tagName === 'BUTTON' && e.textContent.trim()))
    .map((e) => e.id || e.outerHTML.slice(0, 60)));
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await ctx.newPage();
  watch(page);

  step('sign in with the admin PAT');
  await signIn(page, admin);
  const where = await page.evaluate(() => ({
    session: sessionStorage.length, local: localStorage.length, cookie: document.cookie,
    url: location.href }));
  assert.equal(where.session, 1);
  assert.equal(where.local, 0);
  assert.equal(where.cookie, '');
  assert.ok(!where.url.includes(admin.slice(8, 30)), 'no credential in the URL');
  assert.match(await page.locator('#who').textContent(), /Personal access token #1 · all spaces/);

  step('create a space, edit its min_cache');
  await page.locator('#space-name').fill('Console demo');
  await page.locator('#space-id').fill(sid);
  await page.locator('#space-min-cache').fill('60');
  await page.locator('#space-create-form button[type=submit]').click();
  const mc = page.locator(`#mc-${sid}`);
  await mc.waitFor();
  await mc.fill('120');
  await mc.press('Enter');
  await page.locator('#status', { hasText: 'Saved min_cache of Console demo: 120 s.' }).waitFor();
  await page.screenshot({ path: path.join(shots, 'spaces.png') });

  step('open the space: tokens, the built-in one listed');
  await page.getByRole('button', { name: 'Open space Console demo' }).click();
  await tokenRow(page, 'Read-only API token').waitFor();

  step('create a token: the API\'s 422 shown beside its field');
  await page.locator('#token-new').click();
  await page.locator('#tf-name').fill('website');
  await page.locator('#tf-access').selectOption('public');
  await page.locator('#tf-description').fill('the public site');
  await page.locator('#tf-max-uses').fill('0');
  await page.locator('#tf-cidrs').fill('10.0.0.0/33');
  await page.locator('#tf-submit').click();
  const err = page.locator('#err-tf-max_uses');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.textContent(), /max_uses must be between 1 and/);
  assert.equal(await page.locator('#tf-max-uses').getAttribute('aria-invalid'), 'true');
  assert.deepEqual(await unlabelled(page), [], 'every control has a label');
  await page.screenshot({ path: path.join(shots, 'create.png'), fullPage: true });
  await page.locator('#tf-max-uses').fill('');
  await page.locator('#tf-submit').click();
  const cidrErr = page.locator('#err-tf-allowed_cidrs');
  await cidrErr.waitFor({ state: 'visible' });
  await page.locator('#tf-cidrs').fill('');
  await page.locator('#tf-submit').click();
  const v1 = await revealed(page);
  await tokenRow(page, 'website').waitFor();
  report.values.created = v1;
  await page.locator('#reveal-copy').click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), v1, 'Copy copies');
  report.verify.created = await verify(v1);
  assert.equal(report.verify.created, 200, 'the shown value verifies through nginx');
  await page.screenshot({ path: path.join(shots, 'tokens.png'), fullPage: true });
  await page.locator('#reveal-done').click();
  assert.equal(await page.locator('#reveal-value').inputValue(), '', 'the value is gone');

  step('regenerate: the old value refused');
  await tokenRow(page, 'website').locator('button[data-action=regenerate]').click();
  await confirmDialog(page, 'website', 0);
  const v2 = await revealed(page);
  assert.notEqual(v2, v1);
  report.values.regenerated = v2;
  report.verify.old_after_regenerate = await verify(v1);
  report.verify.new_after_regenerate = await verify(v2);
  assert.equal(report.verify.old_after_regenerate, 401);
  assert.equal(report.verify.new_after_regenerate, 200);
  await page.locator('#reveal-done').click();

  step('edit restrictions');
  await tokenRow(page, 'website').locator('button[data-action=edit]').click();
  await page.locator('#tf-story-ids').fill('11, 12');
  await page.locator('#tf-release-ids').fill('7');
  await page.locator('#tf-branch-id').fill('3');
  await page.locator('#tf-cidrs').fill('127.0.0.0/8, ::1/128');
  await page.locator('#tf-max-uses').fill('50');
  await page.locator('#tf-submit').click();
  await tokenRow(page, 'website').locator('td', {
    hasText: 'stories 11, 12; releases 7; branch 3; from 127.0.0.0/8, ::1/128' }).waitFor();

  step('disable, enable, disable');
  await tokenRow(page, 'website').locator('button[data-action=disable]').click();
  await tokenRow(page, 'website').locator('.badge.disabled').waitFor();
  report.verify.disabled = await verify(v2);
  assert.equal(report.verify.disabled, 401);
  await tokenRow(page, 'website').locator('button[data-action=enable]').click();
  await tokenRow(page, 'website').locator('.badge.active').waitFor();
  await tokenRow(page, 'website').locator('button[data-action=disable]').click();
  await tokenRow(page, 'website').locator('.badge.disabled').waitFor();

  step('a name holding markup is shown as text');
  await page.locator('#token-new').click();
  await page.locator('#tf-name').fill(XSS);
  await page.locator('#tf-submit').click();
  await revealed(page);
  await page.locator('#reveal-done').click();
  const xssRow = page.locator('#tokens-list .token-name', { hasText: XSS });
  await xssRow.waitFor();
  assert.equal(await xssRow.textContent(), XSS);
  assert.equal(await page.locator('img').count(), 0, 'no element made from data');
  report.xssText = await xssRow.textContent();
  await page.screenshot({ path: path.join(shots, 'tokens-list.png'), fullPage: true });

  step('search and sort');
  await page.locator('#token-search').fill('websi');
  await page.waitForFunction(() => document.querySelectorAll('#tokens-list tbody tr').length === 1);
  await page.locator('#token-search').fill('');
  await page.locator('#token-sort').selectOption('id');
  await page.locator('#token-order').selectOption('-1');
  const names = await page.locator('#tokens-list .token-name').allTextContents();
  assert.deepEqual(names, [XSS, 'website', 'Read-only API token']);

  step('delete, with a confirmation naming the token');
  await tokenRow(page, 'website').locator('button[data-action=delete]').click();
  await confirmDialog(page, '“website”');
  await page.waitForFunction(() => ![...document.querySelectorAll('#tokens-list .token-name')]
    .some((e) => e.textContent === 'website'));
  report.verify.deleted = await verify(v2);

  step('activity and roles');
  await page.locator('#tab-activity').click();
  await page.locator('#activity-list td', { hasText: 'api_key.regenerate' }).waitFor();
  await page.locator('#activity-list td', { hasText: 'api_key.delete' }).first().waitFor();
  await page.locator('#activity-list td', { hasText: 'admin (pat:1)' }).first().waitFor();
  await page.screenshot({ path: path.join(shots, 'activity.png'), fullPage: true });
  await page.locator('#tab-roles').click();
  await page.locator('#roles-list td', { hasText: 'Read-only' }).waitFor();

  step('personal access tokens: create (shown once), list, revoke');
  await page.locator('#nav-pats').click();
  await page.locator('#pf-name').fill('reader');
  await page.locator('#pf-spaces').fill(sid);
  await page.locator('#pf-scope-tokens').selectOption('read');
  await page.locator('#pf-expires').fill('2099-01-01T00:00');
  await page.locator('#pat-form button[type=submit]').click();
  const reader = await revealed(page);
  report.values.reader = reader;
  await page.locator('#reveal-done').click();
  await page.locator('#pats-list .pat-name', { hasText: 'reader' }).waitFor();
  await page.locator('#pf-name').fill('temporary');
  await page.locator('#pf-spaces').fill('all');
  await page.locator('#pf-scope-spaces').selectOption('read');
  await page.locator('#pat-form button[type=submit]').click();
  const temp = await revealed(page);
  await page.locator('#reveal-done').click();
  assert.equal(await whoamiStatus(temp), 200);
  await page.screenshot({ path: path.join(shots, 'pats.png'), fullPage: true });
  await page.locator('#pats-list tbody tr', { hasText: 'temporary' })
    .locator('button[data-action=revoke]').click();
  await confirmDialog(page, '“temporary”');
  await page.waitForFunction(() => ![...document.querySelectorAll('#pats-list .pat-name')]
    .some((e) => e.textContent === 'temporary'));
  report.verify.revoked_pat = await whoamiStatus(temp);
  assert.equal(report.verify.revoked_pat, 401);

  step('sign out clears the credential');
  await page.locator('#signout').click();
  await page.locator('#signin-view').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  assert.equal(await page.locator('#app-view').isVisible(), false);

  step('a read-only credential is offered no write');
  await signIn(page, reader);
  assert.equal(await page.locator('#space-create-form').isVisible(), false);
  assert.equal(await page.locator('#nav-pats').isVisible(), false);
  const editors = await page.locator('#spaces-list input').count();
  await page.getByRole('button', { name: `Open space ${sid}` }).click();
  await tokenRow(page, 'Read-only API token').waitFor();
  report.readonly = {
    actions: await page.locator('#tokens-list button[data-action]').count(),
    newToken: await page.locator('#token-new').isVisible(),
    activityTab: await page.locator('#tab-activity').isVisible(),
    editors,
  };
  assert.deepEqual(report.readonly, { actions: 0, newToken: false, activityTab: false, editors: 0 });
  await page.screenshot({ path: path.join(shots, 'readonly.png'), fullPage: true });
  await page.locator('#signout').click();

  step('a space token with the management right (the read-only role)');
  const keys = await (await fetch(`${base}/v1/spaces/${sid}/api_keys`,
                                  { headers: { Authorization: admin } })).json();
  const builtin = keys.api_keys.find((k) => k.name === 'Read-only API token');
  await signIn(page, builtin.token);
  assert.match(await page.locator('#who').textContent(), new RegExp(`Space token #${builtin.id} · space ${sid} · .* · role 2`));
  await page.getByRole('button', { name: 'Open space Console demo' }).click();
  await tokenRow(page, 'Read-only API token').waitFor();
  assert.equal(await page.locator('#tokens-list button[data-action]').count(), 0);
  await page.locator('#tab-activity').click();
  await page.locator('#activity-list td', { hasText: 'api_key.create' }).first().waitFor();
  await page.locator('#signout').click();

  step('360 px wide: no sideways scrolling');
  const small = await browser.newContext({ viewport: { width: 360, height: 740 } });
  const phone = await small.newPage();
  watch(phone);
  await signIn(phone, admin);
  await phone.getByRole('button', { name: 'Open space Console demo' }).click();
  await phone.locator('#tokens-list tbody tr').first().waitFor();
  report.narrowOverflow = await phone.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(report.narrowOverflow <= 0, `fits 360 px (overflow ${report.narrowOverflow})`);
  await phone.screenshot({ path: path.join(shots, 'narrow.png'), fullPage: true });

  step('an empty space says so');
  const adminJson = { Authorization: admin, 'Content-Type': 'application/json' };
  const other = Number(sid) + 1;
  await fetch(`${base}/v1/spaces`, { method: 'POST', headers: adminJson,
    body: JSON.stringify({ space: { id: other, name: 'Empty space' } }) });
  const its = await (await fetch(`${base}/v1/spaces/${other}/api_keys`, { headers: adminJson })).json();
  for (const k of its.api_keys)
    await fetch(`${base}/v1/spaces/${other}/api_keys/${k.id}`, { method: 'DELETE', headers: adminJson });
  await phone.locator('#back-spaces').click();
  await phone.getByRole('button', { name: 'Open space Empty space' }).click();
  await phone.locator('#tokens-list .empty', { hasText: 'This space has no tokens yet' }).waitFor();
  await small.close();

  assert.deepEqual(report.dialogs, [], 'no dialog fired');
  assert.deepEqual(report.foreign, [], 'no third-party request');
  assert.deepEqual(report.consoleErrors.filter((e) => !/status of 4\d\d/.test(e)), [],
                   'no script error, no CSP violation');
  step('done');
} finally {
  await browser.close();
  process.stdout.write(JSON.stringify(report) + '\n');
}
