// A thin main for the e2e tests: `node dist/test/e2e/serve-main.js --map … --grpc-port 0 --http-port 0`.
// Until the lead wires `faros serve` in src/bin/faros.ts, this is how a real server process starts.
import { runServe } from '../../src/cli/serve.js';

// node --test runs every .js under a test/ directory; as a test file this main does nothing.
if (process.env.NODE_TEST_CONTEXT === undefined) {
  runServe(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`faros serve: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
