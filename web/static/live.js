// web/static/live.js - the console's live updates: one EventSource on /api/events that
// says whether it is connected (a reconnect within 6 s is not shown as offline) and hands
// each event's parsed data to the console. What an event does to the queue or the open
// report is the console's (app.js): on = {status(connected), report(), resync(),
// claim(id, who), release(id), followup(d), decide(d), closed()}.

const OFFLINE_AFTER_MS = 6000;

export function openLive(on) {
  const es = new EventSource('/api/events');
  on.status(false);
  let offTimer = null;
  es.onopen = () => {
    clearTimeout(offTimer);
    on.status(true);
  };
  es.onerror = () => {
    // The server ends every stream after sse_max_seconds and the browser reconnects 3 s
    // later: show "offline" only when the reconnect has not come back by then.
    clearTimeout(offTimer);
    if (es.readyState === EventSource.CONNECTING) offTimer = setTimeout(() => on.status(false), OFFLINE_AFTER_MS);
    else on.status(false);
    // EventSource retries by itself unless the server refused (a closed stream)
    if (es.readyState === EventSource.CLOSED) on.closed();
  };
  const parse = (ev) => {
    try {
      return JSON.parse(ev.data);
    } catch {
      return null;
    }
  };
  const handle = (type, fn) => es.addEventListener(type, (ev) => {
    const d = parse(ev);
    if (d) fn(d);
  });
  handle('report', () => on.report());
  // events may have been missed (the stream fell behind, or the server restarted)
  es.addEventListener('resync', () => on.resync());
  handle('claim', (d) => on.claim(d.id, d.claimed_by || null));
  handle('release', (d) => on.release(d.id));
  // a follow-up relayed, refused or answered
  handle('followup', (d) => on.followup(d));
  handle('decide', (d) => on.decide(d));
  return {
    close: () => {
      clearTimeout(offTimer);
      es.close();
    },
    isOpen: () => es.readyState === EventSource.OPEN,
  };
}
