#!/usr/bin/env node
// Regenerates src/api/protobuf/descriptors.json from the FileDescriptorProtos that a
// kubectl binary embeds: gogo protobuf registers every k8s.io/api generated.proto as
// a gzipped descriptor, so field numbers come from Kubernetes itself, never by hand.
// Required-in-JSON markers come from kubernetes-types (the OpenAPI "required" lists).
// Usage: node scripts/gen-proto-descriptors.mjs [path/to/kubectl] [out.json]
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const sdkBin = '/usr/lib/google-cloud-sdk/bin';

function newestKubectl() {
  if (!existsSync(sdkBin)) throw new Error(`no kubectl given and ${sdkBin} does not exist`);
  const found = readdirSync(sdkBin)
    .map((n) => /^kubectl\.1\.(\d+)$/.exec(n))
    .filter((m) => m !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]));
  if (found.length === 0) throw new Error(`no kubectl.1.NN in ${sdkBin}`);
  return join(sdkBin, found[0][0]);
}

const kubectlPath = process.argv[2] ?? newestKubectl();
const outPath = process.argv[3] ?? join(repo, 'src/api/protobuf/descriptors.json');

/** Proto packages skiff serves, plus the apimachinery packages they depend on. */
const WANTED = [
  'k8s.io.api.core.v1',
  'k8s.io.api.apps.v1',
  'k8s.io.api.batch.v1',
  'k8s.io.api.autoscaling.v1',
  'k8s.io.api.autoscaling.v2',
  'k8s.io.api.networking.v1',
  'k8s.io.api.discovery.v1',
  'k8s.io.api.coordination.v1',
  'k8s.io.api.events.v1',
  'k8s.io.api.rbac.v1',
  'k8s.io.api.policy.v1',
  'k8s.io.api.scheduling.v1',
  'k8s.io.api.storage.v1',
  'k8s.io.apimachinery.pkg.apis.meta.v1',
  'k8s.io.apimachinery.pkg.runtime',
  'k8s.io.apimachinery.pkg.runtime.schema',
  'k8s.io.apimachinery.pkg.util.intstr',
  'k8s.io.apimachinery.pkg.api.resource',
  'k8s.io.metrics.pkg.apis.metrics.v1beta1',
];

// ---- a minimal protobuf wire reader (descriptor.proto only) ----
function* fields(buf) {
  let pos = 0;
  const varint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wt = key & 7;
    if (wt === 0) yield { no, wt, value: varint() };
    else if (wt === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw new Error('truncated bytes');
      yield { no, wt, bytes: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wt === 1) {
      pos += 8;
    } else if (wt === 5) {
      pos += 4;
    } else throw new Error(`unsupported wire type ${wt}`);
  }
}
const str = (b) => Buffer.from(b).toString('utf8');

// FieldOptions extension 65001 is (gogoproto.nullable): false marks a Go non-pointer field.
// FieldOptions extension 65004 is (gogoproto.customname), the Go field name.
function parseFieldOptions(b) {
  const o = { nullable: true, goName: '' };
  for (const f of fields(b)) {
    if (f.no === 65001 && f.wt === 0) o.nullable = f.value !== 0n;
    else if (f.no === 65004 && f.wt === 2) o.goName = str(f.bytes);
  }
  return o;
}
function parseField(b) {
  const f = { name: '', number: 0, label: 1, type: 0, typeName: '', nullable: true, goName: '' };
  for (const x of fields(b)) {
    if (x.no === 1) f.name = str(x.bytes);
    else if (x.no === 3) f.number = Number(x.value);
    else if (x.no === 4) f.label = Number(x.value);
    else if (x.no === 5) f.type = Number(x.value);
    else if (x.no === 6) f.typeName = str(x.bytes).replace(/^\./, '');
    else if (x.no === 8) Object.assign(f, parseFieldOptions(x.bytes));
    else if (x.no === 10) f.jsonName = str(x.bytes);
  }
  return f;
}
function parseMessage(b, prefix, out) {
  const m = { name: '', fields: [], mapEntry: false, nested: [] };
  for (const x of fields(b)) {
    if (x.no === 1) m.name = str(x.bytes);
    else if (x.no === 2) m.fields.push(parseField(x.bytes));
    else if (x.no === 3) m.nested.push(x.bytes);
    else if (x.no === 7) for (const o of fields(x.bytes)) if (o.no === 7 && o.wt === 0) m.mapEntry = o.value !== 0n;
  }
  const full = `${prefix}.${m.name}`;
  out.set(full, m);
  for (const n of m.nested) parseMessage(n, full, out);
}
function parseFile(b) {
  const file = { name: '', pkg: '', messages: [] };
  for (const x of fields(b)) {
    if (x.no === 1) file.name = str(x.bytes);
    else if (x.no === 2) file.pkg = str(x.bytes);
    else if (x.no === 4) file.messages.push(x.bytes);
  }
  return file;
}

// ---- find every gzipped FileDescriptorProto in the binary ----
const bin = readFileSync(kubectlPath);
const gzipHeader = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);
/** package → the largest descriptor seen (a few files are registered twice by different generators). */
const files = new Map();
for (let at = bin.indexOf(gzipHeader); at >= 0; at = bin.indexOf(gzipHeader, at + 1)) {
  let raw;
  try {
    // Raw inflate stops at the end of this member; gunzip would run on into an adjacent one.
    raw = zlib.inflateRawSync(bin.subarray(at + gzipHeader.length + 2, at + (4 << 20)), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch {
    continue;
  }
  if (raw[0] !== 0x0a) continue;
  let file;
  try {
    file = parseFile(raw);
  } catch {
    continue;
  }
  if (!file.name.endsWith('.proto')) continue;
  const prev = files.get(file.pkg);
  if (!prev || prev.raw.length < raw.length) files.set(file.pkg, { file, raw });
}

const missing = WANTED.filter((p) => !files.has(p));
if (missing.length) throw new Error(`${kubectlPath} embeds no descriptor for: ${missing.join(', ')}`);

const messages = new Map();
for (const pkg of WANTED) for (const m of files.get(pkg).file.messages) parseMessage(m, pkg, messages);

// ---- required markers from kubernetes-types (proto field names are the JSON names) ----
const typesDir = join(repo, 'node_modules/kubernetes-types');
function requiredFields(pkg) {
  let rel;
  const api = /^k8s\.io\.api\.([a-z0-9]+)\.(v[0-9a-z]+)$/.exec(pkg);
  if (api) rel = `${api[1]}/${api[2]}.d.ts`;
  else if (pkg === 'k8s.io.apimachinery.pkg.apis.meta.v1') rel = 'meta/v1.d.ts';
  else return new Map();
  const path = join(typesDir, rel);
  if (!existsSync(path)) return new Map();
  const text = readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const out = new Map();
  for (const m of text.matchAll(/export interface (\w+) \{([\s\S]*?)\n\}/g)) {
    const req = new Set();
    const all = new Set();
    for (const p of m[2].matchAll(/^\s*(?:readonly\s+)?(\w+)(\??):/gm)) {
      all.add(p[1]);
      if (p[2] !== '?') req.add(p[1]);
    }
    out.set(m[1], { req, all });
  }
  return out;
}
const required = new Map();
for (const pkg of WANTED) for (const [k, v] of requiredFields(pkg)) required.set(`${pkg}.${k}`, v);

// ---- compact output ----
// Each field: [name, number, type, flags, typeName?]; type is FieldDescriptorProto.Type
// (9 string, 12 bytes, 11 message, 5 int32, 3 int64, 8 bool, ...).
// flags: 1 repeated, 2 Go non-pointer (gogoproto.nullable=false), 4 required in JSON,
// 8 inline: a Go embedded struct tagged `json:",inline"` whose fields sit in the parent.
const FLAG_REPEATED = 1;
const FLAG_NON_NULLABLE = 2;
const FLAG_REQUIRED = 4;
const FLAG_INLINE = 8;
const out = {};
let jsonNameMismatches = 0;
for (const [full, m] of [...messages].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
  const tsInfo = required.get(full);
  const fs = m.fields
    .sort((a, b) => a.number - b.number)
    .map((f) => {
      if (f.type === 11 && !messages.has(f.typeName)) throw new Error(`${full}.${f.name}: unknown type ${f.typeName}`);
      let flags = 0;
      // An embedded Go struct keeps its type name as field name; it is inline when the
      // JSON form has no property of that name (ObjectMeta is embedded but "metadata").
      const embedded = f.type === 11 && !f.nullable && f.goName === f.typeName.split('.').pop();
      const inJson = !tsInfo || tsInfo.all.has(f.name);
      if (embedded && !inJson) flags |= FLAG_INLINE;
      else if (embedded && !tsInfo && f.name !== 'metadata') console.warn(`note: ${full}.${f.name} is embedded; assumed not inline`);
      else if (!inJson) {
        jsonNameMismatches++;
        if (process.env.VERBOSE) console.warn(`note: ${full}.${f.name} is newer than kubernetes-types`);
      }
      if (f.label === 3) flags |= FLAG_REPEATED;
      if (!f.nullable) flags |= FLAG_NON_NULLABLE;
      if (tsInfo?.req.has(f.name)) flags |= FLAG_REQUIRED;
      const t = [f.name, f.number, f.type, flags];
      if (f.typeName) t.push(f.typeName);
      return t;
    });
  out[full] = m.mapEntry ? { map: true, fields: fs } : { fields: fs };
}

const lines = Object.entries(out).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
const doc = `{"source":${JSON.stringify(kubectlPath.split('/').pop())},"messages":{\n${lines.join(',\n')}\n}}\n`;
writeFileSync(outPath, doc);
console.log(`${outPath}: ${Object.keys(out).length} messages, ${doc.length} bytes, ${jsonNameMismatches} fields newer than kubernetes-types`);
