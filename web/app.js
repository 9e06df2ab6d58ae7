// The Faros map page: roads from GET /v1/maps/{id}/roads, drivers from the
// event stream GET /v1/maps/{id}/live, a click explained by
// POST /v1/nearby:explain and then kept live by GET /v1/nearby:watch. Plain browser JS over Leaflet (a classic script,
// loaded after leaflet.js); no build step.

const $ = (sel) => document.querySelector(sel);
const PATH_COLORS = ['#e4572e', '#f3a712', '#29a35a', '#2e86de', '#a05195', '#d45087', '#665191', '#2f4b7c', '#ff7c43', '#008080'];

const map = L.map('map', { preferCanvas: true, zoomSnap: 0.25 });
map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
map.attributionControl.addAttribution('Roads © <a href="https://www.openstreetmap.org/copyright">OpenStreetMap contributors</a> (ODbL)');
const renderer = L.canvas({ padding: 0.3 });

const layers = {
  roads: L.layerGroup().addTo(map),
  area: L.layerGroup().addTo(map),
  drivers: L.layerGroup().addTo(map),
  answer: L.layerGroup().addTo(map),
};
const state = { mapId: '', edges: [], markers: new Map(), stream: null, clicks: 0, pickup: null };
/** A changed answer is explained again (paths, straight line) at most this often. */
const REFRESH_MS = 1000;
// For the browser test and the curious (devtools): the Leaflet map and the page's state.
window.faros = { map, state };

function setStatus(text) {
  $('#status').textContent = text;
}

function showError(prefix, body) {
  const msg = body?.error ? body.error.message : String(body);
  $('#note').textContent = `${prefix}: ${msg}`;
}

/** Decode the roads message: edge e → [[lat, lng], ...]. */
function decodeRoads(r) {
  const edges = new Array(r.counts.length);
  let lat = 0,
    lng = 0,
    i = 0;
  for (let e = 0; e < r.counts.length; e++) {
    const pts = new Array(r.counts[e]);
    for (let j = 0; j < pts.length; j++, i += 2) {
      lat += r.coords[i];
      lng += r.coords[i + 1];
      pts[j] = [lat / r.scale, lng / r.scale];
    }
    edges[e] = pts;
  }
  return edges;
}

async function loadMaps() {
  const res = await fetch('/v1/maps');
  const body = await res.json();
  if (!res.ok) return showError('cannot list maps', body);
  const select = $('#map-select');
  for (const m of body.maps) {
    const o = document.createElement('option');
    o.value = m.mapId;
    o.textContent = `${m.mapId} (${m.drivers} drivers)`;
    select.append(o);
  }
  const wanted = new URLSearchParams(location.search).get('map');
  const busiest = [...body.maps].sort((a, b) => Number(b.drivers) - Number(a.drivers))[0];
  const pick = body.maps.find((m) => m.mapId === wanted) ?? busiest;
  if (!pick) return setStatus('no maps');
  select.value = pick.mapId;
  select.addEventListener('change', () => selectMap(select.value));
  await selectMap(pick.mapId);
}

async function selectMap(mapId) {
  unwatch();
  state.mapId = mapId;
  history.replaceState(null, '', `?map=${encodeURIComponent(mapId)}`);
  for (const l of Object.values(layers)) l.clearLayers();
  state.markers.clear();
  $('#answer').hidden = true;
  $('#summary').textContent = '';
  $('#note').textContent = '';
  setStatus(`loading ${mapId}…`);
  const res = await fetch(`/v1/maps/${encodeURIComponent(mapId)}/roads`);
  const body = await res.json();
  if (!res.ok) return showError(`cannot load the roads of ${mapId}`, body);
  if (state.mapId !== mapId) return;
  state.edges = decodeRoads(body);
  L.polyline(state.edges, { renderer, color: '#9aa0aa', weight: 1.5, interactive: false }).addTo(layers.roads);
  const b = body.bounds;
  map.fitBounds([
    [b.minLat, b.minLng],
    [b.maxLat, b.maxLng],
  ]);
  document.body.dataset.roads = String(state.edges.length);
  watch(mapId);
}

function watch(mapId) {
  state.stream?.close();
  const es = new EventSource(`/v1/maps/${encodeURIComponent(mapId)}/live`);
  state.stream = es;
  es.addEventListener('drivers', (ev) => {
    const m = JSON.parse(ev.data);
    if (m.full) {
      layers.drivers.clearLayers();
      state.markers.clear();
    }
    for (const [id, lat, lng, status] of m.moved) {
      const color = status === 'busy' ? '#c0392b' : '#1e8449';
      const mk = state.markers.get(id);
      if (mk) mk.setLatLng([lat, lng]).setStyle({ color, fillColor: color });
      else
        state.markers.set(
          id,
          L.circleMarker([lat, lng], { renderer, radius: 3.5, weight: 1, color, fillColor: color, fillOpacity: 0.9 }).bindTooltip(id).addTo(layers.drivers),
        );
    }
    for (const id of m.gone) {
      state.markers.get(id)?.remove();
      state.markers.delete(id);
    }
    document.body.dataset.drivers = String(state.markers.size);
    setStatus(`${state.markers.size} drivers live${m.truncated ? ' (first ones only)' : ''} on ${mapId}`);
  });
  es.addEventListener('elsewhere', (ev) => {
    const m = JSON.parse(ev.data);
    layers.drivers.clearLayers();
    state.markers.clear();
    document.body.dataset.drivers = '0';
    setStatus(`${mapId}: drivers not held here`);
    $('#note').textContent =
      `This instance holds no replica of ${mapId}, so it cannot show its drivers live (they are on ${m.replicas.join(', ')}); ` +
      'open the page on one of those instances. Clicks still show the nearby answer.';
  });
  es.onerror = () => setStatus(`${mapId}: live stream interrupted, reconnecting…`);
}

function postExplain(req) {
  return fetch('/v1/nearby:explain', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req) });
}

async function explain(latlng) {
  unwatch();
  const click = ++state.clicks;
  const k = Math.max(1, Math.min(50, Number($('#k').value) || 5));
  const req = { mapId: state.mapId, location: { lat: latlng.lat, lng: latlng.lng }, k, metric: $('#metric').value };
  const res = await postExplain(req);
  const body = await res.json();
  // A later click, or another map, made this answer moot.
  if (click !== state.clicks || req.mapId !== state.mapId) return;
  layers.area.clearLayers();
  layers.answer.clearLayers();
  if (!res.ok) {
    $('#answer').hidden = true;
    $('#summary').textContent = '';
    return showError('no answer', body);
  }
  $('#note').textContent = '';
  draw(latlng, body, k, true);
  watchAnswer(latlng, req, body);
}

/** The driver IDs of an answer in order, as one string to compare. */
const idsOf = (drivers) => drivers.map((d) => d.driverId).join(',');

/**
 * Keep the clicked point's answer live: each WatchNearby message whose driver
 * list differs from the one drawn is explained again (at most once per
 * REFRESH_MS) and redrawn, without moving the view.
 */
function watchAnswer(latlng, req, shown) {
  const q = new URLSearchParams({ map_id: req.mapId, lat: String(req.location.lat), lng: String(req.location.lng), k: String(req.k), metric: req.metric });
  const w = { es: new EventSource(`/v1/nearby:watch?${q}`), shown: idsOf(shown.paths), latest: '', timer: 0, last: Date.now(), messages: 0 };
  state.pickup = w;
  w.es.addEventListener('message', (ev) => {
    const r = JSON.parse(ev.data);
    w.latest = idsOf(r.drivers.map((d) => d.driver));
    document.body.dataset.watchMessages = String(++w.messages);
    setLive(true);
    refreshSoon(w, latlng, req);
  });
  // The server's `error` event (a refusal, the map gone) or a broken connection: stop here rather than let EventSource reconnect.
  w.es.addEventListener('error', (ev) => {
    unwatch();
    $('#note').textContent =
      `The answer is no longer live${ev.data ? `: ${JSON.parse(ev.data).error.message}` : ' (the connection broke)'}; click again to watch it.`;
  });
}

function refreshSoon(w, latlng, req) {
  if (w.latest !== w.shown && !w.timer)
    w.timer = setTimeout(
      () => refresh(w, latlng, req).catch((err) => showError('the live answer could not be redrawn', err)),
      Math.max(0, w.last + REFRESH_MS - Date.now()),
    );
}

async function refresh(w, latlng, req) {
  w.timer = 0;
  w.last = Date.now();
  const res = await postExplain(req);
  const body = await res.json();
  if (state.pickup !== w) return;
  if (!res.ok) return showError('no answer', body);
  layers.area.clearLayers();
  layers.answer.clearLayers();
  draw(latlng, body, req.k, false);
  w.shown = idsOf(body.paths);
  document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed ?? 0) + 1);
  // The explain may have read another snapshot than the last message: try again (still at most once per REFRESH_MS).
  refreshSoon(w, latlng, req);
}

function unwatch() {
  const w = state.pickup;
  if (!w) return;
  state.pickup = null;
  w.es.close();
  clearTimeout(w.timer);
  setLive(false);
}

function setLive(on) {
  $('#live').hidden = !on;
  document.body.dataset.watching = on ? 'live' : '';
}

function draw(pickup, x, k, fit) {
  L.polyline(
    x.settledEdges.map((e) => state.edges[e]),
    { renderer, color: '#4da3ff', weight: 6, opacity: 0.35, interactive: false },
  ).addTo(layers.area);
  const roadK = $('#road-k');
  const lineK = $('#line-k');
  roadK.replaceChildren();
  lineK.replaceChildren();
  // Drawn farthest first, so where paths share a road the nearest driver's is on top.
  for (let i = x.paths.length - 1; i >= 0; i--)
    L.polyline(x.paths[i].path, { renderer, color: PATH_COLORS[i % PATH_COLORS.length], weight: 4, opacity: 0.9 }).addTo(layers.answer);
  x.paths.forEach((p, i) => {
    const color = PATH_COLORS[i % PATH_COLORS.length];
    const end = p.path[0];
    if (end)
      L.circleMarker(end, { renderer, radius: 7, color, weight: 3, fillOpacity: 0 })
        .bindTooltip(String(i + 1), { permanent: true, direction: 'top', className: 'rank' })
        .addTo(layers.answer);
    const li = document.createElement('li');
    li.textContent = `${p.driverId} — ${p.distanceM.toFixed(0)} m, ${p.etaS.toFixed(0)} s`;
    li.style.borderLeft = `4px solid ${color}`;
    li.style.paddingLeft = '4px';
    roadK.append(li);
  });
  if ('unavailable' in x.straightLine) {
    const li = document.createElement('li');
    li.textContent = x.straightLine.unavailable;
    lineK.append(li);
    $('#summary').textContent = '';
  } else {
    for (const d of x.straightLine.drivers) {
      L.polyline(
        [
          [pickup.lat, pickup.lng],
          [d.location.lat, d.location.lng],
        ],
        { renderer, color: '#9b2fbd', weight: 2, dashArray: '4 6' },
      ).addTo(layers.answer);
      const li = document.createElement('li');
      li.textContent = `${d.driverId} — ${d.distanceM.toFixed(0)} m${d.inRoadAnswer ? '' : ' (not in the road answer)'}`;
      if (!d.inRoadAnswer) li.className = 'missing';
      lineK.append(li);
    }
    const n = x.straightLine.notInRoadAnswer,
      of = x.straightLine.drivers.length;
    $('#summary').textContent =
      of === 0 ? 'No driver matches.' : `${n} of the ${of} nearest by straight line ${n === 1 ? 'is' : 'are'} not among the ${k} nearest by road.`;
  }
  L.circleMarker([pickup.lat, pickup.lng], { renderer, radius: 7, color: '#000', weight: 3, fillColor: '#fff', fillOpacity: 1 }).addTo(layers.answer);
  // Bring the whole answer into view (it may reach beyond the screen, or be a few pixels wide); a live redraw leaves the view alone.
  if (fit) fitAnswer(pickup, x);
  $('#settled').textContent = `${x.settledEdges.length} (found ${x.paths.length} of ${k} in ${x.edgesExpanded} settled directions)`;
  $('#answer').hidden = false;
  document.body.dataset.paths = String(x.paths.length);
  document.body.dataset.answered = String(state.clicks);
}

function fitAnswer(pickup, x) {
  const pts = [[pickup.lat, pickup.lng], ...x.paths.flatMap((p) => p.path)];
  if (!('unavailable' in x.straightLine)) for (const d of x.straightLine.drivers) pts.push([d.location.lat, d.location.lng]);
  map.fitBounds(L.latLngBounds(pts).pad(0.15), { maxZoom: 18 });
}

map.on('click', (e) => {
  explain(e.latlng).catch((err) => showError('the explain request failed', err));
});
loadMaps().catch((err) => showError('the page failed to start', err));
