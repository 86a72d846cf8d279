// web/static/item.js - one report in the queue's list: the summary kept of a full report,
// and its list entry as DOM (reference, category, priority, age, text, badges). Pure: ctx
// = {account (the analyst's, for "held by me"), open(id), openIncident(id)}.

import { catName, flagName, fmtAgo, fmtTime, h } from './dom.js';
import { t } from './i18n.js';

const SUMMARY_KEYS = ['id', 'ref', 'status', 'category', 'text', 'received_at', 'observed_at', 'point',
  'point_source', 'flags', 'n_media', 'corroborations', 'priority', 'claimed_by', 'lease_until',
  'incident_id', 'incident_corroboration', 'folds', 'seen_before_at'];

// The summary fields of a full report, for the list.
export function summaryOf(r) {
  const s = {};
  for (const k of SUMMARY_KEYS) s[k] = r[k];
  if (s.n_media === undefined && r.media) s.n_media = r.media.length;
  if (typeof s.text === 'string' && s.text.length > 200) s.text = s.text.slice(0, 200);
  return s;
}

function badges(it, ctx) {
  const out = [];
  out.push(h('span', { class: `badge st-${it.status}` }, t(`status.${it.status}`)));
  if (it.claimed_by) {
    const mine = it.claimed_by === ctx.account;
    out.push(h('span', { class: `badge held${mine ? ' mine' : ''}` },
      mine ? t('item.held_by_me') : t('item.held_by', { who: it.claimed_by })));
  }
  if (it.n_media > 0) out.push(h('span', { class: 'badge photo' }, t('item.photos', { n: it.n_media })));
  if (it.corroborations > 0)
    out.push(h('span', { class: 'badge corr' }, t('item.corr', { n: it.corroborations })));
  if (it.incident_id && it.incident_corroboration > 1)
    out.push(h('button', {
      type: 'button',
      class: 'badge incident',
      dataset: { incident: it.incident_id },
      onclick: (e) => { e.stopPropagation(); ctx.openIncident(it.incident_id); },
    }, t('incident.badge', { n: it.incident_corroboration })));
  if (!it.point) out.push(h('span', { class: 'badge nopoint' }, t('item.no_point')));
  for (const f of it.flags || []) {
    const seen = f === 'seen_before' && it.seen_before_at;
    out.push(h('span', { class: `badge flag${f === 'seen_before' ? ' seen' : ''}`,
      title: seen ? t('report.seen_before_hidden', { time: fmtTime(it.seen_before_at) }) : undefined }, flagName(f)));
  }
  return out;
}

// selected: the report open beside the list; fresh: arrived live and not yet seen
export function itemNode(it, selected, fresh, ctx) {
  return h('li', {
    class: `item${selected ? ' selected' : ''}${fresh ? ' fresh' : ''}`,
    dataset: { id: it.id, ref: it.ref },
    'aria-current': selected ? 'true' : undefined,
    tabindex: 0,
    onclick: () => ctx.open(it.id),
    onkeydown: (e) => { if (e.key === 'Enter') ctx.open(it.id); },
  },
  h('div', { class: 'line1' },
    h('strong', { class: 'ref' }, it.ref),
    h('span', { class: 'cat' }, catName(it.category)),
    h('span', { class: 'prio', title: t('item.priority', { n: it.priority }) }, String(it.priority ?? '')),
    h('time', { class: 'ago', datetime: it.received_at, title: fmtTime(it.received_at) }, fmtAgo(it.received_at))),
  h('p', { class: 'snippet' }, it.text || t('item.no_text')),
  h('div', { class: 'badges' }, badges(it, ctx)));
}
