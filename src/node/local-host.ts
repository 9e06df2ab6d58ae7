// A ShardHost that serves every configured map from this process.
import { loadMap, type Log } from '../mapbuild/build.js';
import type { MapEntry } from '../mapbuild/catalog.js';
import { Model } from '../model/model.js';
import { FarosError } from '../errors.js';
import type { CallOptions, MapInfoView, NearbyAnswer, ShardHost } from './host.js';
import type { DriverUpdate, DriverView, NearbyQuery, UpdateResult } from '../model/types.js';

export interface LocalHostOptions { name: string; maps: MapEntry[]; cacheDir?: string; log?: Log }

export class LocalHost implements ShardHost {
  readonly name: string;
  private readonly models = new Map<string, { entry: MapEntry; model?: Model }>();
  private loading: Promise<void> | undefined;

  constructor(private readonly opts: LocalHostOptions) {
    this.name = opts.name;
    for (const m of opts.maps) this.models.set(m.id, { entry: m });
  }

  /** Load (or build) every map; resolves when all are ready. */
  start(): Promise<void> {
    this.loading ??= (async () => {
      for (const slot of this.models.values()) {
        const t0 = Date.now();
        const g = await loadMap(slot.entry.file, slot.entry.profile, { cacheDir: this.opts.cacheDir, log: this.opts.log });
        slot.model = new Model(g, { snapRadiusM: slot.entry.snapRadiusM, ttlMs: slot.entry.ttlS * 1000 });
        this.opts.log?.(`map ${slot.entry.id} ready in ${Date.now() - t0} ms`);
      }
    })();
    return this.loading;
  }

  ready(): boolean { return [...this.models.values()].every((s) => s.model !== undefined); }

  checkMap(mapId: string): void { this.model(mapId); }

  private model(mapId: string): Model {
    const slot = this.models.get(mapId);
    if (!slot) throw new FarosError('NOT_FOUND', `unknown map "${mapId}"; this instance serves: ${[...this.models.keys()].join(', ')}`);
    if (!slot.model) throw new FarosError('UNAVAILABLE', `map "${mapId}" is still loading; retry shortly`);
    return slot.model;
  }

  maps(): MapInfoView[] {
    return [...this.models.values()].map(({ entry, model }) => ({
      mapId: entry.id, profile: entry.profile, drivers: model?.size ?? 0,
      bounds: model?.graph.meta.bounds ?? { minLat: 0, minLng: 0, maxLat: 0, maxLng: 0 },
      replicas: [this.name],
    }));
  }

  async update(mapId: string, updates: DriverUpdate[], opts?: CallOptions): Promise<UpdateResult[]> {
    const m = this.model(mapId);
    opts?.signal?.throwIfAborted();
    return updates.map((u) => m.update(u));
  }

  async remove(mapId: string, driverId: string): Promise<boolean> { return this.model(mapId).remove(driverId); }

  async get(mapId: string, driverId: string): Promise<DriverView | undefined> { return this.model(mapId).get(driverId); }

  async nearby(mapId: string, q: NearbyQuery, opts?: CallOptions): Promise<NearbyAnswer> {
    const m = this.model(mapId);
    opts?.signal?.throwIfAborted();
    const r = m.nearby(q);
    if (!r.ok) throw new FarosError('OUT_OF_RANGE', r.message);
    return { drivers: r.drivers, querySnapped: r.querySnapped, stats: { ...r.stats, servedBy: this.name } };
  }

  async close(): Promise<void> {}
}
