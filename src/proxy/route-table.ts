// The RouteTable: map ID → replica set, from consistent hashing over the live
// members. Every instance computes the same table from the same membership
// (the ring depends only on the sorted member names), so no coordinator is
// needed. Resolved sets are cached per map ID: hashring costs ~3 µs a call.
import HashRing from 'hashring';

export class RouteTable {
  readonly members: readonly string[];
  private readonly ring: HashRing;
  private readonly cache = new Map<string, readonly string[]>();

  constructor(
    members: Iterable<string>,
    readonly replication: number,
  ) {
    this.members = Object.freeze([...new Set(members)].sort());
    this.ring = new HashRing(this.members as string[]);
  }

  /** The instances that hold mapId, primary first. */
  replicas(mapId: string): readonly string[] {
    let r = this.cache.get(mapId);
    if (r === undefined) {
      r = this.members.length === 0 ? [] : Object.freeze(this.ring.range(mapId, Math.min(this.replication, this.members.length), true) as string[]);
      this.cache.set(mapId, r);
    }
    return r;
  }

  holds(instance: string, mapId: string): boolean {
    return this.replicas(mapId).includes(instance);
  }

  /** Same members, same factor → same table. */
  sameAs(other: RouteTable | undefined): boolean {
    return (
      !!other && other.replication === this.replication && other.members.length === this.members.length && other.members.every((m, i) => m === this.members[i])
    );
  }
}
