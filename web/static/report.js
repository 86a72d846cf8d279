// web/static/report.js - one report as DOM: header, lease, decision buttons, text,
// photos (with each photo's GPS against the point), facts, flags, the decision, follow-ups
// and the reporter's pseudonymous history (with ban controls for moderators). Pure: what
// the buttons do comes in ctx = {mine, role, decide(status), release(), ask(ev),
// pick(index), moderate(action), open(id)}.

import { catName, distanceKm, flagName, fmtCoord, fmtTime, h, textBlock, timeEl } from './dom.js';
import { t } from './i18n.js';

function fact(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}

export function renderLock(r, ctx) {
  if (ctx.mine)
    return h('p', { id: 'lock', class: 'lock mine' }, t('report.lock.mine', { time: fmtTime(r.lease_until) }));
  if (r.claimed_by)
    return h('p', { id: 'lock', class: 'lock other' }, r.lease_until
      ? t('report.lock.other', { who: r.claimed_by, time: fmtTime(r.lease_until) })
      : t('item.held_by', { who: r.claimed_by }));
  return h('p', { id: 'lock', class: 'lock free' }, t('report.lock.free'));
}

function renderActions(r, ctx) {
  const wrap = h('section', { id: 'actions', class: 'actions' });
  if (!ctx.mine) {
    if (r.status === 'new') wrap.append(h('p', { class: 'muted' }, t('report.lock.need')));
    return wrap;
  }
  const btn = (status, key, cls) => h('button', {
    type: 'button', id: `decide-${status}`, class: cls, onclick: () => ctx.decide(status),
  }, t(`decide.${status}`), key ? ' ' : '', key ? h('kbd', {}, key) : '');
  wrap.append(
    h('label', { for: 'note' }, t('report.note')),
    h('textarea', { id: 'note', rows: 2, maxlength: 2000, placeholder: t('report.note_placeholder') }),
    h('div', { class: 'buttons' },
      btn('confirmed', 'y', 'good'),
      btn('rejected', 'r', 'bad'),
      btn('needs_info', '', ''),
      btn('escalated', '', ''),
      h('span', { class: 'dup' },
        h('label', { for: 'dup-of' }, t('decide.duplicate_of')),
        h('input', { id: 'dup-of', type: 'text', size: 12, spellcheck: 'false', placeholder: 'TL-…' }),
        btn('duplicate', '', '')),
      h('button', { type: 'button', id: 'release', onclick: () => ctx.release() }, t('decide.release'))));
  return wrap;
}

function renderLocation(r) {
  if (!r.point) return t('report.location.none');
  return [
    `${fmtCoord(r.point.lat)}, ${fmtCoord(r.point.lon)}`,
    r.point.rounded ? ` ${t('report.location.rounded')}` : '',
  ];
}

// A video's length as a player shows it: m:ss, or h:mm:ss from an hour.
function fmtDuration(ms) {
  const s = Math.round(ms / 1000);
  const two = (n) => String(n).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`
    : `${Math.floor(s / 60)}:${two(s % 60)}`;
}

function renderMedia(r) {
  const media = r.media || [];
  if (!media.length) return h('p', { class: 'muted' }, t('report.media.none'));
  return h('div', { class: 'gallery' }, media.map((m, i) => {
    const caption = [];
    if (m.width && m.height) caption.push(h('span', {}, t('report.media.size', { w: m.width, h: m.height })));
    if (m.duration_ms != null) caption.push(h('span', { class: 'duration' }, t('report.media.duration', { d: fmtDuration(m.duration_ms) })));
    if (m.taken_at) caption.push(h('span', {}, t('report.media.taken', { time: fmtTime(m.taken_at) })));
    if (m.photo_point) {
      const p = m.photo_point;
      caption.push(h('span', { class: 'gps' }, r.point
        ? t('report.media.gps', { lat: fmtCoord(p.lat), lon: fmtCoord(p.lon), km: distanceKm(r.point, p).toFixed(2) })
        : t('report.media.gps_only', { lat: fmtCoord(p.lat), lon: fmtCoord(p.lon) })));
    }
    const url = m.url || `/api/media/${m.id}`;
    const near = renderLinks(m);
    if (m.kind === 'video') {
      // served with Range support: the browser fetches what it plays, and seeks
      return h('figure', { class: 'photo video' },
        h('video', {
          src: url, controls: true, preload: 'metadata', playsInline: true, muted: true,
          width: m.width || undefined, height: m.height || undefined, dataset: { mediaId: m.id },
          title: t('report.media.alt', { n: i + 1, ref: r.ref }),
        }),
        h('figcaption', {}, caption), near);
    }
    const fig = h('figure', { class: 'photo' },
      h('a', { href: url, target: '_blank', rel: 'noopener', title: t('report.media.open') },
        h('img', {
          src: url, alt: t('report.media.alt', { n: i + 1, ref: r.ref }), loading: 'lazy',
          width: m.width || undefined, height: m.height || undefined, dataset: { mediaId: m.id },
        })),
      h('figcaption', {}, caption));
    // the photo and its near-duplicates side by side
    return near ? h('div', { class: 'linked-photos' }, fig, near) : fig;
  }));
}

// A photo's near-duplicates (links: closest first), each with its report and distance.
function renderLinks(m) {
  const links = m.links || [];
  if (!links.length) return '';
  return h('div', { class: 'near-photos', dataset: { mediaId: m.id } },
    h('h4', {}, t('report.media.links')),
    links.map((l) => h('figure', { class: 'photo near', dataset: { nearId: l.media_id } },
      h('a', { href: l.url, target: '_blank', rel: 'noopener', title: t('report.media.open') },
        h('img', { src: l.url, alt: l.ref, loading: 'lazy' })),
      h('figcaption', {}, t('report.media.link', { ref: l.ref, d: l.distance, time: fmtTime(l.at) })))));
}

function renderFollowups(r, ctx) {
  const fus = r.followups || [];
  const sec = h('section', { id: 'followups' }, h('h3', {}, t('followup.title')));
  if (!fus.length) sec.append(h('p', { class: 'muted' }, t('followup.none')));
  const ol = h('ol', { class: 'followups' });
  for (const f of fus) {
    let status;
    if (f.answer) status = h('blockquote', { class: 'answer' },
      h('div', { class: 'muted' }, t('followup.answer', { time: fmtTime(f.answered_at) })), f.answer);
    else if (f.relayed_at) status = h('p', { class: 'muted' }, t('followup.relayed', { time: fmtTime(f.relayed_at) }));
    else status = h('p', { class: 'muted' }, t('followup.pending'));
    ol.append(h('li', {},
      h('p', { class: 'question' }, f.question),
      h('p', { class: 'muted' }, t('followup.asked', { who: f.asked_by, time: fmtTime(f.asked_at) })),
      status));
  }
  if (fus.length) sec.append(ol);
  if (ctx.mine) {
    sec.append(h('form', { id: 'followup-form', onsubmit: (e) => ctx.ask(e) },
      h('label', { for: 'followup-q' }, t('followup.question')),
      h('textarea', { id: 'followup-q', rows: 2, maxlength: 2000, required: true, placeholder: t('followup.placeholder') }),
      h('button', { type: 'submit' }, t('followup.ask'))));
  }
  return sec;
}

// A place name several villages share and nothing in the report settled: every
// candidate, for the analyst to pick the one meant (the point moves there; audited).
function renderPlaces(r, ctx) {
  const cands = Array.isArray(r.place_candidates) ? r.place_candidates : [];
  if (!cands.length) return '';
  const can = ['analyst', 'admin'].includes(ctx.role);
  return h('section', { id: 'places' },
    h('h3', {}, t('places.title')),
    h('p', { class: 'muted' }, t('places.hint')),
    h('ol', { class: 'places' }, cands.map((c, i) => h('li', { dataset: { index: String(i) } },
      h('button', { type: 'button', id: `place-${i}`, disabled: !can, onclick: () => ctx.pick(i) },
        t('places.pick')),
      ` ${c.name}${c.district ? `, ${c.district}` : ''}${c.oblast ? `, ${c.oblast}` : ''} (${c.country}) `,
      h('span', { class: 'muted' }, `${fmtCoord(c.lat)}, ${fmtCoord(c.lon)}`)))));
}

function renderReporter(r, ctx) {
  const p = r.reporter;
  if (!p) return null;
  const sec = h('section', { id: 'reporter' },
    h('h3', {}, t('report.reporter')),
    h('dl', { class: 'facts' },
      fact(t('report.reporter.pseudonym'), h('code', {}, p.pseudonym),
        p.banned ? h('span', { class: 'badge bad', id: 'reporter-banned' }, t('report.reporter.banned')) : ''),
      p.banned && p.ban_reason ? fact(t('report.reporter.ban_reason'), p.ban_reason) : [],
      fact(t('report.reporter.reports'), String(p.n_reports ?? 0)),
      fact(t('report.reporter.confirmed'), String(p.n_confirmed ?? 0)),
      fact(t('report.reporter.rejected'), String(p.n_rejected ?? 0)),
      fact(t('report.reporter.reputation'), String(p.reputation ?? 0))));
  if (!Array.isArray(p.recent)) {
    sec.append(h('button', { type: 'button', id: 'reporter-history', class: 'link', onclick: () => ctx.history() },
      t('report.reporter.recent_show')));
  } else {
    sec.append(h('h4', {}, t('report.reporter.recent')));
    if (!p.recent.length) sec.append(h('p', { class: 'muted' }, t('report.reporter.recent_none')));
    else sec.append(h('ol', { id: 'reporter-recent' }, p.recent.map((o) => h('li', { dataset: { ref: o.ref } },
      h('button', { type: 'button', class: 'link', onclick: () => ctx.open(o.id) }, o.ref),
      h('span', { class: `badge st-${o.status}` }, t(`status.${o.status}`)),
      h('span', { class: 'muted' }, catName(o.category)),
      timeEl(o.received_at, false)))));
  }
  if (['moderator', 'admin'].includes(ctx.role)) {
    if (p.banned) {
      sec.append(h('button', { type: 'button', id: 'unban', onclick: () => ctx.moderate('unban') },
        t('moderate.unban')));
    } else {
      sec.append(h('form', { id: 'ban-form', class: 'inline', onsubmit: (e) => { e.preventDefault(); ctx.moderate('ban'); } },
        h('input', { id: 'ban-reason', type: 'text', maxlength: 500, placeholder: t('moderate.reason') }),
        h('button', { type: 'submit', class: 'bad' }, t('moderate.ban'))));
    }
  }
  return sec;
}

// The children of the report's <article>.
export function reportNodes(r, ctx) {
  const flags = r.flags || [];
  return [
    h('header', {},
      h('h2', { id: 'report-ref' }, r.ref),
      h('span', { id: 'report-status', class: `badge st-${r.status}`, dataset: { status: r.status } }, t(`status.${r.status}`)),
      h('span', { class: 'cat' }, catName(r.category)),
      r.seen_before ? h('span', { id: 'report-seen-before', class: 'badge flag seen' },
        r.seen_before.ref
          ? t('report.seen_before', { time: fmtTime(r.seen_before.at), ref: r.seen_before.ref })
          : t('report.seen_before_hidden', { time: fmtTime(r.seen_before.at) })) : ''),
    renderLock(r, ctx),
    renderActions(r, ctx),
    h('section', {}, h('h3', {}, t('report.text')), textBlock(r, 'report-text')),
    h('section', {}, h('h3', {}, t('report.media')), renderMedia(r)),
    h('section', {}, h('h3', {}, t('report.facts')),
      h('dl', { class: 'facts' },
        fact(t('report.received'), timeEl(r.received_at, true)),
        fact(t('report.observed'), timeEl(r.observed_at, true)),
        fact(t('report.location'), h('span', { id: 'report-point' }, renderLocation(r))),
        r.point_source ? fact(t('report.source'), t(`source.${r.point_source}`)) : [],
        r.accuracy_m ? fact(t('report.accuracy'), t('report.accuracy_m', { n: Math.round(r.accuracy_m) })) : [],
        r.bearing !== null && r.bearing !== undefined ? fact(t('report.bearing'), t('report.bearing_deg', { n: Math.round(r.bearing) })) : [],
        r.forwarded ? fact(t('report.forwarded'), t('report.forwarded.yes')) : [],
        fact(t('report.priority'), String(r.priority ?? '')),
        fact(t('report.corroborations'), String(r.corroborations ?? 0)),
        r.folds ? fact(t('report.folds'), String(r.folds)) : [],
        fact(t('report.flags'), flags.length ? flags.map((f) => h('span', { class: 'badge flag' }, flagName(f))) : t('report.flags.none')))),
    r.decided_by ? h('section', { id: 'decision' }, h('h3', {}, t('report.decision')),
      h('p', {}, t('report.decided', { status: t(`status.${r.status}`), who: r.decided_by, time: fmtTime(r.decided_at) })),
      r.note ? h('blockquote', {}, r.note) : '') : '',
    renderPlaces(r, ctx),
    renderFollowups(r, ctx),
    renderReporter(r, ctx) || '',
  ];
}
