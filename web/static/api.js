// web/static/api.js - the JSON API (API.md) over fetch. The one place that attaches the
// session's CSRF token: every state-changing request carries X-CSRF-Token; the token is
// kept in memory only (never in storage), the session itself in an HttpOnly cookie.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

let csrf = null;

export function setCsrf(token) {
  csrf = token || null;
}

// Sends method path with an optional JSON body (and extra request headers); resolves to
// the parsed JSON (or null for an empty body), rejects with ApiError carrying the
// server's {error, message}.
export async function api(method, path, body, extra) {
  const headers = { Accept: 'application/json', ...(extra || {}) };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', e.message);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    throw new ApiError(
      res.status,
      (data && data.error) || `http_${res.status}`,
      (data && data.message) || res.statusText,
      res.headers.get('Retry-After'),
    );
  }
  return data;
}

// A query string of the parameters that have a value ('' and null/undefined/false left out).
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
