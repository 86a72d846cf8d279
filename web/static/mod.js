// web/static/mod.js - the moderators' page (mod.html): held campaigns with their members,
// held and flagged reports (their text as displayed, the links in it, the raw text on
// demand), the rules file with hits and what each bot process holds in force, and a
// button that asks the bots to reload their rules. One key releases (r) or rejects (x)
// the selected campaign or report; j / k move the selection. Every action goes through
// /api/mod/... and is audited by the server.

import { api, setCsrf } from './api.js';
import { h, textBlock, timeEl } from './dom.js';
import { pickLang, setLang, t, translateDom } from './i18n.js';

const $ = (id) => document.getElementById(id);
let items = []; // {kind: 'campaign' | 'report', id, el}
let sel = 0;

function status(text) {
  $('mod-status').textContent = text;
}

function select(i) {
  if (!items.length) return;
  sel = Math.max(0, Math.min(items.length - 1, i));
  items.forEach((it, k) => it.el.classList.toggle('selected', k === sel));
  items[sel].el.scrollIntoView({ block: 'nearest' });
}

async function act(it, action) {
  const path = it.kind === 'campaign' ? 'campaigns' : 'reports';
  try {
    const r = await api('POST', `/api/mod/${path}/${encodeURIComponent(it.id)}/${action}`);
    status(t(action === 'release' ? 'mod.released' : 'mod.rejected', { n: r.reports }));
    await load();
  } catch (e) {
    status(t('mod.failed', { message: e.message }));
  }
}

function buttons(it) {
  return [
    h('button', { type: 'button', onclick: () => act(it, 'release') }, t('mod.release')),
    h('button', { type: 'button', onclick: () => act(it, 'reject') }, t('mod.reject')),
  ];
}

async function load() {
  const [camps, held, rules] = await Promise.all([
    api('GET', '/api/mod/campaigns?status=held'),
    api('GET', '/api/mod/held?limit=200'),
    api('GET', '/api/mod/rules'),
  ]);
  items = [];
  const members = new Map();
  for (const r of held.items) {
    if (!r.campaign_id) continue;
    if (!members.has(r.campaign_id)) members.set(r.campaign_id, []);
    members.get(r.campaign_id).push(r);
  }
  const cl = $('mod-campaigns');
  cl.replaceChildren();
  for (const c of camps.items) {
    const it = { kind: 'campaign', id: c.id };
    const ms = (members.get(c.id) || []).slice(0, 20);
    it.el = h(
      'li',
      { class: 'mod-item' },
      h('strong', null, t('mod.campaign_line', { id: c.id, n: c.reports, reporters: c.reporters })),
      ' ',
      timeEl(c.last_at, true),
      h('p', null, c.sample || ''),
      h('ul', null, ms.map((m) => h('li', null, `${m.ref} · ${m.reporter} · ${m.text_display ?? m.text ?? ''}`))),
      buttons(it),
    );
    items.push(it);
    cl.append(it.el);
  }
  if (!camps.items.length) cl.append(h('li', null, t('mod.none')));
  const hl = $('mod-held');
  hl.replaceChildren();
  const alone = held.items.filter((r) => !r.campaign_id);
  for (const r of alone) {
    const it = { kind: 'report', id: r.id };
    it.el = h(
      'li',
      { class: 'mod-item' },
      h('strong', null, `${r.ref} · ${r.verdict}`),
      ` ${r.reasons.join(', ')} · ${r.reporter} `,
      timeEl(r.at, true),
      textBlock(r, null),
      buttons(it),
    );
    items.push(it);
    hl.append(it.el);
  }
  if (!alone.length) hl.append(h('li', null, t('mod.none')));
  $('mod-rules-error').textContent = rules.error ? t('mod.rules_error', { error: rules.error }) : '';
  const rl = $('mod-rules');
  rl.replaceChildren();
  for (const r of rules.rules)
    rl.append(
      h('li', null, `${r.action} ${r.reason} — ${t('mod.hits', { n: r.hits })} — `, h('code', null, r.pattern)),
    );
  if (!rules.rules.length) rl.append(h('li', null, t('mod.none')));
  const pl = $('mod-processes');
  pl.replaceChildren(...(rules.processes || []).map(processLine));
  if (!pl.children.length) pl.append(h('li', null, t('mod.no_bot')));
  select(sel);
}

// What one bot process holds: its rules in force and, when its last attempt was refused,
// where the file broke.
function processLine(p) {
  const held = t('mod.in_force', { process: p.process, n: p.rules });
  return h(
    'li',
    { dataset: { ok: String(p.ok) } },
    held,
    ' ',
    p.loaded_at ? timeEl(p.loaded_at, true) : '',
    p.ok ? '' : h('p', { class: 'refused' }, t('mod.refused', { line: p.line, column: p.column, error: p.error })),
  );
}

// Asks every running bot to reload its rules file and says what they answered.
async function reload() {
  try {
    const r = await api('POST', '/api/mod/rules/reload', { wait: 5 });
    if (!r.outcomes.length) status(t('mod.reload_asked', { id: r.id }));
    else {
      const bad = r.outcomes.find((o) => !o.ok);
      status(bad
        ? t('mod.refused', { line: bad.line, column: bad.column, error: bad.error })
        : t('mod.reloaded', { n: r.outcomes[r.outcomes.length - 1].rules }));
    }
    await load();
  } catch (e) {
    status(t('mod.failed', { message: e.message }));
  }
}

async function start() {
  const l = pickLang(localStorage.getItem('tipline.lang'), navigator.languages, 'uk');
  setLang(l);
  $('lang').value = document.documentElement.lang = l;
  translateDom(document);
  $('lang').addEventListener('change', (e) => {
    localStorage.setItem('tipline.lang', e.target.value);
    setLang(e.target.value);
    document.documentElement.lang = e.target.value;
    translateDom(document);
    load().catch((err) => status(t('mod.failed', { message: err.message })));
  });
  $('mod-reload').addEventListener('click', reload);
  try {
    const me = await api('GET', '/api/me');
    setCsrf(me.csrf);
    await load();
  } catch (e) {
    status(e.status === 401 ? t('mod.signin') : t('mod.failed', { message: e.message }));
  }
  document.addEventListener('keydown', (e) => {
    if (e.target.closest('input, select, textarea') || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'j') select(sel + 1);
    else if (e.key === 'k') select(sel - 1);
    else if (e.key === 'r' && items[sel]) act(items[sel], 'release');
    else if (e.key === 'x' && items[sel]) act(items[sel], 'reject');
  });
}

start();
