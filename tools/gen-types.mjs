#!/usr/bin/env node
// Generates the TypeScript message types of proto/ into src/gen (or the given
// directory) with proto-loader's own generator. The options match
// LOADER_OPTIONS in src/api/proto.ts, so each `X__Output` type is exactly the
// object proto-loader hands a handler or a client at run time.
//   node tools/gen-types.mjs [outDir]        (npm run gen)
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(process.argv[2] ?? join(root, 'src', 'gen'));
const bin = join(dirname(createRequire(import.meta.url).resolve('@grpc/proto-loader/package.json')), 'build', 'bin', 'proto-loader-gen-types.js');

const GEN_ARGS = [
  '--longs=String',
  '--enums=String',
  '--defaults',
  '--oneofs',
  '--includeComments',
  '--grpcLib=@grpc/grpc-js',
  '--importFileExtension=.js',
  '-I',
  'proto',
  '-O',
  outDir,
  'faros/v1/faros.proto',
  'faros/v1/peer.proto',
];

rmSync(outDir, { recursive: true, force: true });
// cwd = the package root: the generator writes the proto's path into each file's header.
execFileSync(process.execPath, [bin, ...GEN_ARGS], { cwd: root, stdio: 'inherit' });
