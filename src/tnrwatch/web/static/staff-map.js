/* staff-map.js: draws the map page (templates/staff/map.html) from the numbers the page carries (#map-data).
 *
 * Everything comes from this site: the country shapes are Natural Earth's (npm world-atlas, vendored), no tiles.
 * Countries are drawn by their counts, and only locations known to a point or a place (and not obfuscated for
 * safety) become points: the server sends no others. Leaflet draws on one canvas, so the PNG export is a copy of it.
 *
 * The view lives in the address. A click on a country, a flow or a chart's bar filters everything by it (a new
 * address, a new page); the time slider and the layer switches change the map in place and rewrite the address
 * (history.replaceState), asking /app/api/map for the numbers of the new frame. Vega runs with its expression
 * interpreter: the page's CSP allows no eval.
 */
(function () {
  'use strict';

  const mapBox = document.getElementById('map');
  const dataBlock = document.getElementById('map-data');
  if (!mapBox || !dataBlock || !window.L) return;
  const data = JSON.parse(dataBlock.textContent);
  const status = document.getElementById('map-status');
  const pointsNote = document.getElementById('map-points-note');
  const counts = document.getElementById('map-counts');
  const SHADES = ['#e8eef6', '#bcd0e6', '#8eb1d6', '#5f8fc2', '#356ca8', '#1b4a80'];
  const EMPTY = '#f7f7f7';
  const BACKGROUND = '#dfe9f3';
  const FLOW = '#b3261e';
  const state = { layers: { ...data.layers }, month: data.month, frame: data.map };

  // -- the address ---------------------------------------------------------------------------------------------------

  /** The page's address with `changes` applied (a null value removes the field), from the table's first page. */
  function addressWith(changes) {
    // The form's empty fields are no filter: the link needs not carry them.
    const params = new URLSearchParams([...new URLSearchParams(window.location.search)].filter(([, v]) => v.trim()));
    params.delete('cursor');
    params.delete('prev');
    if ('date_from' in changes || 'date_to' in changes) params.delete('month');
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) params.delete(name);
      else params.set(name, value);
    }
    const query = params.toString();
    return `/app/map${query ? `?${query}` : ''}`;
  }

  /** Filter everything by `changes`: a new page at a new address (back returns to this one). */
  function filterBy(changes) {
    window.location.assign(addressWith(changes));
  }

  /** Rewrite the address for a change made in place (the month shown, the layers): a reload shows the same. */
  function keepInAddress(changes) {
    const params = new URLSearchParams(window.location.search);
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) params.delete(name);
      else params.set(name, value);
    }
    window.history.replaceState(null, '', `/app/map?${params.toString()}`);
  }

  function layerParams() {
    return {
      layer: state.layers.choropleth,
      flows: state.layers.flows ? '1' : null,
      points: state.layers.points ? '1' : null,
    };
  }

  function monthRange(month) {
    const [year, number] = month.split('-').map(Number);
    const last = new Date(Date.UTC(year, number, 0)).getUTCDate();
    return { date_from: `${month}-01`, date_to: `${month}-${String(last).padStart(2, '0')}` };
  }

  // -- the shapes ----------------------------------------------------------------------------------------------------

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

  function shadeIndex(count, max) {
    if (!count || !max) return -1;
    const step = Math.floor((Math.log(count + 1) / Math.log(max + 1)) * SHADES.length);
    return Math.max(0, Math.min(SHADES.length - 1, step));
  }

  /** A flow's arc: a bend to the right of the straight line, so that A -> B and B -> A do not overlap. */
  function arc(from, to) {
    const points = [];
    const dx = to.lng - from.lng;
    const dy = to.lat - from.lat;
    const bend = 0.18;
    const control = L.latLng(from.lat + dy / 2 - dx * bend, from.lng + dx / 2 + dy * bend);
    for (let step = 0; step <= 24; step += 1) {
      const t = step / 24;
      const u = 1 - t;
      points.push([
        u * u * from.lat + 2 * u * t * control.lat + t * t * to.lat,
        u * u * from.lng + 2 * u * t * control.lng + t * t * to.lng,
      ]);
    }
    return points;
  }

  // -- the map -------------------------------------------------------------------------------------------------------

  let map = null;
  let countryLayer = null;
  const flowLayer = L.layerGroup();
  let pointLayer = null;
  const centres = new Map();
  let legend = null;

  function choroplethRows() {
    const layer = state.layers.choropleth;
    if (layer === 'none') return [];
    return layer === 'origin' ? state.frame.origins : state.frame.hosts;
  }

  function countryRows() {
    return new Map(choroplethRows().map((row) => [row.numeric, row]));
  }

  function styleCountries() {
    const rows = countryRows();
    const max = choroplethRows().reduce((most, row) => Math.max(most, row.count), 0);
    countryLayer.setStyle((feature) => {
      const row = rows.get(feature.id);
      const index = shadeIndex(row ? row.count : 0, max);
      return { color: '#6b7c93', weight: 0.5, fillOpacity: 0.9, fillColor: index < 0 ? EMPTY : SHADES[index] };
    });
    drawLegend(max);
  }

  function drawLegend(max) {
    const box = legend && legend.getContainer();
    if (!box) return;
    box.replaceChildren();
    if (state.layers.choropleth === 'none' || !max) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    const title = document.createElement('p');
    title.textContent = `Incidents by ${state.layers.choropleth} state`;
    box.append(title);
    const list = document.createElement('ul');
    let previous = 0;
    for (let index = 0; index < SHADES.length; index += 1) {
      // The largest count that still gets this shade, from the same scale as the countries.
      let upper = previous;
      while (upper < max && shadeIndex(upper + 1, max) <= index) upper += 1;
      if (upper === previous) continue;
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = `map-shade map-shade-${index}`;
      item.append(swatch, document.createTextNode(previous + 1 === upper ? `${upper}` : `${previous + 1}–${upper}`));
      list.append(item);
      previous = upper;
    }
    box.append(list);
  }

  function countryClicked(feature) {
    const row = countryRows().get(feature.id);
    const field = state.layers.choropleth === 'origin' ? 'origin' : 'host';
    if (row) filterBy({ [field]: row.country });
  }

  function countryTooltip(feature) {
    const row = countryRows().get(feature.id);
    const name = row ? row.label : (feature.properties && feature.properties.name) || '';
    if (state.layers.choropleth === 'none') return name;
    const count = row ? row.count : 0;
    return `${name}: ${count} incident${count === 1 ? '' : 's'}`;
  }

  function drawFlows() {
    flowLayer.clearLayers();
    if (!state.layers.flows) return;
    const flows = state.frame.flows;
    const heaviest = flows.reduce((most, flow) => Math.max(most, flow.count), 1);
    for (const flow of flows.slice(0, 60)) {
      const from = centres.get(flow.from);
      const to = centres.get(flow.to);
      if (!from || !to || flow.from === flow.to) continue;
      L.polyline(arc(from, to), {
        color: FLOW, opacity: 0.6, weight: 1.5 + (6 * flow.count) / heaviest, interactive: true,
        className: `map-flow map-flow-${flow.origin}-${flow.host}`,
      })
        .bindTooltip(`${flow.origin_label} → ${flow.host_label}: ${flow.count}`, { sticky: true })
        .on('click', (event) => {
          L.DomEvent.stop(event);
          filterBy({ origin: flow.origin, host: flow.host });
        })
        .addTo(flowLayer);
    }
  }

  function popupFor(point) {
    const box = document.createElement('div');
    const title = document.createElement('p');
    const link = document.createElement('a');
    link.href = `/app/incidents/${point.id}`;
    link.textContent = `Incident ${point.id.slice(0, 8)}`;
    title.append(link);
    const when = document.createElement('p');
    when.textContent = `${point.date} · ${point.precision === 'place' ? 'located to a place (the locality, not a spot)' : 'located to a point'}`;
    const tactics = document.createElement('p');
    tactics.textContent = point.tactics.join(', ') || 'No tactic coded';
    box.append(title, when, tactics);
    return box;
  }

  function drawPoints() {
    if (pointLayer) pointLayer.clearLayers();
    const points = state.frame.points;
    if (!state.layers.points || !points) {
      pointsNote.textContent = '';
      return;
    }
    if (!pointLayer) {
      pointLayer = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40, chunkedLoading: true });
      pointLayer.addTo(map);
    }
    const markers = points.items.map((point) => L.marker([point.lat, point.lon], {
      icon: L.divIcon({ className: `map-point map-point-${point.precision}`, iconSize: [14, 14] }),
      title: `Incident of ${point.date}`,
      keyboard: true,
    }).bindPopup(() => popupFor(point)));
    pointLayer.addLayers(markers);
    let note = `${points.items.length.toLocaleString('en')} location${points.items.length === 1 ? '' : 's'} drawn as points`;
    if (points.capped) note += ` (the newest ${points.items.length.toLocaleString('en')} of ${points.drawable.toLocaleString('en')}: narrow the filter to see the others)`;
    if (points.country_only) {
      note += `; ${points.country_only.toLocaleString('en')} known only to a region or a country, or obfuscated for safety,` +
        ' count in their country and are not drawn as points';
    }
    pointsNote.textContent = `${note}.`;
  }

  function describe() {
    const layer = state.layers.choropleth;
    const parts = [];
    if (state.layers.flows) parts.push('the largest origin → host flows');
    if (state.layers.points && state.frame.points) parts.push('clustered points');
    const coloured = layer === 'none' ? 'with countries uncoloured' : `by ${layer} state`;
    status.textContent = `${state.frame.total.toLocaleString('en')} incidents drawn ${coloured}` +
      (state.month ? ` in ${state.month}` : '') + (parts.length ? `, with ${parts.join(' and ')}.` : '.');
  }

  function redraw() {
    styleCountries();
    drawFlows();
    if (state.layers.flows) flowLayer.addTo(map);
    else flowLayer.remove();
    drawPoints();
    describe();
  }

  async function drawMap() {
    const topo = await fetch('/static/vendor/world-atlas/countries-50m.json').then((r) => {
      if (!r.ok) throw new Error(`the country shapes did not load (${r.status})`);
      return r.json();
    });
    const shapes = topojson.feature(topo, topo.objects.countries).features
      .filter((feature) => feature.id !== '010') // Antarctica
      .map((feature) => ({ ...feature, geometry: unwrapGeometry(feature.geometry) }));
    // One canvas for the countries and the flows: the PNG export copies it. Leaflet's own attribution prefix carries
    // an inline-styled flag, which the CSP refuses: ours is plain text.
    map = L.map(mapBox, {
      preferCanvas: true, renderer: L.canvas({ padding: 0.2, tolerance: 4 }),
      worldCopyJump: false, minZoom: 1, maxZoom: 10, attributionControl: false,
    });
    mapBox.tnrMap = map; // for the browser tests and the console: where a country or a point lies on the screen
    L.control.attribution({ prefix: 'Natural Earth shapes' }).addTo(map);
    legend = L.control({ position: 'bottomleft' });
    legend.onAdd = () => L.DomUtil.create('div', 'map-legend');
    legend.addTo(map);
    countryLayer = L.geoJSON({ type: 'FeatureCollection', features: shapes }, {
      onEachFeature: (feature, shape) => {
        centres.set(feature.id, centreOf(feature.geometry));
        shape.bindTooltip(() => countryTooltip(feature), { sticky: true });
        shape.on('click', () => countryClicked(feature));
      },
    }).addTo(map);
    fitToData();
    redraw();
  }

  /** Show the countries that have incidents, origins included, rather than a fixed part of the world. */
  function fitToData() {
    const involved = [...state.frame.hosts, ...state.frame.origins]
      .map((row) => centres.get(row.numeric)).filter(Boolean);
    // Without animation: the map has no view yet, and a running zoom animation would undo a later setView.
    if (involved.length === 1) map.setView(involved[0], 4, { animate: false });
    else if (involved.length > 1) {
      map.fitBounds(L.latLngBounds(involved), { padding: [30, 30], maxZoom: 5, animate: false });
    } else map.setView([40, 20], 2, { animate: false });
  }

  // -- the frame: the month shown and the layers, changed in place ----------------------------------------------------

  let asked = 0;

  /** Ask the server for the current address's frame and draw it; a later request wins over an earlier one. */
  async function loadFrame() {
    asked += 1;
    const mine = asked;
    const response = await fetch(`/app/api/map${window.location.search}`, {
      credentials: 'same-origin', headers: { Accept: 'application/json' },
    });
    if (!response.ok) throw new Error(`the map's numbers did not load (${response.status})`);
    const frame = await response.json();
    if (mine !== asked) return;
    state.frame = frame;
    state.month = frame.month;
    redraw();
    writeCounts();
    writeMapTables();
  }

  function writeCounts() {
    const total = state.frame.total;
    counts.replaceChildren();
    const strong = document.createElement('strong');
    strong.textContent = total.toLocaleString('en');
    counts.append(strong, ` incident${total === 1 ? '' : 's'} match`);
    if (state.month) {
      counts.append(` in ${state.month} (the map shows one month; ${data.period_total.toLocaleString('en')} in the whole period).`);
    } else {
      counts.append('.');
    }
  }

  function tableRows(tbody, rows, columns) {
    tbody.replaceChildren();
    if (!rows.length) {
      const row = tbody.insertRow();
      const cell = row.insertCell();
      cell.colSpan = columns;
      cell.textContent = 'None';
      return;
    }
    for (const { text, href, count } of rows) {
      const row = tbody.insertRow();
      const link = document.createElement('a');
      link.href = href;
      link.textContent = text;
      row.insertCell().append(link);
      const number = row.insertCell();
      number.className = 'staff-number';
      number.textContent = count;
    }
  }

  function writeMapTables() {
    const frame = state.frame;
    tableRows(document.querySelector('#map-table-hosts tbody'),
      frame.hosts.map((r) => ({ text: r.label, href: addressWith({ host: r.country }), count: r.count })), 2);
    tableRows(document.querySelector('#map-table-origins tbody'),
      frame.origins.map((r) => ({ text: r.label, href: addressWith({ origin: r.country }), count: r.count })), 2);
    tableRows(document.querySelector('#map-table-flows tbody'), frame.flows.map((f) => ({
      text: `${f.origin_label} → ${f.host_label}`, href: addressWith({ origin: f.origin, host: f.host }), count: f.count,
    })), 2);
  }

  function problem(error) {
    status.textContent = `The map could not be drawn: ${error && error.message ? error.message : error}. The tables hold the same numbers.`;
    if (window.console) console.warn(error);
  }

  // -- the time slider -----------------------------------------------------------------------------------------------

  const slider = document.getElementById('map-month');
  const monthLabel = document.getElementById('map-month-label');
  const play = document.getElementById('map-play');
  const allMonths = document.getElementById('map-all-months');
  const months = data.months;
  let playing = false;
  let timer = null;

  function showMonth(month) {
    state.month = month;
    keepInAddress({ month });
    const hidden = document.querySelector('form.map-filters input[name=month]');
    if (month && hidden) hidden.value = month;
    else if (month) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = 'month';
      input.value = month;
      document.querySelector('form.map-filters').append(input);
    } else if (hidden) hidden.remove();
    monthLabel.textContent = month || 'All months';
    slider.setAttribute('aria-valuetext', month || 'All months');
    slider.value = month ? String(months.indexOf(month)) : '-1'; // -1, before the first month: all months
    allMonths.hidden = !month;
    return loadFrame();
  }

  function stop() {
    playing = false;
    window.clearTimeout(timer);
    play.textContent = 'Play';
    play.setAttribute('aria-pressed', 'false');
  }

  async function step() {
    if (!playing) return;
    const next = state.month ? months.indexOf(state.month) + 1 : 0;
    if (next >= months.length) {
      stop();
      return;
    }
    try {
      await showMonth(months[next]);
    } catch (error) {
      stop();
      problem(error);
      return;
    }
    if (next === months.length - 1) stop();
    else timer = window.setTimeout(step, 900);
  }

  if (slider && months.length > 1) {
    slider.addEventListener('input', () => {
      stop();
      const index = Number(slider.value);
      showMonth(index < 0 ? null : months[index]).catch(problem);
    });
    play.addEventListener('click', () => {
      if (playing) {
        stop();
        return;
      }
      playing = true;
      play.textContent = 'Pause';
      play.setAttribute('aria-pressed', 'true');
      // From the month shown, or from the start when the last (or no) month is shown.
      if (state.month === months[months.length - 1]) state.month = null;
      step();
    });
    allMonths.addEventListener('click', () => {
      stop();
      showMonth(null).catch(problem);
      slider.focus();
    });
  }

  // -- the layer switches, in place ----------------------------------------------------------------------------------

  const form = document.querySelector('form.map-filters');
  if (form) {
    form.addEventListener('change', (event) => {
      const input = event.target;
      if (!['layer', 'flows', 'points'].includes(input.name) || !map) return;
      if (input.name === 'layer') state.layers.choropleth = input.value;
      else state.layers[input.name] = input.checked;
      keepInAddress(layerParams());
      if (input.name === 'points' && input.checked && !state.frame.points) loadFrame().catch(problem);
      else redraw();
    });
  }

  // -- the PNG of the map --------------------------------------------------------------------------------------------

  function drawPointsOnto(context, size) {
    if (!pointLayer || !map.hasLayer(pointLayer)) return;
    const seen = new Set();
    pointLayer.eachLayer((marker) => {
      const shown = pointLayer.getVisibleParent(marker);
      if (!shown || seen.has(shown)) return;
      seen.add(shown);
      const at = map.latLngToContainerPoint(shown.getLatLng());
      if (at.x < 0 || at.y < 0 || at.x > size.x || at.y > size.y) return;
      const count = shown.getChildCount ? shown.getChildCount() : 1;
      context.beginPath();
      context.arc(at.x, at.y, count > 1 ? 13 : 6, 0, 2 * Math.PI);
      context.fillStyle = count > 1 ? 'rgba(110, 204, 57, 0.85)' : '#5b2a86';
      context.fill();
      context.lineWidth = 1.5;
      context.strokeStyle = '#ffffff';
      context.stroke();
      if (count > 1) {
        context.fillStyle = '#1a1a1a';
        context.font = '11px sans-serif';
        context.textAlign = 'center';
        context.textBaseline = 'middle';
        context.fillText(String(count), at.x, at.y);
      }
    });
  }

  function mapPng() {
    const size = map.getSize();
    const ratio = window.devicePixelRatio || 1;
    const out = document.createElement('canvas');
    out.width = Math.round(size.x * ratio);
    out.height = Math.round(size.y * ratio);
    const context = out.getContext('2d');
    context.scale(ratio, ratio);
    context.fillStyle = BACKGROUND;
    context.fillRect(0, 0, size.x, size.y);
    const box = mapBox.getBoundingClientRect();
    for (const canvas of mapBox.querySelectorAll('.leaflet-pane canvas')) {
      const at = canvas.getBoundingClientRect();
      context.drawImage(canvas, at.left - box.left, at.top - box.top, at.width, at.height);
    }
    drawPointsOnto(context, size);
    context.fillStyle = 'rgba(255, 255, 255, 0.85)';
    context.fillRect(0, size.y - 24, size.x, 24);
    context.fillStyle = '#1a1a1a';
    context.font = '12px sans-serif';
    context.textAlign = 'left';
    context.textBaseline = 'middle';
    context.fillText(`tnrwatch · ${status.textContent} · Natural Earth shapes`, 8, size.y - 12);
    out.toBlob((blob) => {
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = `tnrwatch-map${state.month ? `-${state.month}` : ''}.png`;
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    }, 'image/png');
  }

  const pngButton = document.getElementById('map-png');
  if (pngButton) pngButton.addEventListener('click', () => { if (map) mapPng(); });

  // -- the charts: specs from the server, a click on a bar filters by it ----------------------------------------------

  const CHART_FILTERS = {
    // Vega-Lite parses the month into a date (UTC midnight of its first day).
    timeline: (datum) => (datum.month ? monthRange(new Date(datum.month).toISOString().slice(0, 7)) : null),
    pairs: (datum) => (datum.origin && datum.host ? { origin: datum.origin, host: datum.host } : null),
    tactics: (datum) => (datum.value ? { tactic_family: datum.value } : null),
    targets: (datum) => (datum.value ? { target_category: datum.value } : null),
  };

  async function drawCharts() {
    if (!window.vegaEmbed) return;
    for (const box of document.querySelectorAll('[data-chart]')) {
      const name = box.dataset.chart;
      const spec = data.charts[name];
      if (!spec) continue;
      const rows = Object.values(spec.datasets || {})[0] || [];
      if (!rows.length) { // Vega warns about an empty scale: say it in words instead
        box.removeAttribute('role');
        box.removeAttribute('aria-label');
        box.textContent = 'Nothing to chart: no incident matches.';
        continue;
      }
      const result = await vegaEmbed(box, spec, {
        renderer: 'canvas', actions: false, defaultStyle: false, tooltip: false, ast: true,
        expr: vegaInterpreter.expressionInterpreter,
      });
      box.vegaView = result.view; // for the browser tests: where a bar lies
      result.view.addEventListener('click', (event, item) => {
        if (!item || !item.datum || !item.mark || item.mark.marktype !== 'rect' || item.mark.role !== 'mark') return;
        const changes = CHART_FILTERS[name](item.datum);
        if (changes) filterBy(changes);
      });
    }
  }

  drawMap().catch(problem);
  drawCharts().catch((error) => {
    status.textContent = `A chart could not be drawn: ${error.message}. The tables hold the same numbers.`;
  });
}());
