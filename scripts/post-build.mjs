#!/usr/bin/env node
// After tsc: make the CLI entry executable (npm links it as the `skiff` bin), and remove
// compiled files whose TypeScript source is gone, so a deleted test never runs again.
import { chmodSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const bin = 'dist/src/cli/main.js';
if (existsSync(bin)) chmodSync(bin, 0o755);

function prune(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      prune(p);
      continue;
    }
    const m = /^(.*)\.js(\.map)?$/.exec(name);
    if (!m) continue;
    const source = join(dir.replace(/^dist/, '.'), `${m[1]}.ts`);
    if (!existsSync(source)) rmSync(p);
  }
}
for (const root of ['dist/src', 'dist/test', 'dist/bench']) if (existsSync(root)) prune(root);
