// Every benchmark, one after the other (never two at once: they would measure
// each other). Quick mode by default (a few minutes in all); --full for the
// figures the documents quote (much longer). Each prints its table and saves
// its JSON under bench/results/.
//   npm run bench [-- --full] [-- --only knn,snap]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './lib/common.js';

const BENCHES = [
  'ceiling',
  'art',
  'snap',
  'knn',
  'mapbuild',
  'scaling',
  'handoff',
  'pipeline',
  'churn',
  'grpc',
  'security',
  'transfer',
  'cluster-throughput',
  'load/run',
];

const argv = process.argv.slice(2);
const full = argv.includes('--full');
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1]!.split(',') : undefined;
const failed: string[] = [];
for (const b of BENCHES.filter((x) => !only || only.includes(x))) {
  console.log(`\n━━ bench/${b} ${full ? '' : '--quick'}`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(ROOT, 'dist', 'bench', `${b}.js`), ...(full ? [] : ['--quick'])], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(b);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
