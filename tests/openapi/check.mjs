// tests/openapi/check.mjs - holds the web server against web/openapi.yaml.
//
//   node check.mjs answers SPEC RECORDS.jsonl...   every answer the web tests received
//       (tests/support/httprec.c) is matched to the spec's path, method and status, and
//       its JSON body validated (ajv) against the schema for that status and media type.
//       A path the spec lacks may only have answered a JSON 4xx error (the spec's "unknown
//       path 404"); a method the path lacks only a 405 error, a method that is no
//       RFC 9110 token only a 400 error. Fails with no records.
//   node check.mjs routes SPEC ROUTES_PROGRAM   the server's route table and embedded files
//       (tests/openapi/routes.c) against the spec's paths, both ways.
//
// OpenAPI 3.0 schemas are turned into JSON Schema first: nullable becomes a "null" type,
// allOf of objects is merged into one object, and every object that names its properties
// is closed (additionalProperties: false), so that a field the server sends and the spec
// does not name fails too.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const here = new URL('.', import.meta.url).pathname;
const modules = `${here}../../node_modules`;
let YAML, Ajv, addFormats;
try {
  YAML = require(`${modules}/yaml`);
  Ajv = require(`${modules}/ajv`).default;
  addFormats = require(`${modules}/ajv-formats`).default;
} catch (e) {
  console.log(`SKIP: the npm modules yaml, ajv, ajv-formats are missing (deploy/setup.sh deps): ${e.message}`);
  process.exit(77);
}

const [mode, specPath, ...rest] = process.argv.slice(2);
if (!mode || !specPath) {
  console.error('usage: check.mjs answers SPEC RECORDS... | check.mjs routes SPEC ROUTES_PROGRAM');
  process.exit(2);
}
const doc = YAML.parseDocument(readFileSync(specPath, 'utf8'), { uniqueKeys: true });
if (doc.errors.length) {
  for (const e of doc.errors) console.error(`${specPath}: ${e.message}`);
  process.exit(1);
}
const spec = doc.toJS();
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// ---- the spec's paths as matchers ----

// A template's parameters match one segment; a template ending in a parameter that the
// spec says may hold slashes (x-slashes: true on the parameter) matches the rest.
function matcher(template, item) {
  const params = [];
  for (const m of Object.values(item).filter((o) => o && o.parameters))
    params.push(...m.parameters);
  if (item.parameters) params.push(...item.parameters);
  const greedy = new Set(params.map(resolve).filter((p) => p['x-slashes']).map((p) => p.name));
  const re = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, n) =>
    greedy.has(n) ? '(.+)' : '([^/]+)');
  return { template, item, re: new RegExp(`^${re}$`), nparams: (template.match(/\{/g) || []).length };
}
const paths = Object.entries(spec.paths).map(([t, item]) => matcher(t, item));
// Literal paths before templated ones (OpenAPI's rule), fewer parameters first.
paths.sort((a, b) => a.nparams - b.nparams);
const findPath = (p) => paths.find((m) => m.re.test(p));

function resolve(o) {
  while (o && o.$ref) {
    o = o.$ref.replace(/^#\//, '').split('/').reduce((n, k) => n[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return o;
}

// ---- OpenAPI 3.0 schema -> JSON Schema ----

const ANNOTATIONS = new Set(['example', 'externalDocs', 'xml', 'discriminator', 'deprecated']);
function toJsonSchema(s, seen = []) {
  if (Array.isArray(s)) return s.map((x) => toJsonSchema(x, seen));
  if (!s || typeof s !== 'object') return s;
  if (s.$ref) {
    if (seen.includes(s.$ref)) throw new Error(`recursive schema ${s.$ref}`);
    return toJsonSchema(resolve(s), [...seen, s.$ref]);
  }
  let out = {};
  for (const [k, v] of Object.entries(s)) {
    if (ANNOTATIONS.has(k) || k.startsWith('x-') || k === 'nullable') continue;
    if (k === 'properties') {
      out.properties = Object.fromEntries(Object.entries(v).map(([n, p]) => [n, toJsonSchema(p, seen)]));
    } else if (['items', 'additionalProperties', 'not'].includes(k) && typeof v === 'object') {
      out[k] = toJsonSchema(v, seen);
    } else if (['allOf', 'anyOf', 'oneOf'].includes(k)) {
      out[k] = toJsonSchema(v, seen);
    } else {
      out[k] = v;
    }
  }
  // allOf whose branches are all objects: one object with every branch's properties
  if (out.allOf && out.allOf.every((b) => b.type === 'object' || b.properties)) {
    const merged = { ...out, type: 'object', properties: { ...(out.properties || {}) } };
    delete merged.allOf;
    const required = new Set(out.required || []);
    for (const b of out.allOf) {
      Object.assign(merged.properties, b.properties || {});
      for (const r of b.required || []) required.add(r);
    }
    if (required.size) merged.required = [...required];
    out = merged;
  }
  if (out.properties && !('additionalProperties' in out)) out.additionalProperties = false;
  if (s.nullable) {
    if (out.type) {
      out.type = [out.type, 'null'];
      if (out.enum) out.enum = [...out.enum, null];
    } else {
      out = { anyOf: [out, { type: 'null' }] };
    }
  }
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
addFormats(ajv);
ajv.addFormat('binary', true);
const validators = new Map();
function validatorFor(key, schema) {
  if (!validators.has(key)) {
    try {
      validators.set(key, ajv.compile(toJsonSchema(schema)));
    } catch (e) {
      console.log(`FAIL: the spec's schema for ${key} does not compile: ${e.message}`);
      process.exit(1);
    }
  }
  return validators.get(key);
}

const mediaType = (ct) => (ct || '').split(';')[0].trim().toLowerCase();
const isJson = (mt) => mt === 'application/json' || /^application\/[^/]+\+json$/.test(mt);
function contentFor(content, mt) {
  if (content[mt]) return [mt, content[mt]];
  const wild = Object.keys(content).find((k) => k === '*/*' || (k.endsWith('/*') && mt.startsWith(k.slice(0, -1))));
  return wild ? [wild, content[wild]] : [null, null];
}

// ---- answers ----

function checkAnswer(rec) {
  const path = rec.path.split('?')[0];
  const hit = findPath(path);
  const errorSchema = { $ref: '#/components/schemas/Error' };
  const mt = mediaType(rec.ctype);
  const asError = (why) => {
    if (rec.status < 400 || rec.status > 499) return `${why}, yet answered ${rec.status}`;
    if (!isJson(mt)) return `${why}: ${rec.status} is ${rec.ctype}, not a JSON error`;
    return validate('#error', errorSchema, rec, why);
  };
  if (!hit) return { route: '(no such path)', err: asError('no path of the spec matches') };
  let method = rec.method.toLowerCase();
  let op = hit.item[method];
  // HEAD is GET without a body (RFC 9110); the server answers it on every GET route.
  if (!op && method === 'head' && hit.item.get) {
    op = hit.item.get;
    method = 'get';
  }
  const route = `${method.toUpperCase()} ${hit.template}`;
  if (!op) {
    // A method that is not an RFC 9110 token is a malformed request: 400, before any route.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(rec.method) && rec.status === 400)
      return { route: '(malformed method)', err: asError('malformed method') };
    if (rec.status !== 405) return { route, err: `${rec.method} is not in the spec for ${hit.template}, yet answered ${rec.status}` };
    return { route: `(405) ${hit.template}`, err: asError('method not in the spec') };
  }
  const resp = resolve(op.responses[String(rec.status)] || op.responses.default);
  if (!resp) return { route, err: `status ${rec.status} is not among the spec's responses (${Object.keys(op.responses).join(', ')})` };
  if (!resp.content) {
    return { route, err: rec.len ? `the spec gives ${rec.status} no body, yet ${rec.len} bytes of ${rec.ctype} came` : null };
  }
  if (rec.method === 'HEAD') return { route, err: null };
  const [key, media] = contentFor(resp.content, mt);
  if (!key) return { route, err: `${rec.status} answered ${rec.ctype}; the spec has ${Object.keys(resp.content).join(', ')}` };
  if (!isJson(mt) || !media.schema) return { route, err: null };
  return { route, err: validate(`${route} ${rec.status} ${key}`, media.schema, rec, route) };
}

function validate(key, schema, rec, what) {
  let body;
  try {
    body = JSON.parse(rec.body);
  } catch (e) {
    return `${what}: the body is not JSON (${e.message}): ${String(rec.body).slice(0, 200)}`;
  }
  const v = validatorFor(key, schema);
  if (v(body)) return null;
  const errs = v.errors.slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`);
  return `${what}: ${errs.join('; ')}: ${rec.body.slice(0, 300)}`;
}

function answers(files) {
  const records = [];
  for (const f of files) {
    let text;
    try {
      text = readFileSync(f, 'utf8');
    } catch (e) {
      console.error(`FAIL: ${f}: ${e.message} (run test_web first)`);
      process.exit(1);
    }
    for (const line of text.split('\n').filter(Boolean)) records.push({ ...JSON.parse(line), file: f });
  }
  if (!records.length) {
    console.error(`FAIL: no answers recorded in ${files.join(', ')}: nothing was checked`);
    process.exit(1);
  }
  const perRoute = new Map();
  const failures = new Map();
  for (const rec of records) {
    const { route, err } = checkAnswer(rec);
    const n = perRoute.get(route) || { n: 0, json: 0, statuses: new Set() };
    n.n++;
    if (isJson(mediaType(rec.ctype)) && rec.method !== 'HEAD') n.json++;
    n.statuses.add(rec.status);
    perRoute.set(route, n);
    if (err) {
      const k = `${rec.method} ${rec.path.split('?')[0]} ${rec.status}: ${err}`;
      failures.set(k, (failures.get(k) || 0) + 1);
    }
  }
  const out = [...perRoute.entries()].sort(([a], [b]) => a.localeCompare(b));
  for (const [route, n] of out)
    console.log(`${String(n.n).padStart(5)} answers (${n.json} JSON bodies validated)  ${route}  [${[...n.statuses].sort().join(' ')}]`);
  const seen = new Set(perRoute.keys());
  for (const m of paths)
    for (const meth of METHODS.filter((x) => m.item[x]))
      if (!seen.has(`${meth.toUpperCase()} ${m.template}`)) console.log(`info: never exercised: ${meth.toUpperCase()} ${m.template}`);
  console.log(`${records.length} answers from ${files.length} file(s), ${failures.size} distinct failures`);
  for (const [k, n] of failures) console.log(`FAIL (x${n}): ${k}`);
  process.exit(failures.size ? 1 : 0);
}

// ---- the route table ----

function routes(program) {
  const lines = execFileSync(program, { encoding: 'utf8' }).split('\n').filter(Boolean);
  const problems = [];
  const specApi = new Set();
  for (const m of paths)
    for (const meth of METHODS.filter((x) => m.item[x]))
      if (m.template.startsWith('/api/')) specApi.add(`${meth.toUpperCase()} ${m.template.replace(/\{[^}]+\}/g, '*')}`);
  const served = new Set();
  const filePaths = new Set(); // the spec's other paths that some served file matches
  let files = 0;
  for (const l of lines) {
    const [kind, method, path] = l.split(' ');
    if (kind === 'api') {
      served.add(`${method} ${path}`);
      if (!specApi.has(`${method} ${path}`)) problems.push(`the server serves ${method} ${path}; the spec lacks it`);
    } else {
      files++;
      const hit = findPath(path);
      if (!hit || !hit.item[method.toLowerCase()]) problems.push(`the server serves the file ${path}; no path of the spec matches it`);
      else filePaths.add(hit.template);
    }
  }
  for (const r of specApi) if (!served.has(r)) problems.push(`the spec has ${r}; the server has no such route`);
  for (const m of paths)
    if (!m.template.startsWith('/api/') && !filePaths.has(m.template))
      problems.push(`the spec has ${m.template}; the server serves no file there`);
  if (served.size === 0 || files === 0) problems.push(`the route program listed ${served.size} routes and ${files} files`);
  console.log(`${served.size} API routes and ${files} embedded files held against ${specApi.size} API operations of the spec`);
  for (const p of problems) console.log(`FAIL: ${p}`);
  process.exit(problems.length ? 1 : 0);
}

if (mode === 'answers') answers(rest);
else if (mode === 'routes') routes(rest[0]);
else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
