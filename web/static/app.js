// web/static/app.js - the analysts' console: its state and what the analyst does with
// it: sign-in, the filtered queue with keyset "load more" (the filters: filters.js; an
// entry: item.js), the report view (report.js), decisions under a lease, incidents, the
// map (map.js), what live updates (live.js) change, and the shortcuts' table (keys.js).
// Talks only to the JSON API of API.md; user data goes into the DOM as text nodes, never
// as HTML.

import { api, ApiError, query, setCsrf } from './api.js';
import { LANGS, lang, pickLang, setLang, t, translateDom } from './i18n.js';
import { catName, fmtAgo, h, named } from './dom.js';
import { filterParams, matchesFilter, statusFilter, wireFilters } from './filters.js';
import { QueueMap } from './map.js';
import { incidentNodes } from './incident.js';
import { itemNode, summaryOf } from './item.js';
import { keyHandler, renderKeys } from './keys.js';
import { openLive } from './live.js';
import { renderLock, reportNodes } from './report.js';

const PAGE = 50;
const RENEW_BEFORE_MS = 60_000; // renew a held lease when less than this is left
const LANG_KEY = 'tipline.lang';

const $ = (id) => document.getElementById(id);

const state = {
  me: null, // {account, role}
  config: { tile_url: '', lang_default: '' },
  categories: [], // ids from GET /api/categories
  items: [], // summaries in list order
  next: null, // keyset cursor of the next page
  seq: 0, // guards against out-of-order list responses
  selectedId: null,
  report: null, // the open report (full)
  incident: null, // the open incident (full), shown instead of a report
  held: null, // id of the report whose lease this console holds
  fresh: new Set(), // ids that arrived live, highlighted until seen
  map: null,
  events: null, // the live updates (live.js)
  renewTimer: null,
};

// The shortcuts: one table drives both the key handler and the help dialog.
const SHORTCUTS = [
  { key: 'c', help: 'key.c', run: () => claimNext() },
  // y and r decide and take the next report in the same request (decide, then next)
  { key: 'y', help: 'key.y', run: () => decide('confirmed', { next: true }) },
  { key: 'r', help: 'key.r', run: () => decide('rejected', { next: true }) },
  { key: 'n', help: 'key.n', run: () => step(1) },
  { key: 'p', help: 'key.p', run: () => step(-1) },
  { key: 'h', help: 'key.h', run: () => state.report && loadHistory(state.report) },
  { key: '?', help: 'key.help', run: () => toggleHelp() },
  { key: 'Esc', help: 'key.esc', run: null },
];

let toastTimer = null;
function toast(msg, kind) {
  const el = $('toast');
  el.textContent = msg;
  el.className = kind || 'info';
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 5000);
}

// One way to report an API failure; a lost session sends the user back to sign-in.
function fail(e) {
  if (e instanceof ApiError) {
    if (e.status === 401) {
      toast(t('error.session'), 'error');
      leaveConsole();
      return;
    }
    if (e.status === 429) {
      toast(t('error.rate_limited', { n: e.retryAfter || '?' }), 'error');
      return;
    }
    if (e.status === 409) {
      toast(t('error.conflict', { message: e.message }), 'error');
      return;
    }
    toast(t('error.generic', { message: `${e.code}: ${e.message}` }), 'error');
    return;
  }
  toast(t('error.generic', { message: e && e.message ? e.message : String(e) }), 'error');
}

/* ---------- language ---------- */

function applyLang(l, save) {
  setLang(l);
  document.documentElement.lang = lang();
  $('lang').value = lang();
  if (save) localStorage.setItem(LANG_KEY, lang());
  translateDom(document);
  document.title = t('app.title');
  renderHelp();
  if (state.me) {
    fillCategories();
    fillQueues();
    if (state.map) state.map.relabel();
    renderWho();
    renderLive(!!state.events && state.events.isOpen());
    renderQueue();
    renderReport();
  }
}

/* ---------- sign-in ---------- */

async function login(ev) {
  ev.preventDefault();
  const err = $('login-error');
  err.hidden = true;
  $('login-submit').disabled = true;
  try {
    const me = await api('POST', '/api/login', { token: $('token').value.trim() });
    $('token').value = '';
    await enterConsole(me);
  } catch (e) {
    err.textContent = t('login.failed', { message: e && e.message ? e.message : String(e) });
    err.hidden = false;
  } finally {
    $('login-submit').disabled = false;
  }
}

async function logout() {
  try {
    await api('POST', '/api/logout');
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) fail(e);
  }
  leaveConsole();
}

function leaveConsole() {
  if (state.events) state.events.close();
  state.events = null;
  clearInterval(state.renewTimer);
  setCsrf(null);
  Object.assign(state, { me: null, items: [], next: null, report: null, held: null, selectedId: null });
  // nothing of the last session stays in the page, hidden or not
  state.fresh.clear();
  $('queue').replaceChildren();
  renderReport();
  if (state.map) {
    state.map.setReports([], null);
    state.map.showReport(null);
  }
  $('console').hidden = true;
  $('export-pane').hidden = true;
  for (const id of ['who', 'live', 'logout', 'help-btn']) $(id).hidden = true;
  $('login').hidden = false;
  $('token').focus();
}

function renderWho() {
  $('who').textContent = t('who', { account: state.me.account, role: t(`role.${state.me.role}`) });
}

async function enterConsole(me) {
  state.me = { account: me.account, role: me.role, queues: me.queues };
  setCsrf(me.csrf);
  if (!Array.isArray(state.me.queues)) {
    // the login answer may not list the queues; /api/me does
    const again = await api('GET', '/api/me');
    state.me.queues = Array.isArray(again.queues) ? again.queues : [];
  }
  try {
    state.config = { ...state.config, ...(await api('GET', '/api/config')) };
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) throw e;
  }
  if (!localStorage.getItem(LANG_KEY) && !browserLangMatches() && state.config.lang_default)
    applyLang(pickLang(null, [], state.config.lang_default), false);
  $('login').hidden = true;
  if (state.me.role === 'exporter') {
    // exporters read the feeds, not the queue
    $('export-day').href = `/api/export.geojson${query({ since: new Date(Date.now() - 86400_000).toISOString() })}`;
    $('export-pane').hidden = false;
    for (const id of ['who', 'logout']) $(id).hidden = false;
    renderWho();
    return;
  }
  $('console').hidden = false;
  for (const id of ['who', 'live', 'logout', 'help-btn']) $(id).hidden = false;
  $('claim').hidden = !['analyst', 'admin'].includes(state.me.role);
  $('claim-queue').hidden = $('claim').hidden || state.me.queues.length < 2;
  fillQueues();
  renderWho();
  await loadCategories();
  if (!state.map) {
    state.map = new QueueMap($('map'), {
      tileUrl: state.config.tile_url,
      onSelect: (id) => openReport(id),
      label: t,
    });
  } else {
    state.map.resize();
  }
  connectEvents();
  clearInterval(state.renewTimer);
  state.renewTimer = setInterval(() => {
    renewIfDue();
    refreshAges();
  }, 15_000);
  await loadQueue(false);
}

function browserLangMatches() {
  return (navigator.languages || []).some((l) => LANGS.includes(String(l).toLowerCase().split('-')[0]));
}

async function loadCategories() {
  try {
    const { categories } = await api('GET', '/api/categories');
    state.categories = (categories || []).map((c) => c.id);
    fillCategories();
  } catch (e) {
    fail(e);
  }
}

// The category filter's options in the current language, keeping the selection.
function fillCategories() {
  const sel = $('f-category');
  const keep = sel.value;
  sel.replaceChildren(sel.options[0]);
  for (const id of state.categories) sel.append(h('option', { value: id }, catName(id)));
  sel.value = state.categories.includes(keep) ? keep : '';
}

// The queues this account may claim from, for "Claim next" (shown with more than one).
function fillQueues() {
  const sel = $('claim-queue');
  const keep = sel.value;
  sel.replaceChildren(sel.options[0]);
  for (const q of (state.me && state.me.queues) || []) sel.append(h('option', { value: q }, named('queue', q)));
  sel.value = state.me && state.me.queues.includes(keep) ? keep : '';
}

/* ---------- the queue ---------- */

async function loadQueue(append) {
  const seq = ++state.seq;
  const params = { ...filterParams(), limit: PAGE };
  if (append && state.next) params.after = state.next;
  $('more').disabled = true;
  try {
    const res = await api('GET', `/api/reports${query(params)}`);
    if (seq !== state.seq) return;
    const items = res.items || [];
    if (append) {
      const have = new Set(state.items.map((x) => x.id));
      state.items.push(...items.filter((x) => !have.has(x.id)));
    } else {
      state.items = items;
      state.fresh.clear();
      $('queue-new').hidden = true;
    }
    state.next = res.next || null;
    renderQueue();
  } catch (e) {
    if (seq === state.seq) fail(e);
  } finally {
    $('more').disabled = false;
  }
}

function renderQueue() {
  const list = $('queue');
  const ctx = { account: state.me && state.me.account, open: openReport, openIncident };
  const nodes = state.items.map((it) => itemNode(it, it.id === state.selectedId, state.fresh.has(it.id), ctx));
  list.replaceChildren(...nodes);
  $('queue-empty').hidden = state.items.length > 0;
  $('more').hidden = !state.next;
  $('queue-count').textContent = t('queue.shown', { n: state.items.length });
  if (state.fresh.size) {
    $('queue-new').textContent = t('queue.new_arrived', { n: state.fresh.size });
    $('queue-new').hidden = false;
  } else {
    $('queue-new').hidden = true;
  }
  if (state.map) state.map.setReports(state.items, state.me && state.me.account);
}

function replaceItem(id, patch) {
  const it = state.items.find((x) => x.id === id);
  if (it) Object.assign(it, patch);
  return it;
}

function dropItem(id) {
  state.items = state.items.filter((x) => x.id !== id);
  state.fresh.delete(id);
}

function step(dir) {
  if (!state.items.length) return;
  let i = state.items.findIndex((x) => x.id === state.selectedId);
  i = i < 0 ? (dir > 0 ? 0 : state.items.length - 1) : i + dir;
  if (i < 0 || i >= state.items.length) return;
  openReport(state.items[i].id);
  const li = $('queue').querySelector(`li[data-id="${state.items[i].id}"]`);
  if (li) li.scrollIntoView({ block: 'nearest' });
}

/* ---------- one report ---------- */

async function openReport(id) {
  state.selectedId = id;
  state.fresh.delete(id);
  renderQueue();
  try {
    const r = await api('GET', `/api/reports/${encodeURIComponent(id)}`);
    if (state.selectedId !== id) return;
    showReport(r);
  } catch (e) {
    fail(e);
  }
}

function showReport(r) {
  state.report = r;
  state.incident = null;
  state.selectedId = r.id;
  if (isMine(r) && r.status === 'new') state.held = r.id;
  renderReport();
  renderQueue();
  state.map.showReport(r);
}

function isMine(r) {
  return !!(r && state.me && r.claimed_by === state.me.account &&
    (!r.lease_until || new Date(r.lease_until).getTime() > Date.now()));
}

// Bans or unbans the open report's reporter (moderators): the server answers with the
// reporter as it now is.
async function moderate(r, action) {
  const body = {};
  const reason = action === 'ban' && $('ban-reason') ? $('ban-reason').value.trim() : '';
  if (reason) body.reason = reason;
  try {
    const res = await api('POST', `/api/reporters/${encodeURIComponent(r.reporter.pseudonym)}/${action}`, body);
    if (res && res.reporter) r.reporter = { ...r.reporter, ...res.reporter };
    if (state.report === r) renderReport();
    toast(t(action === 'ban' ? 'moderate.banned' : 'moderate.unbanned', { who: r.reporter.pseudonym }));
  } catch (e) {
    fail(e);
  }
}

// The reporter's other reports, which a claimed report comes without (the claim leaves
// them out: most decisions do without them): fetched when the analyst asks.
async function loadHistory(r) {
  if (!r.reporter || Array.isArray(r.reporter.recent)) return;
  try {
    const p = await api('GET', `/api/reports/${r.id}/reporter`);
    r.reporter = { ...r.reporter, recent: (p && p.recent) || [] };
    if (state.report === r) renderReport();
  } catch (e) {
    fail(e);
  }
}

function renderReport() {
  const r = state.report;
  const art = $('report');
  if (!r) {
    art.hidden = true;
    $('report-none').hidden = false;
    return;
  }
  const noteEl = $('note');
  const keptNote = noteEl && art.dataset.id === String(r.id) ? noteEl.value : '';
  art.replaceChildren(...reportNodes(r, {
    mine: isMine(r),
    role: state.me ? state.me.role : '',
    decide,
    release,
    ask: askFollowup,
    pick: pickPlace,
    moderate: (action) => moderate(r, action),
    open: (id) => openReport(id),
    history: () => loadHistory(r),
  }));
  art.dataset.id = String(r.id);
  if (r.incident_id && r.incident_corroboration > 1)
    art.prepend(h('p', { class: 'incident-link' }, h('button', {
      type: 'button', id: 'open-incident', class: 'badge incident', onclick: () => openIncident(r.incident_id),
    }, t('incident.title', { id: r.incident_id }), ' · ', t('incident.badge', { n: r.incident_corroboration }))));
  if (keptNote && $('note')) $('note').value = keptNote;
  art.hidden = false;
  $('report-none').hidden = true;
}

/* ---------- incidents ---------- */

async function loadIncidents() {
  const list = $('incidents');
  if (!list.hidden) {
    list.hidden = true;
    return;
  }
  try {
    const res = await api('GET', `/api/incidents${query({ min_corroboration: 2, limit: 50 })}`);
    const items = res.incidents.map((inc) => h('li', {
      dataset: { id: inc.id },
      tabindex: 0,
      onclick: () => openIncident(inc.id),
      onkeydown: (e) => { if (e.key === 'Enter') openIncident(inc.id); },
    },
    h('strong', {}, t('incident.title', { id: inc.id })), ' ',
    h('span', { class: 'badge incident' }, t('incident.badge', { n: inc.corroboration })), ' ',
    inc.categories.map((c) => catName(c)).join(', '), ' ',
    h('time', { datetime: inc.last_seen }, fmtAgo(inc.last_seen))));
    list.replaceChildren(...(items.length ? items : [h('li', { class: 'muted' }, t('incident.none'))]));
    list.hidden = false;
  } catch (e) {
    fail(e);
  }
}

async function openIncident(id) {
  try {
    showIncident(await api('GET', `/api/incidents/${encodeURIComponent(id)}`));
  } catch (e) {
    fail(e);
  }
}

function showIncident(inc) {
  state.incident = inc;
  state.report = null;
  state.selectedId = null;
  const art = $('report');
  art.replaceChildren(...incidentNodes(inc, {
    role: state.me ? state.me.role : '',
    open: (rid) => openReport(rid),
    split: (ref) => splitReport(ref),
    merge: (other) => mergeIncident(inc.id, other),
  }));
  art.dataset.id = `incident-${inc.id}`;
  art.hidden = false;
  $('report-none').hidden = true;
  renderQueue();
  state.map.showIncident(inc);
}

async function mergeIncident(id, other) {
  try {
    showIncident(await api('POST', `/api/incidents/${id}/merge`, { other }));
    toast(t('incident.merged', { id, other }));
  } catch (e) {
    fail(e);
  }
}

async function splitReport(ref) {
  try {
    const inc = await api('POST', `/api/reports/${encodeURIComponent(ref)}/split`);
    toast(t('incident.split_done', { ref, id: inc.id }));
    showIncident(inc);
  } catch (e) {
    fail(e);
  }
}

/* ---------- actions ---------- */

async function claimNext() {
  try {
    const queue = $('claim-queue').value;
    const res = await api('POST', '/api/queue/claim', queue ? { queue } : {});
    showClaimed(res && res.report);
  } catch (e) {
    fail(e);
  }
}

// A report just claimed for us (Claim next, or the next of "decide, then next"), or
// null when nothing was left to claim.
function showClaimed(r) {
  if (!r) {
    toast(t('queue.nothing_to_claim'));
    return;
  }
  state.held = r.id;
  const it = replaceItem(r.id, summaryOf(r));
  if (!it && matchesFilter(r.status, r.claimed_by)) state.items.unshift(summaryOf(r));
  showReport(r);
  const li = $('queue').querySelector(`li[data-id="${r.id}"]`);
  if (li) li.scrollIntoView({ block: 'nearest' });
}

// opts.next: also claim the next report in the same request (the server decides, then
// claims, in one call) and show it.
async function decide(status, opts = {}) {
  const r = state.report;
  if (!r || !isMine(r)) {
    toast(t('report.lock.need'));
    return;
  }
  const body = { status, note: ($('note') && $('note').value.trim()) || '' };
  try {
    if (status === 'duplicate') {
      body.duplicate_of = await duplicateTarget(($('dup-of') && $('dup-of').value.trim()) || '');
      if (!body.duplicate_of) {
        toast(t('decide.need_dup'), 'error');
        $('dup-of').focus();
        return;
      }
    }
    if (opts.next) {
      body.next = true;
      const queue = $('claim-queue').value;
      if (queue) body.queue = queue;
    }
    // The open report is already here: the answer carries what the decision changed
    // (with next, always, beside the next report).
    const res = await api('POST', `/api/reports/${r.id}/decide`, body,
      opts.next ? {} : { Prefer: 'return=minimal' });
    const updated = withDecision(r, opts.next ? res.decision : res);
    state.held = null;
    afterDecision(updated);
    toast(t('decide.done', { ref: updated.ref, status: t(`status.${updated.status}`) }));
    if (opts.next) {
      if (res.next) showClaimed(res.next);
      else toast(t('decide.done_none_left', { ref: updated.ref, status: t(`status.${updated.status}`) }));
    }
  } catch (e) {
    fail(e);
    if (e instanceof ApiError && e.status === 409) reloadReport(r.id);
  }
}

// The id of the report this one duplicates, from its number or its public ref.
async function duplicateTarget(v) {
  if (/^\d+$/.test(v)) return Number(v);
  if (!/^[A-Za-z0-9-]{3,32}$/.test(v)) return 0;
  const other = await api('GET', `/api/reports/${encodeURIComponent(v)}`);
  return other && other.id;
}

// The report r with a decision's minimal answer (Prefer: return=minimal) folded in: its
// fields, and the reporter's counters over the history r already has.
function withDecision(r, changed) {
  const updated = { ...r, ...changed };
  if (r.reporter && changed.reporter) updated.reporter = { ...r.reporter, ...changed.reporter };
  return updated;
}

function afterDecision(updated) {
  if (matchesFilter(updated.status, updated.claimed_by)) replaceItem(updated.id, summaryOf(updated));
  else dropItem(updated.id);
  if (state.report && state.report.id === updated.id) {
    state.report = updated;
    renderReport();
    state.map.showReport(updated);
  }
  renderQueue();
}

async function release() {
  const r = state.report;
  if (!r) return;
  try {
    await api('POST', `/api/reports/${r.id}/release`);
    state.held = null;
    r.claimed_by = null;
    r.lease_until = null;
    replaceItem(r.id, { claimed_by: null, lease_until: null });
    renderReport();
    renderQueue();
    toast(t('lease.released', { ref: r.ref }));
  } catch (e) {
    fail(e);
  }
}

async function reloadReport(id) {
  try {
    const r = await api('GET', `/api/reports/${id}`);
    if (state.report && state.report.id === id) showReport(r);
  } catch (e) {
    fail(e);
  }
}

async function askFollowup(ev) {
  ev.preventDefault();
  const r = state.report;
  const q = $('followup-q').value.trim();
  if (!r || !q) return;
  try {
    const res = await api('POST', `/api/reports/${r.id}/followup`, { question: q });
    r.followups = [...(r.followups || []), res.followup];
    renderReport();
    toast(t('followup.sent'));
  } catch (e) {
    fail(e);
  }
}

// The analyst says which of the villages sharing a name the report meant.
async function pickPlace(index) {
  const r = state.report;
  const c = r && Array.isArray(r.place_candidates) ? r.place_candidates[index] : null;
  if (!c) return;
  try {
    const res = await api('POST', `/api/reports/${r.id}/place`, { candidate: index });
    state.report = res;
    replaceItem(r.id, { flags: res.flags, point: res.point, point_source: res.point_source });
    renderReport();
    toast(t('places.picked', { name: c.oblast ? `${c.name}, ${c.oblast}` : c.name }));
  } catch (e) {
    fail(e);
  }
}

// Keeps a held lease alive while its report is open here.
async function renewIfDue() {
  const r = state.report;
  if (!state.held || !r || r.id !== state.held || !r.lease_until) return;
  if (new Date(r.lease_until).getTime() - Date.now() > RENEW_BEFORE_MS) return;
  try {
    const res = await api('POST', `/api/reports/${r.id}/renew`);
    r.lease_until = res.lease_until;
    replaceItem(r.id, { lease_until: res.lease_until });
    const lock = $('lock');
    if (lock) lock.replaceWith(renderLock(r, { mine: true }));
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) {
      state.held = null;
      toast(t('lease.lost', { ref: r.ref }), 'error');
      reloadReport(r.id);
    } else {
      fail(e);
    }
  }
}

// The list's "5 min ago" labels move on with the clock.
function refreshAges() {
  for (const el of $('queue').querySelectorAll('time.ago')) el.textContent = fmtAgo(el.dateTime);
}

/* ---------- live updates ---------- */

function renderLive(on) {
  const el = $('live');
  el.textContent = on ? t('live.on') : t('live.off');
  el.className = on ? 'live on' : 'live off';
}

function connectEvents() {
  if (state.events) state.events.close();
  const live = openLive({
    status: renderLive,
    report: scheduleFreshLoad,
    resync: scheduleFreshLoad,
    claim: onClaimChange,
    release: (id) => onClaimChange(id, null),
    // a follow-up relayed, refused or answered: the open report shows it
    followup: (d) => {
      const r = state.report;
      if (!r || r.id !== d.id) return;
      reloadReport(d.id);
      if (d.answered) toast(t('followup.answered', { ref: r.ref }));
    },
    decide: (d) => {
      onDecided(d);
      if (state.map) state.map.refreshOverview();
    },
    // the server refused the stream: find out whether the session ended
    closed: () => {
      if (state.events === live) api('GET', '/api/me').then(() => setTimeout(() => state.me && connectEvents(), 3000), fail);
    },
  });
  state.events = live;
}

function onClaimChange(id, who) {
  const patch = who ? { claimed_by: who } : { claimed_by: null, lease_until: null };
  const it = replaceItem(id, patch);
  const r = state.report;
  if (r && r.id === id && r.claimed_by !== who) {
    // someone else's claim, or a release: the view's lock line and actions follow
    Object.assign(r, patch);
    if (who) r.lease_until = null;
    if (state.held === id) state.held = null;
    renderReport();
  }
  if (it) {
    if (!matchesFilter(it.status, it.claimed_by) && id !== state.held) dropItem(id);
    renderQueue();
  } else if (['claimed', 'unclaimed'].includes(statusFilter()) && matchesFilter('new', who)) {
    scheduleFreshLoad(); // it now belongs to this list: claimed, or released to unclaimed
  }
}

function onDecided(d) {
  const it = state.items.find((x) => x.id === d.id);
  if (it) {
    if (matchesFilter(d.status, d.claimed_by)) Object.assign(it, { status: d.status, claimed_by: d.claimed_by ?? null });
    else dropItem(d.id);
    renderQueue();
  }
  const r = state.report;
  if (r && r.id === d.id && r.status !== d.status) reloadReport(d.id);
}

// New reports: fetch the first page under the current filters and put the ones not yet
// listed on top (the server applies the filters; events say only that something arrived).
let freshTimer = null;
function scheduleFreshLoad() {
  clearTimeout(freshTimer);
  freshTimer = setTimeout(loadFresh, 250);
}

async function loadFresh() {
  const seq = state.seq;
  try {
    const res = await api('GET', `/api/reports${query({ ...filterParams(), limit: PAGE })}`);
    if (seq !== state.seq) return;
    const have = new Set(state.items.map((x) => x.id));
    const added = (res.items || []).filter((x) => !have.has(x.id));
    if (!added.length) return;
    for (const x of added) state.fresh.add(x.id);
    if (added.length === res.items.length && res.next) {
      // a whole page arrived: there may be more between it and what is listed, so the
      // list starts again from the server's first page ("Load more" brings the rest)
      state.items = res.items;
      state.next = res.next;
      renderQueue();
      return;
    }
    // in the server's order (received_at, id descending): a released report goes back
    // where it was, a new one on top
    const key = (x) => [Date.parse(x.received_at) || 0, x.id];
    state.items = [...added, ...state.items].sort((a, b) => {
      const [ta, ia] = key(a);
      const [tb, ib] = key(b);
      return tb - ta || ib - ia;
    });
    renderQueue();
  } catch (e) {
    fail(e);
  }
}

/* ---------- keyboard and help ---------- */

function renderHelp() {
  renderKeys($('help-keys'), SHORTCUTS);
}

function toggleHelp() {
  const d = $('help');
  if (d.open) d.close();
  else d.showModal();
}

/* ---------- start ---------- */

function wire() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('help-btn').addEventListener('click', toggleHelp);
  $('lang').addEventListener('change', (e) => applyLang(e.target.value, true));
  $('claim').addEventListener('click', claimNext);
  $('more').addEventListener('click', () => loadQueue(true));
  $('incidents-btn').addEventListener('click', loadIncidents);
  wireFilters(() => loadQueue(false), () => state.map.bbox());
  document.addEventListener('keydown', keyHandler(SHORTCUTS, () => !!state.me, () => $('help').open));
  window.addEventListener('resize', () => state.map && state.map.resize());
}

async function start() {
  wire();
  applyLang(pickLang(localStorage.getItem(LANG_KEY), navigator.languages, 'uk'), false);
  try {
    const me = await api('GET', '/api/me');
    await enterConsole(me);
  } catch (e) {
    if (!(e instanceof ApiError && (e.status === 401 || e.status === 403))) fail(e);
    leaveConsole();
  }
}

start();
