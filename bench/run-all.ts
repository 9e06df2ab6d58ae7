// Every benchmark, one after the other (never two at once: they would measure
// each other): first the single-process ones (bench/micro/), then those that
// start servers and client processes (bench/system/). Quick mode by default
// (a few minutes in all); --full for the figures bench/README.md quotes (much
// longer). Each prints its table and saves its JSON under bench/results/.
//   npm run bench [-- --full] [-- --only knn,snap]
// --only takes the short name (knn, grpc, load/run) or the path under bench/
// (micro/knn, system/load/run).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './lib/common.js';

const BENCHES = [
  'micro/ceiling',
  'micro/art',
  'micro/snap',
  'micro/knn',
  'micro/mapbuild',
  'micro/scaling',
  'micro/handoff',
  'micro/pipeline',
  'micro/churn',
  'system/grpc',
  'system/security',
  'system/transfer',
  'system/cluster-throughput',
  'system/load/run',
  'system/batch',
  'system/tail',
  'system/chaos',
];
const shortName = (b: string): string => b.slice(b.indexOf('/') + 1);

const argv = process.argv.slice(2);
const full = argv.includes('--full');
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1]!.split(',') : undefined;
const unknown = (only ?? []).filter((x) => !BENCHES.some((b) => b === x || shortName(b) === x));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')}; one of ${BENCHES.map(shortName).join(', ')}`);
  process.exit(2);
}
const failed: string[] = [];
for (const b of BENCHES.filter((x) => !only || only.includes(x) || only.includes(shortName(x)))) {
  console.log(`\n━━ bench/${b} ${full ? '' : '--quick'}`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(ROOT, 'dist', 'bench', `${b}.js`), ...(full ? [] : ['--quick'])], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(b);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
