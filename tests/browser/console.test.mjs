// tests/browser/console.test.mjs - the analysts' console in real headless Chromium
// (Debian's /usr/bin/chromium driven by playwright-core), against the real `tipline web`
// on a throwaway database: sign in, see the queue, claim, see the photo and the point on
// the map, ask a follow-up and see the answer arrive live, confirm, see the report leave
// the queue; a second analyst sees the claim and the decision live; a report stored
// meanwhile appears live; when the server's feed of events is cut, the console is told to
// refetch and shows what it missed; the language switches; a moderator releases a held
// campaign and a held report and rejects another with one key each, a report's hidden
// override is not displayed. Every step asserts on the DOM. Screenshots go to
// $TL_BINARY_DIR/tests/browser/artifacts/. Started by run.sh (which checks prerequisites).

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const env = process.env;
const require = createRequire(path.join(env.TL_SOURCE_DIR, 'package.json'));
const { chromium } = require('playwright-core');

const TIPLINE = env.TL_TIPLINE_BIN;
const SEED = env.TL_BROWSER_SEED;
const ART = path.join(env.TL_BINARY_DIR || '.', 'tests', 'browser', 'artifacts');
const STEP_MS = 10_000; // the longest any one step may take
const LIVE_MS = 5_000; // a live update must arrive within this (1 s unloaded; slack for ASan)

let passed = 0;
let current = 'setup';
function step(name) {
  current = name;
  console.log(`browser test: ${name}`);
}
function check(cond, what) {
  if (!cond) throw new Error(`${current}: ${what}`);
  passed++;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// `tipline user add NAME --role ROLE` prints the token once: the one long token-like word.
function addUser(dbEnv, name, role) {
  const out = execFileSync(TIPLINE, ['user', 'add', name, '--role', role], {
    env: dbEnv,
    encoding: 'utf8',
  });
  const words = out.split(/\s+/).filter((w) => /^[A-Za-z0-9_-]{24,}$/.test(w));
  if (words.length !== 1) throw new Error(`user add ${name}: no single token in its output: ${out}`);
  return words[0];
}

async function waitHttp(url, server, log) {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    if (server.exitCode !== null)
      throw new Error(`tipline web exited (${server.exitCode}):\n${fs.readFileSync(log, 'utf8')}`);
    try {
      const r = await fetch(url);
      if (r.status === 200) return r;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tipline web did not answer ${url} in 20 s:\n${fs.readFileSync(log, 'utf8')}`);
}

// Every answer a tipline server gives the console, one JSON line each (the fields of
// tests/support/httprec.c), for tests/openapi/check.mjs (test_openapi_browser_answers).
const RECORD = env.TL_BINARY_DIR ? path.join(env.TL_BINARY_DIR, 'openapi', 'test_browser_console.jsonl') : null;
const recording = new Set();
function recordAnswers(page) {
  if (!RECORD) return;
  page.on('response', (r) => {
    const url = new URL(r.url());
    if (url.protocol !== 'http:' || url.hostname !== '127.0.0.1') return; // not a tile
    const ctype = r.headers()['content-type'] ?? null;
    const json = /^application\/([^;]*\+)?json\b/i.test(ctype || '');
    const line = (body) => JSON.stringify({
      method: r.request().method(), path: url.pathname + url.search, status: r.status(), ctype,
      len: json ? Buffer.byteLength(body) : Number(r.headers()['content-length'] || 0),
      ...(json ? { body } : {}),
    });
    const p = (json ? r.text() : Promise.resolve(''))
      .then((body) => fs.appendFileSync(RECORD, `${line(body)}\n`), () => {}) // page gone
      .finally(() => recording.delete(p));
    recording.add(p);
  });
}

// A page that records CSP violations and script errors, to be asserted empty.
async function newPage(browser, locale) {
  const ctx = await browser.newContext({ locale, viewport: { width: 1440, height: 900 } });
  const page = await ctx.newPage();
  recordAnswers(page);
  page.setDefaultTimeout(STEP_MS);
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // the 401 of /api/me before sign-in is expected and shows as a failed resource
    if (m.type() === 'error' && !/status of 401/.test(m.text())) page.problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return page;
}

async function noProblems(page, who) {
  const csp = await page.evaluate(() => window.__csp);
  check(csp.length === 0, `${who}: Content-Security-Policy violations: ${csp.join('; ')}`);
  check(page.problems.length === 0, `${who}: errors in the page: ${page.problems.join('; ')}`);
}

async function login(page, base, token) {
  await page.goto(`${base}/`);
  await page.locator('#login-form').waitFor({ state: 'visible' });
  await page.fill('#token', token);
  await page.click('#login-submit');
  await page.locator('#console').waitFor({ state: 'visible' });
}

const refs = (page) => page.$$eval('#queue > li', (lis) => lis.map((li) => li.dataset.ref));
const itemText = (page, ref) => page.locator(`#queue > li[data-ref="${ref}"]`).innerText();

export async function scenario(browser, base, seed, tokens, dbEnv) {
  const photo = seed.reports.find((r) => r.photo);
  const seededRefs = seed.reports.map((r) => r.ref);

  step('the console refuses a wrong token and shows why');
  const page = await newPage(browser, 'en-US');
  const csrfSeen = [];
  page.on('request', (rq) => {
    if (rq.method() === 'POST' && rq.url().includes('/api/') && !rq.url().endsWith('/api/login'))
      csrfSeen.push(rq.headers()['x-csrf-token'] || '');
  });
  await page.goto(`${base}/`);
  await page.locator('#login-form').waitFor({ state: 'visible' });
  check((await page.textContent('#login-form h2')) === 'Sign in', 'English from the browser locale');
  check((await page.getAttribute('html', 'lang')) === 'en', 'html lang follows the language');
  await page.fill('#token', 'not-a-token-at-all-xxxxxxxxxxxxxxxx');
  await page.click('#login-submit');
  await page.locator('#login-error').waitFor({ state: 'visible' });
  check((await page.textContent('#login-error')).startsWith('Sign-in failed'), 'error text shown');
  check(await page.locator('#console').isHidden(), 'console stays hidden');

  step('sign in: session cookie (HttpOnly), account in the header');
  const loginResp = page.waitForResponse((r) => r.url().endsWith('/api/login'));
  await page.fill('#token', tokens.alice);
  await page.click('#login-submit');
  const lr = await loginResp;
  check(lr.status() === 200, `login answered ${lr.status()}`);
  const csrf = (await lr.json()).csrf;
  check(typeof csrf === 'string' && csrf.length >= 16, 'login returns a csrf token');
  await page.locator('#console').waitFor({ state: 'visible' });
  check((await page.textContent('#who')).includes('alice'), 'who shows the account');
  check(!(await page.evaluate(() => document.cookie)).includes('tl_session'),
    'the session cookie is not readable by scripts');
  const cookies = await page.context().cookies();
  check(cookies.some((c) => c.name === 'tl_session' && c.httpOnly && c.sameSite === 'Strict'),
    'tl_session is HttpOnly and SameSite=Strict');

  step('the queue lists the seeded reports, newest first');
  await page.waitForFunction((n) => document.querySelectorAll('#queue > li').length === n,
    seededRefs.length);
  check(JSON.stringify(await refs(page)) === JSON.stringify([...seededRefs].reverse()),
    `queue order ${await refs(page)}`);
  check((await page.textContent('#queue-count')) === `${seededRefs.length} shown`, 'count line');
  check((await itemText(page, photo.ref)).includes(`${seed.video ? 2 : 1} photo`),
    'photo badge on the list item');
  check((await itemText(page, 'TL-FAR004')).includes('outside the area'), 'flag badge');
  check((await itemText(page, 'TL-NOPT03')).includes('no point'), 'no-point badge');
  await page.locator('#live.on').waitFor();
  check((await page.textContent('#live')) === 'live', 'live updates connected');

  step('the offline basemap (world-atlas borders) and the report markers are drawn');
  await page.waitForFunction(() => document.querySelectorAll('path.tl-border').length > 150);
  check((await page.locator('path.tl-border-home').count()) === 1, 'Ukraine outlined');
  await page.locator(`.tl-marker[title="${photo.ref}"]`).waitFor({ state: 'attached' });
  check((await page.locator('.tl-marker[title="TL-ARMOR2"]').count()) === 1, 'second marker');
  // zoomed out, the confirmed reports come from the vector tiles: none confirmed yet
  await page.waitForFunction(() => document.querySelectorAll('canvas.tl-overview-tile[data-count]').length > 0);
  check(await page.$$eval('canvas.tl-overview-tile', (cs) => cs.every((c) => c.dataset.count === '0')),
    'the vector tiles hold no confirmed report yet');

  step('filters: with photo only, then back');
  const filtered = page.waitForResponse((r) => r.url().includes('/api/reports?') &&
    r.url().includes('has_photo=true'));
  await page.check('#f-photo');
  check((await filtered).status() === 200, 'has_photo list answered');
  await page.waitForFunction(() => document.querySelectorAll('#queue > li').length === 1);
  check(JSON.stringify(await refs(page)) === JSON.stringify([photo.ref]), 'only the photo report');
  await page.uncheck('#f-photo');
  await page.waitForFunction((n) => document.querySelectorAll('#queue > li').length === n,
    seededRefs.length);

  step('keyboard help (?) lists the shortcuts');
  await page.click('#queue-title');
  await page.keyboard.press('?');
  await page.locator('#help[open]').waitFor();
  const keys = await page.$$eval('#help-keys kbd', (k) => k.map((x) => x.textContent));
  for (const k of ['c', 'y', 'r', 'n', '?']) check(keys.includes(k), `help lists ${k}`);
  await page.keyboard.press('Escape');
  await page.locator('#help').waitFor({ state: 'hidden' });

  step('a second analyst (bob, a Ukrainian browser) watches the same queue');
  const bob = await newPage(browser, 'uk-UA');
  await bob.goto(`${base}/`);
  await bob.locator('#login-form').waitFor({ state: 'visible' });
  check((await bob.textContent('#login-form h2')) === 'Вхід', 'Ukrainian from the browser locale');
  await login(bob, base, tokens.bob);
  check((await bob.textContent('#queue-title')) === 'Черга', 'bob: the queue in Ukrainian');
  await bob.waitForFunction((n) => document.querySelectorAll('#queue > li').length === n,
    seededRefs.length);
  await bob.locator('#live.on').waitFor();

  step('claim next (c): the highest-priority report, its photo, its point on the map');
  await page.keyboard.press('c');
  await page.waitForFunction((ref) => document.querySelector('#report-ref')?.textContent === ref,
    photo.ref);
  check(await page.locator('#lock.mine').isVisible(), 'the lease is shown as ours');
  check((await itemText(page, photo.ref)).includes('held by you'), 'list item marked held by you');
  const img = page.locator('#report .photo img');
  await img.waitFor();
  await page.waitForFunction(() => {
    const i = document.querySelector('#report .photo img');
    return i && i.complete && i.naturalWidth > 0;
  });
  const dims = await img.evaluate((i) => [i.naturalWidth, i.naturalHeight]);
  check(dims[0] === seed.photo.width && dims[1] === seed.photo.height, `photo decoded ${dims}`);
  const src = await img.getAttribute('src');
  const media = await page.evaluate(async (u) => {
    const r = await fetch(u);
    return { type: r.headers.get('content-type'), cache: r.headers.get('cache-control') };
  }, src);
  check(media.type === 'image/jpeg' && /no-store/.test(media.cache || ''),
    `media served as ${media.type}, ${media.cache}`);
  if (seed.video) {
    // the report's video: a <video> the browser loads through range requests, and plays
    const vid = page.locator('#report .photo video');
    await vid.waitFor();
    const vstate = await vid.evaluate(async (v) => {
      for (let i = 0; i < 150 && !(v.readyState >= 1 && v.duration > 1.5) && !v.error; i++)
        await new Promise((r) => setTimeout(r, 100));
      return { ready: v.readyState, duration: v.duration, net: v.networkState,
        error: v.error && `${v.error.code} ${v.error.message}` };
    });
    check(vstate.ready >= 1 && vstate.duration > 1.5 && !vstate.error,
      `the video's metadata loads ${JSON.stringify(vstate)}`);
    const vsrc = await vid.getAttribute('src');
    const part = await page.evaluate(async (u) => {
      const r = await fetch(u, { headers: { Range: 'bytes=0-99' } });
      return { status: r.status, type: r.headers.get('content-type'),
        range: r.headers.get('content-range'), len: (await r.arrayBuffer()).byteLength };
    }, vsrc);
    check(part.status === 206 && part.type === 'video/mp4' && part.len === 100 &&
      /^bytes 0-99\/\d+$/.test(part.range || ''), `video range answer ${JSON.stringify(part)}`);
    const played = await vid.evaluate(async (v) => {
      v.muted = true;
      await v.play();
      await new Promise((r) => setTimeout(r, 600));
      return v.currentTime;
    });
    check(played > 0.2, `the video plays (${played} s)`);
  }
  check((await page.textContent('#report-point')).includes(
    `${photo.lat.toFixed(5)}, ${photo.lon.toFixed(5)}`), 'the point is printed');
  check((await page.textContent('#report')).includes('Telegram location'), 'location source');
  check((await page.textContent('#report .photo figcaption')).includes('Photo GPS'),
    'the photo GPS is compared with the point');
  const sel = page.locator(`.tl-marker-selected[title="${photo.ref}"]`);
  await sel.waitFor({ state: 'visible' });
  await page.waitForTimeout(400); // the pan animation
  const mb = await sel.boundingBox();
  const mapBox = await page.locator('#map').boundingBox();
  check(mb && mb.x >= mapBox.x && mb.x + mb.width <= mapBox.x + mapBox.width &&
    mb.y >= mapBox.y && mb.y + mb.height <= mapBox.y + mapBox.height, 'selected marker in view');
  check((await page.locator('.tl-marker-photo').count()) === 1, 'the photo GPS marker');
  await page.screenshot({ path: path.join(ART, 'console-claimed.png') });
  const pseud = await page.textContent('#reporter code');
  check(/^[0-9a-f]{6,}$/.test(pseud) && '5a1c9e07f3b2d8aa'.startsWith(pseud),
    `reporter pseudonym ${pseud}`);
  check((await page.textContent('#reporter')).includes('Reputation'), 'reporter counters');
  // the claim comes without the reporter's other reports: fetched when asked (h)
  check((await page.locator('#reporter-recent').count()) === 0, 'no history before it is asked for');
  const hist = page.waitForResponse((r) => r.url().endsWith('/reporter'));
  await page.keyboard.press('h');
  check((await hist).status() === 200, 'history answered');
  await page.locator('#reporter-recent > li').first().waitFor();
  check(JSON.stringify(await page.$$eval('#reporter-recent > li', (l) => l.map((x) => x.dataset.ref))) ===
    '["TL-NOPT03"]', 'the reporter\'s other report is listed');

  step('bob sees the claim live');
  await bob.waitForFunction((ref) => {
    const li = document.querySelector(`#queue > li[data-ref="${ref}"]`);
    return li && li.textContent.includes('у роботі: alice');
  }, photo.ref, { timeout: LIVE_MS });
  check(true, 'claim pushed to the other console');
  await bob.selectOption('#f-status', 'claimed');
  await bob.waitForFunction((ref) => {
    const lis = document.querySelectorAll('#queue > li');
    return lis.length === 1 && lis[0].dataset.ref === ref;
  }, photo.ref);
  check((await itemText(bob, photo.ref)).includes('у роботі: alice'), 'bob: "being worked on" lists it');
  await bob.selectOption('#f-status', 'new');
  await bob.waitForFunction((n) => document.querySelectorAll('#queue > li').length === n,
    seededRefs.length);

  step('a report stored meanwhile appears live at the top');
  execFileSync(SEED, ['add', seed.conninfo, 'TL-LIVE05'], { env: dbEnv });
  await page.waitForFunction(() => document.querySelector('#queue > li')?.dataset.ref === 'TL-LIVE05',
    null, { timeout: LIVE_MS });
  check(await page.locator('#queue > li[data-ref="TL-LIVE05"].fresh').isVisible(), 'marked new');
  check((await page.textContent('#queue-new')) === '1 new report', 'new-arrival notice');

  step('the live feed cut: the server says "resync" and the console refetches what it missed');
  execFileSync(SEED, ['cut', seed.conninfo, 'TL-QUIET6'], { env: dbEnv });
  await page.waitForFunction(() => !!document.querySelector('#queue > li[data-ref="TL-QUIET6"]'),
    null, { timeout: LIVE_MS });
  check(true, 'a report that had no live event appears after the resync');
  execFileSync(SEED, ['drop', seed.conninfo, 'TL-QUIET6'], { env: dbEnv });

  step('ask the reporter a follow-up');
  await page.fill('#followup-q', 'Which direction was it flying?');
  const fu = page.waitForResponse((r) => r.url().endsWith('/followup'));
  await page.click('#followup-form button[type=submit]');
  const fur = await fu;
  check(fur.status() === 201, 'follow-up created');
  await page.waitForFunction(() =>
    document.querySelector('#followups .question')?.textContent === 'Which direction was it flying?');

  step('the reporter\'s answer appears live, with a notice');
  const fid = (await fur.json()).followup.id;
  execFileSync(SEED, ['answer', seed.conninfo, String(fid), 'North-east, towards the bridge'],
    { env: dbEnv });
  await page.waitForFunction(() =>
    document.querySelector('#followups')?.textContent.includes('North-east, towards the bridge'),
  null, { timeout: LIVE_MS });
  await page.waitForFunction(() =>
    document.querySelector('#toast')?.textContent.includes('the reporter answered the follow-up'),
  null, { timeout: LIVE_MS });
  check(true, 'answer shown without a reload, and announced');

  step('confirm (y) with a note takes the next report in the same request; the report leaves the queue, here and for bob');
  const tileTypes = []; // the vector tiles fetched with a tile in them from here on
  page.on('response', (r) => {
    if (/\/api\/tiles\/\d+\/\d+\/\d+\.mvt$/.test(r.url()) && r.status() === 200)
      tileTypes.push(r.headers()['content-type']);
  });
  await page.fill('#note', 'Matches two other sightings');
  await page.click('#report-ref');
  const decided = page.waitForResponse((r) => r.url().endsWith('/decide'));
  await page.keyboard.press('y');
  const dr = await decided;
  check(dr.status() === 200, `decide answered ${dr.status()}`);
  const sent = JSON.parse(dr.request().postData());
  check(sent.note === 'Matches two other sightings' && sent.next === true, 'note and next sent');
  const dn = await dr.json();
  check(dn.decision.status === 'confirmed' && dn.decision.decided_by === 'alice',
    'decided by alice');
  if (dn.next) {
    // the next report is shown, held by us; given back so that the steps below find the
    // queue as they expect
    await page.waitForFunction((ref) => document.querySelector('#report-ref')?.textContent === ref,
      dn.next.ref);
    check(await page.locator('#lock.mine').isVisible(), 'the next report is held by us');
    const released = page.waitForResponse((r) => r.url().endsWith('/release'));
    await page.click('#release');
    check((await released).status() === 200, 'the next report released');
  } else {
    await page.waitForFunction(() =>
      document.querySelector('#report-status')?.dataset.status === 'confirmed');
  }
  await page.waitForFunction((ref) => !document.querySelector(`#queue > li[data-ref="${ref}"]`),
    photo.ref);
  check(!(await refs(page)).includes(photo.ref), 'gone from the queue');
  await bob.waitForFunction((ref) => !document.querySelector(`#queue > li[data-ref="${ref}"]`),
    photo.ref, { timeout: LIVE_MS });
  check(true, 'gone from bob\'s queue too');

  step('the zoomed-out map draws the confirmed report from the vector tiles (/api/tiles)');
  const overviewSum = () => [...document.querySelectorAll('canvas.tl-overview-tile')]
    .reduce((n, c) => n + Number(c.dataset.count || 0), 0);
  // the next report moved the map: out to the whole country, and back after
  const zoomBy = async (button) => {
    for (let i = 0; i < 3; i++) {
      await page.click(button);
      await page.waitForTimeout(350); // Leaflet's zoom animation
    }
  };
  await zoomBy('.leaflet-control-zoom-out');
  await page.waitForFunction(overviewSum, null, { timeout: LIVE_MS });
  check(tileTypes.length > 0 && tileTypes.every((t) => t === 'application/vnd.mapbox-vector-tile'),
    'the decision refetched the vector tiles');
  check(await page.evaluate(overviewSum) === 1, 'one confirmed report, drawn from the tiles');
  check(await page.locator('.leaflet-overview-pane canvas.tl-overview-tile').count() > 0,
    'drawn in the overview pane, under the markers');
  await page.screenshot({ path: path.join(ART, 'console-overview.png') });
  await zoomBy('.leaflet-control-zoom-in');

  step('a member of the restricted queue chooses the queue to claim from');
  check(await page.locator('#claim-queue').isHidden(), 'alice sees one queue: no choice');
  check(JSON.stringify(await bob.$$eval('#claim-queue option', (o) => o.map((x) => x.value))) ===
    '["","general","restricted"]', 'bob chooses among his queues');
  await bob.selectOption('#claim-queue', 'restricted');
  const bobClaim = bob.waitForResponse((r) => r.url().endsWith('/api/queue/claim'));
  await bob.click('#claim');
  const bc = await bobClaim;
  check(JSON.parse(bc.request().postData()).queue === 'restricted', 'the claim names the queue');
  check((await bc.json()).report === null, 'nothing in the restricted queue');
  await bob.locator('#toast').waitFor({ state: 'visible' });
  check((await bob.textContent('#toast')) === 'У черзі немає вільних повідомлень.', 'bob is told');
  check(csrfSeen.length >= 3 && csrfSeen.every((v) => v === csrf),
    `every POST carried X-CSRF-Token (${csrfSeen.length} POSTs)`);

  await page.screenshot({ path: path.join(ART, 'console.png') });

  step('after a reload the session holds and the server no longer lists it');
  await page.reload();
  await page.locator('#console').waitFor({ state: 'visible' });
  await page.waitForFunction((n) => document.querySelectorAll('#queue > li').length === n,
    seededRefs.length); // 4 seeded + 1 live - 1 confirmed
  check(!(await refs(page)).includes(photo.ref), 'not in the server\'s new queue');
  const st = page.waitForResponse((r) => r.url().includes('status=confirmed'));
  await page.selectOption('#f-status', 'confirmed');
  await st;
  await page.waitForFunction((ref) => {
    const lis = document.querySelectorAll('#queue > li');
    return lis.length === 1 && lis[0].dataset.ref === ref;
  }, photo.ref);
  check(true, 'listed under confirmed');

  step('"Search this area": the list keeps to the map view, the chip lifts it');
  await page.selectOption('#f-status', 'new');
  await page.waitForFunction((n) => document.querySelectorAll('#queue > li').length === n,
    seededRefs.length);
  await page.click('#queue > li[data-ref="TL-ARMOR2"]'); // centres the map on Lviv
  await page.waitForFunction(() => document.querySelector('#report-ref')?.textContent === 'TL-ARMOR2');

  step('an ambiguous place name: every candidate shown, the analyst picks one (audited)');
  check((await page.locator('#places li').count()) === 2, 'two candidates listed');
  check((await page.textContent('#places li[data-index="1"]')).includes('Odesa Oblast'), 'with their oblast');
  const picked = page.waitForResponse((r) => r.url().endsWith('/place'));
  await page.click('#place-0');
  const pr = await picked;
  check(pr.status() === 200, 'place picked');
  await page.waitForFunction(() => !document.querySelector('#places'));
  check(!(await page.textContent('#report')).includes('ambiguous place name'), 'the flag is gone');
  check((await pr.json()).point.lat === 49.8397, 'the point is the chosen one');
  await page.waitForTimeout(400); // the pan animation
  for (let i = 0; i < 2; i++) {
    await page.click('.leaflet-control-zoom-in'); // closer: Lviv without Kyiv
    await page.waitForTimeout(400);
  }
  const boxed = page.waitForResponse((r) => r.url().includes('bbox='));
  await page.click('#search-area');
  const bbox = new URL((await boxed).url()).searchParams.get('bbox').split(',').map(Number);
  check(bbox.length === 4 && bbox[0] < 24.03 && 24.03 < bbox[2] && bbox[1] < 49.84 && 49.84 < bbox[3],
    `bbox ${bbox} holds Lviv`);
  await page.waitForFunction(() => document.querySelectorAll('#queue > li').length === 1);
  check(JSON.stringify(await refs(page)) === '["TL-ARMOR2"]', 'only the report in the area');
  check(await page.locator('#f-area').isVisible(), 'the area chip is shown');
  await page.click('#f-area-clear');
  await page.waitForFunction((n) => document.querySelectorAll('#queue > li').length === n,
    seededRefs.length);

  step('keyset pages: 60 more reports, "Load more" fetches the rest exactly once');
  execFileSync(SEED, ['fill', seed.conninfo, '60'], { env: dbEnv });
  await page.reload();
  await page.locator('#console').waitFor({ state: 'visible' });
  await page.waitForFunction(() => document.querySelectorAll('#queue > li').length === 50);
  check(await page.locator('#more').isVisible(), '"Load more" offered');
  const more = page.waitForResponse((r) => r.url().includes('after='));
  await page.click('#more');
  check((await more).status() === 200, 'next page answered');
  const total = seededRefs.length + 60;
  await page.waitForFunction((n) => document.querySelectorAll('#queue > li').length === n, total);
  const all = await refs(page);
  check(new Set(all).size === total, 'no report twice');
  check(all[0] === 'TL-FILL059' && all[59] === 'TL-FILL000' && all[60] === 'TL-LIVE05',
    `newest first across pages: ${all.slice(58, 62)}`);
  check(await page.locator('#more').isHidden(), 'no further page');

  step('claim the next one and mark it a duplicate of the confirmed report, by its ref');
  await page.click('#claim');
  await page.waitForFunction(() => document.querySelector('#report-ref')?.textContent === 'TL-ARMOR2');
  await page.fill('#dup-of', photo.ref);
  const dup = page.waitForResponse((r) => r.url().endsWith('/decide'));
  await page.click('#decide-duplicate');
  const dupBody = JSON.parse((await dup).request().postData());
  check(dupBody.status === 'duplicate' && dupBody.duplicate_of === photo.id,
    `decide sent ${JSON.stringify(dupBody)}`);
  await page.waitForFunction(() =>
    document.querySelector('#report-status')?.dataset.status === 'duplicate');
  await page.waitForFunction((n) => document.querySelectorAll('#queue > li').length === n, total - 1);
  check(!(await refs(page)).includes('TL-ARMOR2'), 'the duplicate left the queue');

  step('Ukrainian');
  await page.selectOption('#lang', 'uk');
  check((await page.textContent('#queue-title')) === 'Черга', 'queue title in Ukrainian');
  check((await page.textContent('#claim')).startsWith('Взяти наступне'), 'claim button');
  check((await page.getAttribute('html', 'lang')) === 'uk', 'html lang uk');
  check((await page.getAttribute('.leaflet-control-zoom-in', 'title')) === 'Наблизити',
    'the map\'s controls too');
  await page.reload();
  await page.locator('#console').waitFor({ state: 'visible' });
  check((await page.textContent('#queue-title')) === 'Черга', 'the choice is remembered');
  await page.screenshot({ path: path.join(ART, 'console-uk.png') });

  step('a moderator bans and unbans a reporter from the report view, and claims nothing');
  const mona = await newPage(browser, 'en-US');
  await login(mona, base, tokens.mona);
  check((await mona.textContent('#who')).includes('moderator'), 'mona is a moderator');
  check(await mona.locator('#claim').isHidden(), 'no claim button for a moderator');
  await mona.click('#queue > li[data-ref="TL-FILL059"]');
  await mona.waitForFunction(() => document.querySelector('#report-ref')?.textContent === 'TL-FILL059');
  check(await mona.locator('#actions button').count() === 0, 'no decision buttons without a lease');
  await mona.fill('#ban-reason', 'floods with invented sightings');
  const ban = mona.waitForResponse((r) => r.url().endsWith('/ban'));
  await mona.click('#ban-form button[type=submit]');
  check((await ban).status() === 200, 'ban answered');
  await mona.locator('#reporter-banned').waitFor();
  check((await mona.textContent('#reporter')).includes('floods with invented sightings'),
    'the reason is shown');
  const unban = mona.waitForResponse((r) => r.url().endsWith('/unban'));
  await mona.click('#unban');
  check((await unban).status() === 200, 'unban answered');
  await mona.locator('#reporter-banned').waitFor({ state: 'detached' });
  await mona.locator('#ban-form').waitFor();
  await mona.click('#reporter-recent > li:first-child button');
  await mona.waitForFunction(() => document.querySelector('#report-ref')?.textContent === 'TL-FILL058');
  check(true, 'a report from the reporter\'s history opens');
  await noProblems(mona, 'mona');

  step('an exporter gets the feeds, not the queue');
  const xena = await newPage(browser, 'en-US');
  await xena.goto(`${base}/`);
  await xena.fill('#token', tokens.xena);
  await xena.click('#login-submit');
  await xena.locator('#export-pane').waitFor({ state: 'visible' });
  check(await xena.locator('#console').isHidden(), 'no queue for an exporter');
  const feed = await xena.evaluate(async () => {
    const r = await fetch(document.getElementById('export-day').href);
    return { status: r.status, body: await r.json() };
  });
  check(feed.status === 200 && feed.body.type === 'FeatureCollection', `feed ${feed.status}`);
  const coords = feed.body.features.map((f) => f.geometry.coordinates);
  // (exporters may be configured to see points rounded: within 0.01°)
  check(coords.length === 1 && Math.abs(coords[0][0] - photo.lon) <= 0.006 &&
    Math.abs(coords[0][1] - photo.lat) <= 0.006, `the confirmed report in the feed: ${JSON.stringify(coords)}`);
  await noProblems(xena, 'xena');

  await noProblems(page, 'alice');
  await noProblems(bob, 'bob');
}

// Starts `tipline web` on an ephemeral port with extra environment; resolves when it
// answers GET / (returning that response too).
async function startWeb(dbEnv, extra, name) {
  const port = await freePort();
  const log = path.join(ART, `${name}.log`);
  const logFd = fs.openSync(log, 'w');
  const server = spawn(TIPLINE, ['web'], {
    env: { ...dbEnv, ...extra, TIPLINE_HTTP_LISTEN: `127.0.0.1:${port}`, TIPLINE_LOG_LEVEL: 'info' },
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  const web = { server, log, base: `http://127.0.0.1:${port}` };
  web.root = await waitHttp(`${web.base}/`, server, log).catch((e) => {
    server.kill('SIGTERM');
    throw e;
  });
  return web;
}

// A deployment with a tile server: the console takes tile_url from /api/config and the
// CSP names its host; when the tiles cannot be had, the borders are drawn instead.
async function tiles(browser, dbEnv, tokens, servers) {
  step('tile_url: tiles requested from the configured server, borders when they fail');
  const tileUrl = 'https://127.0.0.1:9/{z}/{x}/{y}.png'; // nothing listens there
  const web = await startWeb(dbEnv, { TIPLINE_TILE_URL: tileUrl }, 'server-tiles');
  servers.push(web);
  const csp = web.root.headers.get('content-security-policy') || '';
  check(/img-src [^;]*https:\/\/127\.0\.0\.1:9/.test(csp), `CSP allows the tile host: ${csp}`);
  const page = await newPage(browser, 'en-US');
  await login(page, web.base, tokens.alice);
  await page.waitForFunction(() =>
    [...document.querySelectorAll('img.leaflet-tile')].some((i) => i.src.startsWith('https://127.0.0.1:9/')));
  check(true, 'tiles requested from tile_url');
  await page.waitForFunction(() => document.querySelectorAll('path.tl-border').length > 150);
  check(true, 'borders drawn when the tiles fail');
  const csp2 = await page.evaluate(() => window.__csp);
  check(csp2.length === 0, `no CSP violation for the tiles: ${csp2}`);
}

// Incidents: three reporters' bearings on one drone. The incidents list, the incident
// view (three independent reporters, the fused position) and its map (three bearing lines,
// the fused mark).
async function incidents(browser, base, seed, tokens, dbEnv) {
  step('incidents: the list, the view, bearing lines and the fused position on the map');
  const id = execFileSync(SEED, ['incident', seed.conninfo], { env: dbEnv, encoding: 'utf8' }).trim();
  const page = await newPage(browser, 'en-US');
  await login(page, base, tokens.alice);
  await page.click('#incidents-btn');
  const item = page.locator(`#incidents li[data-id="${id}"]`);
  await item.waitFor();
  check((await item.textContent()).includes('3 reporters'), 'the list shows three reporters');
  await item.click();
  await page.locator('#incident-title').waitFor();
  check((await page.textContent('#incident-title')) === `Incident #${id}`, 'incident view opened');
  check((await page.textContent('#incident-corroboration')) === '3', 'three independent reporters');
  check((await page.textContent('#incident-fused')).includes('(3 bearings)'), 'fused from three bearings');
  check((await page.locator('#incident-members li').count()) === 3, 'three members listed');
  await page.waitForFunction(() => document.querySelectorAll('path.tl-bearing-line').length === 3);
  check((await page.locator('.tl-marker-fused[data-fused]').count()) === 1, 'the fused position marked');
  check((await page.locator('path.tl-fused-area').count()) === 1, 'its uncertainty drawn');
  await page.screenshot({ path: path.join(ART, 'incident.png') });
  await page.close();
}

// The moderators' page: a held flood campaign with its members and two reports held
// alone, one whose text hides a right-to-left override; the override is not shown (the
// raw text writes it out), the links are listed; one key releases the campaign into the
// queue, then the report with the override, another rejects the last; the released
// report reads the same in the console's report view. Asking the bots to reload the
// rules says none answered (no bot runs here). A server of its own: the pages the
// scenario left open hold most of the connections one client may have on the first.
async function moderation(browser, tokens, dbEnv, seed, servers) {
  step('moderation: held campaign and reports listed, display text, one-key release and reject');
  const campaign = execFileSync(SEED, ['mod', seed.conninfo], { env: dbEnv, encoding: 'utf8' }).trim();
  const web = await startWeb(dbEnv, {}, 'server-mod');
  servers.push(web);
  const base = web.base;
  const page = await newPage(browser, 'en-US');
  await login(page, base, tokens.mona);
  await page.goto(`${base}/static/mod.html`);
  const camp = page.locator('#mod-campaigns > li.mod-item');
  await camp.first().waitFor();
  check((await camp.count()) === 1, 'one held campaign');
  const line = await camp.first().locator('strong').textContent();
  check(line === `Campaign ${campaign}: 3 reports from 3 reporters`, `campaign line: ${line}`);
  check((await camp.first().locator('ul > li').count()) === 3, 'its three members');
  const held = page.locator('#mod-held > li.mod-item');
  check((await held.count()) === 2, 'two reports held alone');
  const hidden = held.filter({ hasText: 'TL-HELD01' });
  const shownText = 'Column near tsop bridge, see https://t.me/fake_news_ua and @kyiv_watch';
  const shown = await hidden.locator('p.text').textContent();
  check(shown === shownText, `display text: ${JSON.stringify(shown)}`);
  const links = await hidden.locator('ul.links li').allTextContents();
  check(JSON.stringify(links) === '["https://t.me/fake_news_ua","@kyiv_watch"]', `links: ${links}`);
  await hidden.locator('details.raw-text summary').click();
  const raw = await hidden.locator('details.raw-text pre').textContent();
  check(raw.includes('⟨U+202E⟩tsop⟨U+202C⟩') && !raw.includes('\u202e'), `raw text written out: ${raw}`);
  check((await held.filter({ hasText: 'TL-HELD02' }).locator('details').count()) === 0,
    'no raw text offered when it displays as it is');
  check((await page.locator('#mod-campaigns li.selected').count()) === 1, 'the campaign is selected');
  await page.screenshot({ path: path.join(ART, 'moderation.png') });

  // r on the campaign: its three reports enter the queue
  const rel = page.waitForResponse((r) => r.url().endsWith(`/api/mod/campaigns/${campaign}/release`));
  await page.keyboard.press('r');
  check((await rel).status() === 200, 'release answered');
  await page.waitForFunction(() => document.getElementById('mod-status').textContent === 'Released into the queue: 3');
  await page.waitForFunction(() => document.querySelectorAll('#mod-campaigns > li.mod-item').length === 0);
  check(true, 'the campaign left the list');
  const queued = await page.evaluate(async () => {
    const r = await fetch('/api/reports?limit=200');
    return (await r.json()).items.filter((x) => x.ref.startsWith('TL-CAMP')).map((x) => x.status);
  });
  check(JSON.stringify(queued) === '["new","new","new"]', `the members are in the queue: ${queued}`);

  // j to the report with the override, r: released; then x on the last one: rejected
  const refs = await held.locator('strong').allTextContents();
  for (let i = 0; i < refs.findIndex((x) => x.startsWith('TL-HELD01')); i++) await page.keyboard.press('j');
  check((await page.locator('#mod-held li.selected strong').textContent()).startsWith('TL-HELD01'),
    'the report with the override is selected');
  const rel1 = page.waitForResponse((r) => /\/api\/mod\/reports\/\d+\/release$/.test(r.url()));
  await page.keyboard.press('r');
  check((await rel1).status() === 200, 'release of the report answered');
  await page.waitForFunction(() => document.getElementById('mod-status').textContent === 'Released into the queue: 1');
  await page.waitForFunction(() => document.querySelectorAll('#mod-held > li.mod-item').length === 1);
  const rej = page.waitForResponse((r) => /\/api\/mod\/reports\/\d+\/reject$/.test(r.url()));
  await page.keyboard.press('x');
  check((await rej).status() === 200, 'reject answered');
  await page.waitForFunction(() => document.getElementById('mod-status').textContent === 'Rejected: 1');
  await page.waitForFunction(() => document.querySelectorAll('#mod-held > li.mod-item').length === 0);
  check(true, 'the held reports left the list');

  const rl = page.waitForResponse((r) => r.url().endsWith('/api/mod/rules/reload'));
  await page.click('#mod-reload');
  check((await rl).status() === 202, 'reload asked, no bot to answer');
  await page.waitForFunction(() => /^Request \d+ sent; no bot has answered yet\.$/.test(
    document.getElementById('mod-status').textContent));
  check((await page.textContent('#mod-processes')) === 'No bot has reported its rules yet.',
    'no bot process listed');

  // the released report in the console: the list and the report view show the text as
  // displayed, the links, and the raw text written out on demand
  await page.goto(`${base}/`);
  const item = page.locator('#queue > li[data-ref="TL-HELD01"]');
  await item.waitFor();
  check((await item.locator('p.snippet').textContent()) === shownText, 'the list shows the displayed text');
  await item.click();
  await page.waitForFunction(() => document.querySelector('#report-ref')?.textContent === 'TL-HELD01');
  check((await page.textContent('#report-text')) === shownText, 'the report view shows the displayed text');
  const vlinks = await page.locator('#report ul.links li').allTextContents();
  check(vlinks.length === 2 && vlinks[1] === '@kyiv_watch', `the report view lists the links: ${vlinks}`);
  await page.click('#report details.raw-text summary');
  check((await page.textContent('#report details.raw-text pre')).includes('⟨U+202E⟩tsop'),
    'the raw text, written out, in the report view');
  await page.screenshot({ path: path.join(ART, 'moderation-report.png') });
  await noProblems(page, 'mona (moderation)');
  await page.close();
}

async function main() {
  fs.rmSync(ART, { recursive: true, force: true }); // no stale screenshot of an earlier run
  fs.mkdirSync(ART, { recursive: true });
  if (RECORD) {
    fs.mkdirSync(path.dirname(RECORD), { recursive: true });
    fs.writeFileSync(RECORD, '');
  }
  step('seed a throwaway database');
  const seed = JSON.parse(execFileSync(SEED, ['create', 'tl_browser'], { encoding: 'utf8' }));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-browser-'));
  const secret = path.join(tmp, 'secret');
  // keygen also creates the identity key file (sealed chat ids): here, not the default path
  const keys = { TIPLINE_SECRET_FILE: secret, TIPLINE_IDENTITY_KEY_FILE: path.join(tmp, 'identity-keys') };
  execFileSync(TIPLINE, ['keygen', secret], { env: { ...env, ...keys } });
  const dbEnv = { ...env, TIPLINE_DATABASE_URL: seed.conninfo, ...keys };
  const tokens = {
    alice: addUser(dbEnv, 'alice', 'analyst'),
    bob: addUser(dbEnv, 'bob', 'analyst'),
    mona: addUser(dbEnv, 'mona', 'moderator'),
    xena: addUser(dbEnv, 'xena', 'exporter'),
  };
  execFileSync(TIPLINE, ['user', 'queue', 'bob', 'restricted'], { env: dbEnv });

  let browser = null;
  const servers = [];
  try {
    step('start tipline web on an ephemeral port');
    const web = await startWeb(dbEnv, {}, 'server');
    servers.push(web);
    const csp = web.root.headers.get('content-security-policy') || '';
    check(/default-src 'self'/.test(csp), `CSP header on the console: ${csp}`);
    browser = await chromium.launch({
      executablePath: env.TL_CHROMIUM || '/usr/bin/chromium',
      headless: true,
      // as root no sandbox; nothing that calls out (this machine's network is closed)
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--no-first-run'],
    });
    await scenario(browser, web.base, seed, tokens, dbEnv);
    await tiles(browser, dbEnv, tokens, servers);
    await incidents(browser, web.base, seed, tokens, dbEnv);
    await moderation(browser, tokens, dbEnv, seed, servers);
    await Promise.all([...recording]);
    console.log(`browser test: screenshots in ${ART}`);
    console.log(`${passed} passed, 0 failed`);
  } catch (e) {
    console.error(`browser test: FAILED: ${e.stack || e}`);
    if (browser) {
      let i = 0;
      for (const ctx of browser.contexts())
        for (const p of ctx.pages()) {
          await p.screenshot({ path: path.join(ART, `failure-${i++}.png`) }).catch(() => {});
          console.error(`page problems: ${(p.problems || []).join('; ') || 'none'}`);
        }
    }
    for (const w of servers)
      console.error(`${w.log}:\n${fs.readFileSync(w.log, 'utf8').split('\n').slice(-30).join('\n')}`);
    console.log(`${passed} passed, 1 failed`);
    process.exitCode = 1;
  } finally {
    if (browser) await browser.close().catch(() => {});
    for (const w of servers) w.server.kill('SIGTERM');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(`browser test: FAILED: ${e.stack || e}`);
    process.exitCode = 1;
  });
}
