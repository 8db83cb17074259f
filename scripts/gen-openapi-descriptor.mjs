#!/usr/bin/env node
// Extracts gnostic's openapiv2/OpenAPIv2.proto descriptor (the message set of the
// protobuf OpenAPI v2 document kubectl 1.27/1.28 download) from a kubectl binary, where
// golang/protobuf keeps it as raw FileDescriptorProto bytes, and writes it as a
// protobufjs JSON root to src/api/openapi/openapiv2-descriptor.json (committed).
// Usage: node scripts/gen-openapi-descriptor.mjs [path/to/kubectl]
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs');
const descriptor = require('protobufjs/ext/descriptor');

const binaryPath = process.argv[2] ?? '/usr/lib/google-cloud-sdk/bin/kubectl.1.27';
const out = new URL('../src/api/openapi/openapiv2-descriptor.json', import.meta.url);
const fileName = 'openapiv2/OpenAPIv2.proto';

const bin = readFileSync(binaryPath);
const needle = Buffer.concat([Buffer.from([0x0a, fileName.length]), Buffer.from(fileName)]);
const start = bin.indexOf(needle);
if (start < 0) throw new Error(`${fileName} descriptor not found in ${binaryPath}`);

// Walk top-level FileDescriptorProto fields until the syntax field (12), which Go's
// generator writes last; anything else past the end is unrelated data.
let pos = start;
function varint() {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = bin[pos++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return Number(result);
    shift += 7n;
  }
}
for (;;) {
  const tag = varint();
  const field = tag >>> 3;
  const wire = tag & 7;
  if (wire !== 2 || field < 1 || field > 14) throw new Error(`unexpected field ${field}/${wire} at ${pos - start}`);
  const len = varint();
  pos += len;
  if (field === 12) break;
}
const raw = bin.subarray(start, pos);
const file = descriptor.FileDescriptorProto.decode(raw);
// The descriptor imports google/protobuf/any.proto, which protobufjs ships.
const anyRoot = protobuf.Root.fromJSON({ nested: protobuf.common.get('google/protobuf/any.proto').nested });
const anyFile = anyRoot.toDescriptor('proto3').file[0];
const set = descriptor.FileDescriptorSet.create({ file: [anyFile, file] });
const root = protobuf.Root.fromDescriptor(set);
root.lookupType('openapi.v2.Document');
writeFileSync(out, JSON.stringify(root.toJSON(), null, 1) + '\n');
console.log(`wrote ${out.pathname} (${raw.length} descriptor bytes, ${file.messageType.length} messages)`);
