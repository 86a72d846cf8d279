// web/static/dom.js - building DOM from data (text nodes only, never HTML strings) and
// formatting times, coordinates and names in the current language.

import { lang, t } from './i18n.js';

// h('li', {class: 'x', dataset: {id: 1}, onclick: f}, child, 'text', ...): an element
// with attributes (event handlers for on*), children as nodes or text.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function fmtTime(iso) {
  if (!iso) return t('report.unknown');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(lang() === 'uk' ? 'uk-UA' : 'en-GB', {
    dateStyle: 'short',
    timeStyle: 'medium',
  }).format(d);
}

export function fmtAgo(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const s = Math.round((d.getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(lang(), { numeric: 'auto', style: 'short' });
  const a = Math.abs(s);
  if (a < 60) return rtf.format(s, 'second');
  if (a < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

export function timeEl(iso, withAgo) {
  return h('time', { datetime: iso || undefined, title: iso || undefined },
    fmtTime(iso), withAgo && iso ? ` (${fmtAgo(iso)})` : '');
}

export const fmtCoord = (x) => Number(x).toFixed(5);

// The raw text of a report made safe to look at: every control, bidi override, isolate
// or mark written out as ⟨U+XXXX⟩, so an analyst sees where the sender hid one and
// nothing turns the rest around.
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
export const visibleControls = (s) =>
  String(s).replace(HIDDEN, (c) => `⟨U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);

// A report's text as it is shown (text_display), the links found in it (as text, not
// links: they are what a moderator judges, not where to go), and the raw text with its
// hidden characters written out when it differs.
export function textBlock(r, id) {
  const shown = r.text_display ?? r.text;
  const links = r.links || [];
  return [
    h('p', { id, class: 'text' }, shown || t('item.no_text')),
    links.length
      ? h('ul', { class: 'links', dataset: { n: String(links.length) } },
        links.map((l) => h('li', null, h('code', null, l))))
      : '',
    r.text && shown !== r.text
      ? h('details', { class: 'raw-text' }, h('summary', null, t('text.raw')),
        h('pre', null, visibleControls(r.text)))
      : '',
  ];
}

// Great-circle distance in km (the photo's GPS against the report's point).
export function distanceKm(a, b) {
  const rad = Math.PI / 180;
  const dlat = (b.lat - a.lat) * rad;
  const dlon = (b.lon - a.lon) * rad;
  const s = Math.sin(dlat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dlon / 2) ** 2;
  return 6371.0088 * 2 * Math.asin(Math.min(1, Math.sqrt(s)));
}

// A translated name for a value the API returns (flag, category), or the value itself
// when this console has none (a deployment's own categories).
export function named(prefix, v) {
  const k = `${prefix}.${v}`;
  const s = t(k);
  return s === k ? v : s;
}
export const flagName = (f) => named('flag', f);
export const catName = (c) => (c ? named('cat', c) : t('item.uncategorised'));
