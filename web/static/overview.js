// web/static/overview.js - the confirmed reports the analyst may see, drawn from the
// server's vector tiles (GET /api/tiles/{z}/{x}/{y}.mvt, Mapbox Vector Tile 2.1) while the
// map is zoomed out: one disc per 64-pixel cell, sized by its count. However many reports
// there are, a tile is a few kilobytes (the server sums a grid of cells for zooms 0-8),
// where the queue's markers hold one page of the list. pbf (npm, a classic script loaded
// before this module: window.Pbf) reads the protobuf; the functions below read the
// MVT messages, points only (the server sends nothing else).

const L = window.L;

// the highest zoom drawn: from zoom 12 a tile holds single reports, which the queue's
// markers show
export const OVERVIEW_MAX_ZOOM = 11;

const zigzag = (n) => (n >>> 1) ^ -(n & 1);

function readValue(tag, v, pbf) {
  if (tag === 1) v.v = pbf.readString();
  else if (tag === 2) v.v = pbf.readFloat();
  else if (tag === 3) v.v = pbf.readDouble();
  else if (tag === 4) v.v = pbf.readVarint(true);
  else if (tag === 5) v.v = pbf.readVarint();
  else if (tag === 6) v.v = pbf.readSVarint();
  else if (tag === 7) v.v = pbf.readBoolean();
}

function readFeature(tag, f, pbf) {
  if (tag === 2) pbf.readPackedVarint(f.tags);
  else if (tag === 3) f.type = pbf.readVarint();
  else if (tag === 4) pbf.readPackedVarint(f.geometry);
}

function readLayer(tag, l, pbf) {
  if (tag === 1) l.name = pbf.readString();
  else if (tag === 2) l.features.push(pbf.readMessage(readFeature, { type: 0, tags: [], geometry: [] }));
  else if (tag === 3) l.keys.push(pbf.readString());
  else if (tag === 4) l.values.push(pbf.readMessage(readValue, { v: null }).v);
  else if (tag === 5) l.extent = pbf.readVarint();
}

// The points of layer `name` in an MVT: [{x, y, props}], x and y in [0, 1) of the tile.
export function mvtPoints(buf, name) {
  const pbf = new window.Pbf(new Uint8Array(buf));
  const layers = pbf.readFields((tag, ls, p) => {
    if (tag === 3) ls.push(p.readMessage(readLayer, { name: '', extent: 4096, keys: [], values: [], features: [] }));
  }, []);
  const out = [];
  for (const l of layers) {
    if (l.name !== name) continue;
    for (const f of l.features) {
      if (f.type !== 1) continue; // POINT
      const props = {};
      for (let i = 0; i + 1 < f.tags.length; i += 2) props[l.keys[f.tags[i]]] = l.values[f.tags[i + 1]];
      const g = f.geometry;
      let x = 0;
      let y = 0;
      for (let i = 0; i < g.length;) {
        const cmd = g[i] & 7;
        const n = g[i] >> 3;
        i++;
        for (let k = 0; k < n && cmd !== 7; k++, i += 2) {
          x += zigzag(g[i]);
          y += zigzag(g[i + 1]);
          if (cmd === 1) out.push({ x: x / l.extent, y: y / l.extent, props });
        }
      }
    }
  }
  return out;
}

function draw(canvas, pts, size, ratio) {
  const ctx = canvas.getContext('2d');
  ctx.scale(ratio, ratio);
  ctx.font = 'bold 10px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  let total = 0;
  for (const p of pts) {
    const n = Number(p.props.count) || 1;
    total += n;
    const r = Math.min(18, 3 + 2.2 * Math.log2(n + 1));
    const x = p.x * size.x;
    const y = p.y * size.y;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = 'rgba(22, 101, 52, 0.35)';
    ctx.strokeStyle = 'rgba(22, 101, 52, 0.8)';
    ctx.lineWidth = 1;
    ctx.fill();
    ctx.stroke();
    if (r >= 9) {
      ctx.fillStyle = '#0f3d22';
      ctx.fillText(n >= 10000 ? `${Math.round(n / 1000)}k` : String(n), x, y);
    }
  }
  // what the tile holds, for whoever reads the page (and the browser test)
  canvas.dataset.count = String(total);
}

// A Leaflet layer of canvas tiles in pane `pane`, shown from zoom 0 to OVERVIEW_MAX_ZOOM.
// refresh() fetches the tiles again: the browser revalidates each (ETag), and a tile that
// no decision changed costs a 304.
export const OverviewLayer = L.GridLayer.extend({
  options: { maxZoom: OVERVIEW_MAX_ZOOM, updateWhenZooming: false, className: 'tl-overview' },

  createTile(coords, done) {
    const tile = L.DomUtil.create('canvas', 'tl-overview-tile');
    const size = this.getTileSize();
    const ratio = window.devicePixelRatio || 1;
    tile.width = size.x * ratio;
    tile.height = size.y * ratio;
    const url = `/api/tiles/${coords.z}/${coords.x}/${coords.y}.mvt`;
    fetch(url, { credentials: 'same-origin', cache: 'no-cache' })
      .then((res) => {
        if (res.status === 204) return null;
        if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
        return res.arrayBuffer();
      })
      .then((buf) => {
        draw(tile, buf ? mvtPoints(buf, 'reports') : [], size, ratio);
        done(null, tile);
      })
      .catch((e) => done(e, tile));
    return tile;
  },

  refresh() {
    this.redraw();
  },
});
