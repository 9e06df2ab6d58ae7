// The live map page (GET /) and the routes it reads: a map's road geometry,
// its drivers as server-sent events, and a nearby answer explained (road
// paths, settled edges, and the K nearest by straight line beside it).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadMap } from '../mapbuild/build.js';
import type { MapEntry } from '../mapbuild/catalog.js';
import { haversine } from '../mapbuild/geo.js';
import type { RoadGraph } from '../model/graph/roadgraph.js';
import { explainNearby, type ExplainedPath } from '../model/knn/explain.js';
import { KnnSearch } from '../model/knn/knn.js';
import { Snapper } from '../model/snap/snap.js';
import type { NearbyQuery } from '../model/types.js';
import type { ShardHost } from '../node/host.js';
import type { Shard } from '../threads/shard.js';
import { FarosError } from '../errors.js';
import { quote } from '../quote.js';
import { LiveFeeds } from './live.js';
import type { Metrics } from '../metrics.js';
import { roadsOf } from './roads.js';

/** The page's own files (web/ at the package root) and Leaflet's, from its npm package. */
const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

interface StaticFile {
  body: Buffer;
  type: string;
}

/** Every file the page may load, read once: a request names one of these or gets 404 (no path is ever joined from a URL). */
function staticFiles(): Map<string, StaticFile> {
  const LEAFLET_DIR = join(dirname(createRequire(import.meta.url).resolve('leaflet/package.json')), 'dist');
  const files = new Map<string, StaticFile>();
  const add = (url: string, path: string): void => {
    const ext = path.slice(path.lastIndexOf('.'));
    if (TYPES[ext]) files.set(url, { body: readFileSync(path), type: TYPES[ext] });
  };
  for (const f of readdirSync(WEB_DIR)) add(`/map/${f}`, join(WEB_DIR, f));
  add('/', join(WEB_DIR, 'index.html'));
  for (const f of ['leaflet.js', 'leaflet.css']) add(`/map/leaflet/${f}`, join(LEAFLET_DIR, f));
  for (const f of readdirSync(join(LEAFLET_DIR, 'images'))) add(`/map/leaflet/images/${f}`, join(LEAFLET_DIR, 'images', f));
  return files;
}

/** The straight-line K is a scan of every driver on the main thread: fine for a demo, bounded for a big fleet. */
const MAX_STRAIGHT_LINE_SCAN = 200_000;

export interface StraightLineDriver {
  driverId: string;
  location: { lat: number; lng: number };
  /** Great-circle metres from the pick-up point. */
  distanceM: number;
  /** Also among the K nearest by road. */
  inRoadAnswer: boolean;
}

export interface MapPageOptions {
  host: ShardHost;
  /** The configured maps (a map held elsewhere is loaded here for its geometry). */
  maps: readonly MapEntry[];
  cacheDir?: string;
  metrics?: Metrics;
}

export class MapPage {
  readonly live: LiveFeeds;
  private files: Map<string, StaticFile> | Error | undefined;
  private readonly graphs = new Map<string, Promise<RoadGraph>>();
  private readonly roads = new Map<string, { key: string; json: Buffer; gzip: Buffer }>();
  private readonly search = new WeakMap<RoadGraph, { snapper: Snapper; knn: KnnSearch }>();

  constructor(private readonly o: MapPageOptions) {
    this.live = new LiveFeeds({
      localShard: (id) => this.local(id),
      replicas: (id) => o.host.maps().find((m) => m.mapId === id)?.replicas ?? [],
      onStreams: (n) => o.metrics?.liveStreams.set(n),
      onDropped: () => o.metrics?.liveDropped.inc(),
    });
  }

  private local(mapId: string): Shard | undefined {
    return this.o.host.localShard?.(mapId);
  }

  private entry(mapId: string): MapEntry {
    this.o.host.checkMap(mapId);
    const e = this.o.maps.find((m) => m.id === mapId);
    if (!e) throw new FarosError('NOT_FOUND', `unknown map ${quote(mapId)}`);
    return e;
  }

  /** This instance's graph of a map: its shard's, or the compiled file loaded once for the page. */
  private graph(mapId: string): Promise<RoadGraph> {
    const e = this.entry(mapId);
    const shard = this.local(mapId);
    if (shard) return Promise.resolve(shard.graph);
    let g = this.graphs.get(mapId);
    if (!g) {
      g = loadMap(e.file, e.profile, { cacheDir: this.o.cacheDir, shared: false });
      g.catch(() => this.graphs.delete(mapId));
      this.graphs.set(mapId, g);
    }
    return g;
  }

  /** A static file of the page, or false. */
  serveStatic(path: string, res: ServerResponse): boolean {
    if (!this.files) {
      try {
        this.files = staticFiles();
      } catch (e) {
        this.files = e as Error;
      }
    }
    // An install without the page's files (web/, node_modules/leaflet) still serves everything else.
    if (this.files instanceof Error) throw new FarosError('UNAVAILABLE', `the map page is not installed here: ${this.files.message}`);
    const f = this.files.get(path);
    if (!f) return false;
    res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-cache', 'content-length': f.body.length }).end(f.body);
    return true;
  }

  /** GET /v1/maps/{map_id}/roads: JSON (gzipped when the client accepts it), cached by the compiled map's key. */
  async serveRoads(mapId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const g = await this.graph(mapId);
    let r = this.roads.get(mapId);
    if (!r || r.key !== g.meta.key) {
      const json = Buffer.from(JSON.stringify(roadsOf(mapId, g)));
      r = { key: g.meta.key, json, gzip: gzipSync(json) };
      this.roads.set(mapId, r);
    }
    const etag = `"${r.key}"`;
    const headers: Record<string, string | number> = { etag, 'cache-control': 'public, max-age=3600', vary: 'accept-encoding' };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers).end();
      return;
    }
    const gz = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gz ? r.gzip : r.json;
    res
      .writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': body.length, ...(gz ? { 'content-encoding': 'gzip' } : {}) })
      .end(body);
  }

  /** GET /v1/maps/{map_id}/live */
  watch(mapId: string, res: ServerResponse): void {
    this.entry(mapId);
    this.live.watch(mapId, res);
  }

  /**
   * The explanation of a nearby answer the server gave for `q`: road paths and
   * settled edges (replayed with the server's search, explain.ts), and the K
   * nearest by straight line among this instance's drivers of the map.
   */
  async explain(
    mapId: string,
    q: NearbyQuery,
    answer: { drivers: { driver: { driverId: string; location: { lat: number; lng: number } }; distanceM: number }[] },
  ): Promise<{
    paths: ExplainedPath[];
    settledEdges: number[];
    edgesExpanded: number;
    straightLine: { drivers: StraightLineDriver[]; notInRoadAnswer: number } | { unavailable: string };
  }> {
    const g = await this.graph(mapId);
    let s = this.search.get(g);
    if (!s) {
      s = { snapper: new Snapper(g), knn: new KnnSearch(g) };
      this.search.set(g, s);
    }
    const e = this.entry(mapId);
    const x = explainNearby(
      g,
      s.snapper,
      s.knn,
      e.snapRadiusM,
      { lat: q.lat, lng: q.lng, k: q.k, metric: q.metric, limit: q.metric === 'eta' ? q.maxEtaS : q.maxDistanceM },
      answer.drivers.map((d) => ({ driverId: d.driver.driverId, lat: d.driver.location.lat, lng: d.driver.location.lng })),
    );
    if (!x.ok) throw new FarosError('OUT_OF_RANGE', `the pick-up point is ${x.nearestM.toFixed(0)} m from the nearest road of ${quote(mapId)}`);
    const shard = this.local(mapId);
    const roadIds = new Set(answer.drivers.map((d) => d.driver.driverId));
    const replicas = this.o.host.maps().find((m) => m.mapId === mapId)?.replicas ?? [];
    const straightLine = !shard
      ? { unavailable: `this instance holds no replica of ${quote(mapId)}: its drivers are on ${replicas.join(', ')}` }
      : shard.size > MAX_STRAIGHT_LINE_SCAN
        ? { unavailable: `${shard.size} drivers are more than the straight-line ranking scans (${MAX_STRAIGHT_LINE_SCAN}) per click` }
        : await straightLineK(shard, q, roadIds);
    return { paths: x.paths, settledEdges: x.settledEdges, edgesExpanded: x.edgesExpanded, straightLine };
  }
}

/** What a geo index (e.g. Redis GEOSEARCH) would answer: the K nearest reported positions as the crow flies, same filter and TTL. */
async function straightLineK(shard: Shard, q: NearbyQuery, roadIds: ReadonlySet<string>): Promise<{ drivers: StraightLineDriver[]; notInRoadAnswer: number }> {
  const now = Date.now(),
    ttl = shard.options.ttlMs;
  const filter = Object.entries(q.filter ?? {});
  const all: StraightLineDriver[] = [];
  await shard.exportSnapshot((records) => {
    for (const r of records) {
      if (now - r.timestampMs > ttl || !filter.every(([k, v]) => r.metadata[k] === v)) continue;
      const distanceM = haversine(q.lat, q.lng, r.lat, r.lng);
      all.push({ driverId: r.driverId, location: { lat: r.lat, lng: r.lng }, distanceM, inRoadAnswer: roadIds.has(r.driverId) });
    }
  }, 20_000);
  all.sort((a, b) => a.distanceM - b.distanceM || Buffer.compare(Buffer.from(a.driverId), Buffer.from(b.driverId)));
  const drivers = all.slice(0, q.k);
  return { drivers, notInRoadAnswer: drivers.filter((d) => !d.inRoadAnswer).length };
}
