// web/static/map.js - the Leaflet map of the filtered reports. Offline by default: the
// basemap is the country borders of the world-atlas npm package (TopoJSON, served from
// /vendor/), drawn as a GeoJSON layer; a deployment with internet sets tile_url and gets
// tiles (with the borders as fallback when tiles fail). Zoomed out, every confirmed report
// the analyst may see is drawn from the server's vector tiles (overview.js), under the
// markers of the listed reports. Leaflet, markercluster, topojson-client and pbf are
// classic scripts loaded before this module (window.L, window.topojson, window.Pbf).

import { OverviewLayer } from './overview.js';

const L = window.L;
const BORDERS_URL = '/vendor/world-atlas/countries-50m.json';
const UKRAINE_ID = '804'; // ISO 3166-1 numeric, the feature id in world-atlas
const HOME = L.latLngBounds([44.2, 22.1], [52.4, 40.3]);

function icon(cls) {
  return L.divIcon({ className: `tl-marker ${cls}`, iconSize: [14, 14], iconAnchor: [7, 7] });
}

export class QueueMap {
  // el: the map container; opts.tileUrl: '' or an {z}/{x}/{y} template; opts.onSelect(id)
  // when a marker is clicked; opts.label(key, params) translates marker titles.
  constructor(el, opts) {
    this.opts = opts;
    this.map = L.map(el, {
      zoomSnap: 0.5,
      minZoom: 2,
      maxZoom: 18, // markercluster needs a bound even without tiles
      worldCopyJump: true,
      zoomControl: false, // added below with translated titles
    });
    this.map.attributionControl.setPrefix('Leaflet');
    this.map.fitBounds(HOME);
    L.control.scale({ imperial: false }).addTo(this.map);
    this.relabel();
    this.map.createPane('borders');
    this.map.getPane('borders').style.zIndex = '250';
    this.bordersLayer = null;
    // Offline, nothing but borders is drawn below country level: keep the country in view.
    this.detailZoom = opts.tileUrl ? 14 : 7;
    if (opts.tileUrl) {
      const tiles = L.tileLayer(opts.tileUrl, { maxZoom: 19 });
      tiles.once('tileerror', () => this.addBorders());
      tiles.addTo(this.map);
    } else {
      this.addBorders();
    }
    // the confirmed reports, from /api/tiles: above the borders, below the markers
    this.map.createPane('overview');
    this.map.getPane('overview').style.zIndex = '350';
    this.overview = new OverviewLayer({ pane: 'overview' }).addTo(this.map);
    this.cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
    this.map.addLayer(this.cluster);
    this.selected = L.layerGroup().addTo(this.map);
    this.markers = new Map();
  }

  // Resolves once the borders are drawn (tests and the first fit wait on it).
  addBorders() {
    if (this.bordersReady) return this.bordersReady;
    this.bordersReady = fetch(BORDERS_URL, { credentials: 'same-origin' })
      .then((r) => {
        if (!r.ok) throw new Error(`${BORDERS_URL}: HTTP ${r.status}`);
        return r.json();
      })
      .then((topo) => {
        const countries = window.topojson.feature(topo, topo.objects.countries);
        this.bordersLayer = L.geoJSON(countries, {
          pane: 'borders',
          interactive: false,
          style: (f) => ({
            className: f.id === UKRAINE_ID ? 'tl-border tl-border-home' : 'tl-border',
            weight: 1,
          }),
        }).addTo(this.map);
      });
    return this.bordersReady;
  }

  // Shows the reports (summaries) that have a point, clustered; replaces earlier ones.
  setReports(items, me) {
    this.cluster.clearLayers();
    this.markers.clear();
    const layers = [];
    for (const it of items) {
      if (!it.point) continue;
      let cls = `tl-status-${it.status}`;
      if (it.claimed_by) cls += it.claimed_by === me ? ' tl-held-me' : ' tl-held';
      const m = L.marker([it.point.lat, it.point.lon], {
        icon: icon(cls),
        title: it.ref,
        keyboard: false,
      });
      m.on('click', () => this.opts.onSelect(it.id));
      this.markers.set(it.id, m);
      layers.push(m);
    }
    this.cluster.addLayers(layers);
  }

  // Marks the open report: its point (with an accuracy circle), and each photo's own GPS
  // joined to it by a dashed line, outside the clusters; pans to it.
  showReport(r) {
    this.selected.clearLayers();
    if (!r) return;
    const pts = [];
    if (r.point) {
      const p = L.latLng(r.point.lat, r.point.lon);
      pts.push(p);
      if (r.accuracy_m > 0)
        L.circle(p, { radius: r.accuracy_m, className: 'tl-accuracy', interactive: false }).addTo(
          this.selected,
        );
      const m = L.marker(p, {
        icon: icon('tl-marker-selected'),
        title: r.ref,
        alt: this.opts.label('map.report_point', { ref: r.ref }),
        zIndexOffset: 1000,
      }).addTo(this.selected);
      m.getElement()?.setAttribute('data-report-id', String(r.id));
    }
    for (const md of r.media || []) {
      if (!md.photo_point) continue;
      const q = L.latLng(md.photo_point.lat, md.photo_point.lon);
      pts.push(q);
      L.marker(q, {
        icon: icon('tl-marker-photo'),
        title: this.opts.label('map.photo_point', { ref: r.ref }),
        zIndexOffset: 1100, // the smaller mark on top, so both show when they nearly meet
      }).addTo(this.selected);
      if (r.point)
        L.polyline([[r.point.lat, r.point.lon], q], {
          className: 'tl-photo-line',
          interactive: false,
        }).addTo(this.selected);
    }
    if (pts.length === 1) this.map.setView(pts[0], Math.max(this.map.getZoom(), this.detailZoom - 2));
    else if (pts.length > 1) this.map.fitBounds(L.latLngBounds(pts).pad(0.3), { maxZoom: this.detailZoom });
  }

  // Marks an incident: its reports' points, its centre, each bearing as a line from the
  // observer (to a little past the fused position, else 10 km), and the fused position with
  // its uncertainty; fits them in view.
  showIncident(inc) {
    this.selected.clearLayers();
    if (!inc) return;
    const pts = [];
    for (const m of inc.members || []) {
      if (!m.point) continue;
      const p = L.latLng(m.point.lat, m.point.lon);
      pts.push(p);
      L.marker(p, { icon: icon('tl-marker-member'), title: m.ref, zIndexOffset: 900 }).addTo(this.selected);
    }
    if (inc.centroid)
      L.marker([inc.centroid.lat, inc.centroid.lon], {
        icon: icon('tl-marker-centroid'),
        title: this.opts.label('map.centroid'),
        zIndexOffset: 1000,
      }).addTo(this.selected);
    const f = inc.fused;
    for (const b of inc.bearings || []) {
      const from = L.latLng(b.lat, b.lon);
      const len = f ? from.distanceTo([f.lat, f.lon]) * 1.25 : 10000;
      const rad = (b.bearing * Math.PI) / 180;
      const to = L.latLng(
        b.lat + (len * Math.cos(rad)) / 111320,
        b.lon + (len * Math.sin(rad)) / (111320 * Math.cos((b.lat * Math.PI) / 180)),
      );
      pts.push(to);
      L.polyline([from, to], { className: 'tl-bearing-line', interactive: false })
        .bindTooltip(this.opts.label('map.bearing', { deg: Math.round(b.bearing) }))
        .addTo(this.selected);
    }
    if (f) {
      const q = L.latLng(f.lat, f.lon);
      pts.push(q);
      L.circle(q, { radius: f.uncertainty_m, className: 'tl-fused-area', interactive: false }).addTo(this.selected);
      const m = L.marker(q, {
        icon: icon('tl-marker-fused'),
        title: this.opts.label('map.fused'),
        zIndexOffset: 1200,
      }).addTo(this.selected);
      m.getElement()?.setAttribute('data-fused', '1');
    }
    // the geometry of sightings is read at a few kilometres, with or without tiles
    if (pts.length === 1) this.map.setView(pts[0], 13);
    else if (pts.length > 1) this.map.fitBounds(L.latLngBounds(pts).pad(0.2), { maxZoom: 15 });
  }

  // A decision changed what the vector tiles hold: fetch them again a second later, and
  // at most once in 3 s, so a busy hour's decisions refetch a view's tiles (a few dozen)
  // about 20 times a minute, within the tiles' own rate budget, not once a decision.
  refreshOverview() {
    if (this.overviewTimer) return;
    const wait = Math.max(1000, (this.overviewAt || 0) + 3000 - Date.now());
    this.overviewTimer = setTimeout(() => {
      this.overviewTimer = null;
      this.overviewAt = Date.now();
      this.overview.refresh();
    }, wait);
  }

  // The map's own controls in the current language (after a language switch too).
  relabel() {
    if (this.zoom) this.zoom.remove();
    this.zoom = L.control.zoom({
      zoomInTitle: this.opts.label('map.zoom_in'),
      zoomOutTitle: this.opts.label('map.zoom_out'),
    }).addTo(this.map);
  }

  // The visible area as the API's bbox "W,S,E,N".
  bbox() {
    const b = this.map.getBounds();
    const f = (x) => x.toFixed(5);
    const w = Math.max(-180, b.getWest());
    const e = Math.min(180, b.getEast());
    return `${f(w)},${f(Math.max(-90, b.getSouth()))},${f(e)},${f(Math.min(90, b.getNorth()))}`;
  }

  resize() {
    this.map.invalidateSize();
  }
}
