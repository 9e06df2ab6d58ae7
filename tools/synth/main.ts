// CLI: node dist/tools/synth/main.js --vertices 1000000 --seed 42 --out /tmp/city.osm.pbf [--format xml] [--lat0 N --lng0 N]
import { parseArgs } from 'node:util';
import { generateCity } from './city.js';

const USAGE = 'usage: main.js --vertices N --seed N --out FILE(.osm.pbf|.osm) [--format pbf|xml] [--lat0=DEG] [--lng0=DEG] (negative degrees need the = form)';

function num(name: string, v: string | undefined, dflt?: number): number {
  if (v === undefined) {
    if (dflt !== undefined) return dflt;
    throw new Error(`--${name} is required\n${USAGE}`);
  }
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      vertices: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      lat0: { type: 'string' },
      lng0: { type: 'string' },
    },
  });
  if (values.out === undefined) throw new Error(`--out is required\n${USAGE}`);
  if (values.format !== undefined && values.format !== 'pbf' && values.format !== 'xml') throw new Error(`--format must be pbf or xml, got "${values.format}"`);
  const t0 = performance.now();
  let lastPrint = 0;
  const r = await generateCity({
    vertices: num('vertices', values.vertices),
    seed: num('seed', values.seed, 42),
    out: values.out,
    format: values.format as 'pbf' | 'xml' | undefined,
    lat0: values.lat0 === undefined ? undefined : num('lat0', values.lat0),
    lng0: values.lng0 === undefined ? undefined : num('lng0', values.lng0),
    progress: (stage, done, total) => {
      const now = performance.now();
      if (done < total && now - lastPrint < 500) return;
      lastPrint = now;
      process.stderr.write(`[${((now - t0) / 1000).toFixed(1)} s] ${stage} ${done}/${total}\n`);
    },
  });
  const s = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      file: r.file,
      format: r.format,
      seed: num('seed', values.seed, 42),
      grid: r.grid,
      nodes: r.nodes,
      ways: r.ways,
      relations: r.relations,
      roadVertices: r.roadVertices,
      bytes: r.bytes,
      seconds: Number(s.toFixed(2)),
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    }),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
