// web/static/incident.js - one incident as DOM: how many independent people reported
// it, its span and categories, the target position fused from bearings, its similar
// photos side by side, its reports (open one; split one off), and a merge with another
// incident. Pure: what the buttons do comes in ctx = {role, open(id), split(ref),
// merge(other)}.

import { catName, fmtCoord, fmtTime, h } from './dom.js';
import { t } from './i18n.js';

function fact(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}

function fusedText(inc) {
  const f = inc.fused;
  if (f)
    return t('incident.fused_value', {
      lat: fmtCoord(f.lat), lon: fmtCoord(f.lon), m: Math.round(f.uncertainty_m), n: f.lines,
    });
  return inc.bearings && inc.bearings.length > 1 ? t('incident.fused_refused') : t('incident.fused_none');
}

function renderClusters(inc) {
  const sec = h('section', { id: 'incident-photos' }, h('h3', {}, t('incident.photos')));
  if (!inc.photo_clusters.length) {
    sec.append(h('p', { class: 'muted' }, t('incident.photos_none')));
    return sec;
  }
  for (const group of inc.photo_clusters)
    sec.append(h('div', { class: 'gallery cluster' }, group.map((id) =>
      h('figure', { class: 'photo' },
        h('a', { href: `/api/media/${id}`, target: '_blank', rel: 'noopener', title: t('report.media.open') },
          h('img', { src: `/api/media/${id}`, alt: t('incident.photo_alt', { id }), loading: 'lazy', dataset: { mediaId: id } }))))));
  return sec;
}

function renderMembers(inc, ctx) {
  const analyst = ctx.role === 'analyst' || ctx.role === 'admin';
  return h('section', { id: 'incident-members' },
    h('h3', {}, t('incident.members')),
    h('ol', { class: 'members' }, inc.members.map((m) => h('li', { dataset: { id: m.id, ref: m.ref } },
      h('button', { type: 'button', class: 'link', onclick: () => ctx.open(m.id) }, m.ref),
      ' ', catName(m.category), ' ',
      h('time', { datetime: m.received_at }, fmtTime(m.received_at)),
      m.bearing != null ? ` · ${Math.round(m.bearing)}°` : '',
      analyst && inc.members.length > 1
        ? h('button', { type: 'button', class: 'split', onclick: () => ctx.split(m.ref) }, t('incident.split'))
        : ''))));
}

function renderMerge(inc, ctx) {
  if (ctx.role !== 'analyst' && ctx.role !== 'admin') return '';
  return h('section', { id: 'incident-merge', class: 'actions' },
    h('label', { for: 'merge-other' }, t('incident.merge_id')),
    h('input', { id: 'merge-other', type: 'number', min: 1, step: 1, inputmode: 'numeric' }),
    h('button', {
      type: 'button',
      id: 'merge',
      onclick: () => {
        const v = Number(document.getElementById('merge-other').value);
        if (v > 0) ctx.merge(v);
      },
    }, t('incident.merge')));
}

export function incidentNodes(inc, ctx) {
  const cats = (inc.categories || []).map((c) => catName(c)).join(', ');
  return [
    h('header', { class: 'report-head' }, h('h2', { id: 'incident-title' }, t('incident.title', { id: inc.id }))),
    h('dl', { class: 'facts' },
      ...fact(t('incident.corroboration'), h('strong', { id: 'incident-corroboration' }, String(inc.corroboration))),
      ...fact(t('incident.reports'), String(inc.n_reports)),
      ...fact(t('incident.categories'), cats),
      ...fact(t('incident.span'), `${fmtTime(inc.first_seen)} – ${fmtTime(inc.last_seen)}`),
      ...fact(t('incident.centroid'), inc.centroid ? `${fmtCoord(inc.centroid.lat)}, ${fmtCoord(inc.centroid.lon)}` : '—'),
      ...fact(t('incident.fused'), h('span', { id: 'incident-fused' }, fusedText(inc)))),
    renderClusters(inc),
    renderMembers(inc, ctx),
    renderMerge(inc, ctx),
  ];
}
