// tests/browser/static.test.mjs - checks on the console's files that need no browser:
// every string the code asks for exists in both languages with the same placeholders,
// and the page keeps to Content-Security-Policy default-src 'self' (no inline script or
// style, no event-handler attributes, nothing loaded from another origin).
// Run: node --test tests/browser/static.test.mjs (ctest: test_console_static, label unit).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const staticDir = path.resolve(here, '../../web/static');
const read = (f) => fs.readFileSync(path.join(staticDir, f), 'utf8');
const modules = fs.readdirSync(staticDir).filter((f) => f.endsWith('.js'));
const { STRINGS, LANGS, pickLang, setLang, t } = await import(
  pathToFileURL(path.join(staticDir, 'i18n.js')).href
);

const placeholders = (v) =>
  [...new Set((typeof v === 'string' ? v : Object.values(v).join(' ')).match(/\{\w+\}/g) || [])].sort();

test('test_console_i18n_same_keys_in_both_languages', () => {
  assert.deepEqual(LANGS, ['uk', 'en']);
  assert.deepEqual(Object.keys(STRINGS.uk).sort(), Object.keys(STRINGS.en).sort());
  for (const k of Object.keys(STRINGS.en)) {
    assert.deepEqual(placeholders(STRINGS.uk[k]), placeholders(STRINGS.en[k]), `placeholders of ${k}`);
    if (typeof STRINGS.en[k] === 'object') {
      assert.ok(STRINGS.en[k].other && STRINGS.uk[k].other, `${k} has an "other" form`);
      for (const form of ['one', 'few', 'many']) assert.ok(STRINGS.uk[k][form], `${k}: uk ${form}`);
    }
  }
});

test('test_console_i18n_every_key_used_exists', () => {
  const code = modules.filter((f) => f !== 'i18n.js').map(read).join('\n');
  const html = read('index.html');
  const used = new Set([
    ...[...code.matchAll(/\bt\('([a-z_.0-9]+)'/g)].map((m) => m[1]),
    ...[...code.matchAll(/label\('([a-z_.0-9]+)'/g)].map((m) => m[1]),
    ...[...code.matchAll(/help: '([a-z_.0-9]+)'/g)].map((m) => m[1]),
    ...[...html.matchAll(/data-i18n(?:-placeholder|-title|-aria)?="([^"]+)"/g)].map((m) => m[1]),
  ]);
  assert.ok(used.size > 60, `found ${used.size} keys in use`);
  for (const k of used) assert.ok(k in STRINGS.en, `missing key ${k}`);
  // keys built at run time from values the API returns (API.md)
  const dynamic = {
    status: ['new', 'confirmed', 'rejected', 'duplicate', 'needs_info', 'escalated'],
    decide: ['confirmed', 'rejected', 'duplicate', 'needs_info', 'escalated'],
    role: ['analyst', 'moderator', 'exporter', 'admin'],
    source: ['telegram_location', 'venue', 'live_location', 'photo_exif', 'text'],
    flag: ['outside_area', 'point_invalid', 'place_ambiguous', 'location_disagrees', 'photo_missing'],
    cat: [],
    queue: ['general', 'restricted'],
  };
  // categories: the queues' routing table (migrations) and the bot's category buttons
  const root = path.resolve(here, '../..');
  const migDir = path.join(root, 'storage/migrations');
  for (const f of fs.readdirSync(migDir).filter((x) => x.endsWith('.sql'))) {
    const sql = fs.readFileSync(path.join(migDir, f), 'utf8');
    const ins = sql.match(/INSERT INTO category_queue[^;]*;/g) || [];
    for (const m of ins.join('\n').matchAll(/\('([a-z_]+)',\s*'[a-z_]+'/g)) dynamic.cat.push(m[1]);
  }
  const botCatalog = path.join(root, 'handlers/i18n/en.txt');
  if (fs.existsSync(botCatalog))
    for (const m of fs.readFileSync(botCatalog, 'utf8').matchAll(/^cat_([a-z_]+) =/gm)) dynamic.cat.push(m[1]);
  assert.ok(dynamic.cat.includes('drones'), `categories found: ${dynamic.cat}`);
  for (const [prefix, values] of Object.entries(dynamic))
    for (const v of values) assert.ok(`${prefix}.${v}` in STRINGS.uk, `missing ${prefix}.${v}`);
});

test('test_console_i18n_plurals_and_parameters', () => {
  setLang('uk');
  assert.equal(t('queue.new_arrived', { n: 1 }), '1 нове повідомлення');
  assert.equal(t('queue.new_arrived', { n: 3 }), '3 нові повідомлення');
  assert.equal(t('queue.new_arrived', { n: 5 }), '5 нових повідомлень');
  assert.equal(t('item.held_by', { who: 'bob' }), 'у роботі: bob');
  setLang('en');
  assert.equal(t('queue.new_arrived', { n: 1 }), '1 new report');
  assert.equal(t('queue.new_arrived', { n: 2 }), '2 new reports');
  assert.equal(t('no.such.key'), 'no.such.key');
  assert.equal(pickLang(null, ['de-DE', 'uk-UA', 'en'], 'en'), 'uk');
  assert.equal(pickLang('en', ['uk-UA'], 'uk'), 'en');
  assert.equal(pickLang(null, ['de-DE'], 'en'), 'en');
});

test('test_console_static_keeps_to_csp_self', () => {
  const html = read('index.html');
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(m[1], /\bsrc="\/(static|vendor)\//, `script from this origin: ${m[0]}`);
    assert.equal(m[2].trim(), '', 'no inline script');
  }
  assert.doesNotMatch(html, /<style\b/i, 'no <style> element');
  assert.doesNotMatch(html, /\sstyle=/i, 'no style attribute');
  assert.doesNotMatch(html, /\son[a-z]+=/i, 'no event-handler attribute');
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, 'nothing from another origin');
  assert.ok(modules.length >= 6, `modules: ${modules}`);
  const code = modules.map(read).join('\n');
  assert.doesNotMatch(code, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, 'no HTML from strings');
  assert.doesNotMatch(code, /setAttribute\('style'|\beval\(|new Function\(/, 'nothing CSP refuses');
  assert.doesNotMatch(code, /https?:\/\//, 'no URL of another origin in the code');
  const css = read('app.css');
  assert.doesNotMatch(css, /@import|url\((['"]?)https?:/, 'no stylesheet from elsewhere');
});

// The console's modules link: each name a module imports from another is one that module
// exports (a browser would refuse the whole console over one missing export).
test('test_console_modules_link', () => {
  const exportsOf = (src) => new Set([
    ...[...src.matchAll(/^export\s+(?:async\s+)?(?:function\*?|const|let|class)\s+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]),
    ...[...src.matchAll(/^export\s*\{([^}]*)\}/gm)].flatMap((m) =>
      m[1].split(',').map((x) => x.trim().split(/\s+as\s+/).pop()).filter(Boolean)),
  ]);
  let links = 0;
  for (const f of modules) {
    for (const m of read(f).matchAll(/^import\s*\{([^}]*)\}\s*from\s*'\.\/([^']+)'/gm)) {
      assert.ok(modules.includes(m[2]), `${f} imports ./${m[2]}, which is not in web/static`);
      const have = exportsOf(read(m[2]));
      for (const name of m[1].split(',').map((x) => x.trim().split(/\s+as\s+/)[0]).filter(Boolean)) {
        assert.ok(have.has(name), `${f} imports ${name} from ./${m[2]}, which does not export it`);
        links++;
      }
    }
  }
  assert.ok(links > 40, `${links} imported names checked`);
});
