#!/usr/bin/env node
// After tsc: make the CLI entry executable (npm links it as the `skiff` bin).
import { chmodSync, existsSync } from 'node:fs';
const bin = 'dist/src/cli/main.js';
if (existsSync(bin)) chmodSync(bin, 0o755);
