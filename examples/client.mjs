// Talks to the instances `npm start` runs (start it in another terminal):
//   node examples/client.mjs
// FAROS_TARGETS (host:port,...) and FAROS_AT (mapId,lat,lng) point it elsewhere.
import { FarosClient } from 'faros/client';

const targets = (process.env.FAROS_TARGETS ?? '127.0.0.1:50051,127.0.0.1:50052,127.0.0.1:50053').split(',');
const [mapId, lat, lng] = (process.env.FAROS_AT ?? 'andorra-car,42.5078,1.5211').split(',');
const at = { lat: Number(lat), lng: Number(lng) };

const client = new FarosClient({ targets, deadlineMs: 2000 });

const { maps } = await client.listMaps();
console.log(`maps: ${maps.map((m) => `${m.mapId} (${m.drivers} drivers)`).join(', ')}`);

// 200 drivers scattered around the point, batched onto one stream. WRITE_ACK_ALL:
// acknowledged once every replica has them, so the query below sees them on any replica.
const updater = client.streamUpdates({
  flushMs: 10,
  ack: 'WRITE_ACK_ALL',
  onRejected: (r) => console.log(`refused ${r.update.driverId}: ${r.code} ${r.message}`),
});
for (let i = 0; i < 200; i++) {
  const location = { lat: at.lat + (Math.random() - 0.5) * 0.004, lng: at.lng + (Math.random() - 0.5) * 0.004 };
  await updater.write({ mapId, driverId: `example-${i}`, location, metadata: { status: i % 4 ? 'available' : 'busy' } });
}
await updater.close();
console.log(`updates: ${JSON.stringify(updater.stats())}`);

const near = await client.nearby({ mapId, location: at, k: 5, metric: 'METRIC_ETA', filter: { status: 'available' } });
for (const d of near.drivers) console.log(`${d.driver.driverId}: ${d.distanceM.toFixed(0)} m, ${d.etaS.toFixed(0)} s`);
console.log(`served by ${near.stats.servedBy}`);

if (near.drivers.length === 0) throw new Error(`no available driver near ${mapId} ${at.lat},${at.lng}`);
const first = near.drivers[0].driver.driverId;
const { driver } = await client.getDriver({ mapId, driverId: first });
console.log(`${first} is at ${driver.location.lat}, ${driver.location.lng} (snapped ${driver.snapped.snapDistanceM.toFixed(1)} m)`);

// Watch the point: the first message is the answer above; removing the nearest driver changes it.
let seen = 0;
for await (const answer of client.watchNearby({
  query: { mapId, location: at, k: 5, metric: 'METRIC_ETA', filter: { status: 'available' } },
  minIntervalMs: 100,
})) {
  console.log(`watch message ${++seen}: ${answer.drivers.map((d) => d.driver.driverId).join(', ')}`);
  if (seen === 1) await client.removeDriver({ mapId, driverId: first });
  else break; // cancels the watch
}

try {
  await client.getDriver({ mapId, driverId: first });
} catch (e) {
  console.log(`after removeDriver: ${e.code}`); // NOT_FOUND
}
client.close();
