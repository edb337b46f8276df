/* staff-map.js: draws the map page (templates/staff/map.html) from the numbers the page carries (#map-data).
 *
 * Everything comes from this site: the country shapes are Natural Earth's (npm world-atlas, vendored), no tiles.
 * Countries are the finest level drawn, so an obfuscated-for-safety location never shows more precisely than its
 * country. Clicking a country filters the page by it (host or origin, as coloured), through the address, so that a
 * link reproduces the view. Vega runs with its expression interpreter: the page's CSP allows no eval.
 */
(function () {
  'use strict';

  const mapBox = document.getElementById('map');
  if (!mapBox || !window.L) return;
  const status = document.getElementById('map-status');
  const params = new URLSearchParams(window.location.search);
  const layer = params.get('layer') === 'origin' ? 'origin' : 'host';
  const showFlows = !params.has('layer') || params.get('flows') === '1'; // a fresh page shows them
  const SHADES = ['#e8eef6', '#bcd0e6', '#8eb1d6', '#5f8fc2', '#356ca8', '#1b4a80'];

  /** Natural Earth's rings cross the antimeridian; unwrap their longitudes so Russia and Fiji do not streak. */
  function unwrap(ring) {
    let shift = 0;
    return ring.map((point, index) => {
      if (index > 0) {
        const step = point[0] - ring[index - 1][0];
        if (step > 180) shift -= 360;
        else if (step < -180) shift += 360;
      }
      return [point[0] + shift, point[1]];
    });
  }

  function unwrapGeometry(geometry) {
    if (geometry.type === 'Polygon') return { ...geometry, coordinates: geometry.coordinates.map(unwrap) };
    if (geometry.type === 'MultiPolygon') {
      return { ...geometry, coordinates: geometry.coordinates.map((polygon) => polygon.map(unwrap)) };
    }
    return geometry;
  }

  /** Where a country's flows start and end: the middle of its largest polygon (France's, not halfway to French
   * Guiana; Russia's mainland, not the Arctic islands). */
  function centreOf(geometry) {
    const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
    let best = null;
    let bestArea = -1;
    for (const polygon of polygons) {
      const bounds = L.latLngBounds(polygon[0].map(([lon, lat]) => [lat, lon]));
      const area = (bounds.getEast() - bounds.getWest()) * (bounds.getNorth() - bounds.getSouth());
      if (area > bestArea) {
        best = bounds;
        bestArea = area;
      }
    }
    return best ? best.getCenter() : null;
  }

  function shade(count, max) {
    if (!count) return '#f7f7f7';
    const step = Math.min(SHADES.length - 1, Math.floor((Math.log(count + 1) / Math.log(max + 1)) * SHADES.length));
    return SHADES[Math.max(0, step)];
  }

  function filterBy(code) {
    const next = new URLSearchParams(window.location.search);
    next.set(layer, code);
    window.location.search = next.toString();
  }

  async function draw() {
    const data = JSON.parse(document.getElementById('map-data').textContent); // the page's own numbers
    const topo = await fetch('/static/vendor/world-atlas/countries-50m.json').then((r) => {
      if (!r.ok) throw new Error(`the country shapes did not load (${r.status})`);
      return r.json();
    });
    const shapes = topojson.feature(topo, topo.objects.countries).features
      .filter((feature) => feature.id !== '010') // Antarctica
      .map((feature) => ({ ...feature, geometry: unwrapGeometry(feature.geometry) }));
    const rows = layer === 'origin' ? data.origins : data.hosts;
    const counts = new Map(rows.map((row) => [row.numeric, row]));
    const max = rows.reduce((most, row) => Math.max(most, row.count), 0);
    // Leaflet's own attribution prefix carries an inline-styled flag, which the CSP refuses: ours is plain text.
    const map = L.map(mapBox, { worldCopyJump: false, minZoom: 1, attributionControl: false }).setView([35, 20], 2);
    L.control.attribution({ prefix: 'Natural Earth shapes' }).addTo(map);
    const centres = new Map();
    L.geoJSON({ type: 'FeatureCollection', features: shapes }, {
      style: (feature) => ({
        className: `staff-country-${feature.id}`, // ISO 3166 numeric: tests and styles find a country by it
        color: '#6b7c93', weight: 0.5, fillOpacity: 0.9,
        fillColor: shade(counts.has(feature.id) ? counts.get(feature.id).count : 0, max),
      }),
      onEachFeature: (feature, shape) => {
        centres.set(feature.id, centreOf(feature.geometry));
        const row = counts.get(feature.id);
        const name = row ? row.label : (feature.properties && feature.properties.name) || '';
        shape.bindTooltip(`${name}: ${row ? row.count : 0} incident${row && row.count === 1 ? '' : 's'}`);
        if (row) shape.on('click', () => filterBy(row.country));
      },
    }).addTo(map);
    if (showFlows) {
      const heaviest = data.flows.reduce((most, flow) => Math.max(most, flow.count), 1);
      for (const flow of data.flows.slice(0, 60)) {
        const from = centres.get(flow.from);
        const to = centres.get(flow.to);
        if (!from || !to || flow.from === flow.to) continue;
        L.polyline([from, to], {
          color: '#b3261e', opacity: 0.55, weight: 1 + (6 * flow.count) / heaviest, interactive: true,
        }).bindTooltip(`${flow.origin} → ${flow.host}: ${flow.count}`).addTo(map);
      }
    }
    status.textContent = `${data.total.toLocaleString('en')} incidents drawn by ${layer === 'origin' ? 'origin' : 'host'} state` +
      (showFlows ? ', with the largest origin → host flows.' : '.');
    await drawTimeline(data.timeline);
  }

  async function drawTimeline(timeline) {
    const box = document.getElementById('timeline');
    if (!box || !window.vegaEmbed || !timeline.length) return;
    const spec = {
      width: 'container', height: 180,
      data: { values: timeline },
      mark: 'bar',
      encoding: {
        x: { field: 'month', type: 'temporal', timeUnit: 'yearmonth', title: 'Month' },
        y: { field: 'count', type: 'quantitative', title: 'Incidents' },
        color: { field: 'tactic_family', type: 'nominal', title: 'Tactic family' },
      },
    };
    await vegaEmbed(box, spec, {
      renderer: 'canvas', actions: false, defaultStyle: false, tooltip: false, ast: true,
      expr: vegaInterpreter.expressionInterpreter,
    });
  }

  draw().catch((error) => {
    status.textContent = `The map could not be drawn: ${error.message}. The tables below hold the same numbers.`;
  });
}());
