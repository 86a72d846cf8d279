// web/static/filters.js - the queue's filters: the form's fields (status, category, with
// photo, corroborations, time range, and the map area the analyst picked) as the query
// parameters of GET /api/reports, whether a report still belongs to the list, and the
// form's wiring. The picked area is kept here.

const $ = (id) => document.getElementById(id);

let area = null; // "west,south,east,north" of the map when the analyst picked it

export function filterParams() {
  const p = {
    status: $('f-status').value,
    category: $('f-category').value,
    has_photo: $('f-photo').checked ? 'true' : '',
    min_corroborations: $('f-corr').value && Number($('f-corr').value) > 0 ? $('f-corr').value : '',
    bbox: area || '',
  };
  const range = $('f-time').value;
  if (range === 'custom') {
    const since = $('f-since').value;
    const until = $('f-until').value;
    if (since) p.since = new Date(since).toISOString();
    if (until) p.until = new Date(until).toISOString();
  } else if (range) {
    p.since = new Date(Date.now() - Number(range) * 1000).toISOString();
  }
  return p;
}

export function statusFilter() {
  return $('f-status').value;
}

// Whether a report still belongs to the list under the status filter (claimed and
// unclaimed are the server's views of status new with or without a live lease).
export function matchesFilter(status, claimedBy) {
  const f = statusFilter();
  if (f === 'claimed') return status === 'new' && !!claimedBy;
  if (f === 'unclaimed') return status === 'new' && !claimedBy;
  return !f || f === status;
}

// reload(): the list again under the changed filters; mapArea(): the map's current bounds
export function wireFilters(reload, mapArea) {
  const showArea = (a) => {
    area = a;
    $('f-area').hidden = !a;
    if (a) $('f-area').title = a;
  };
  for (const id of ['f-status', 'f-category', 'f-photo', 'f-since', 'f-until']) $(id).addEventListener('change', reload);
  $('f-time').addEventListener('change', () => {
    $('f-custom').hidden = $('f-time').value !== 'custom';
    reload();
  });
  let corrTimer = null;
  $('f-corr').addEventListener('input', () => {
    clearTimeout(corrTimer);
    corrTimer = setTimeout(reload, 300);
  });
  $('filters').addEventListener('reset', () => {
    showArea(null);
    setTimeout(() => {
      $('f-custom').hidden = true;
      reload();
    }, 0);
  });
  $('search-area').addEventListener('click', () => {
    showArea(mapArea());
    reload();
  });
  $('f-area-clear').addEventListener('click', () => {
    showArea(null);
    reload();
  });
}
