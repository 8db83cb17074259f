/**
 * @module controller.ComputeHash: the pod-template-hash / controller-revision-hash that names
 * a Deployment's ReplicaSets, a DaemonSet's and a StatefulSet's revisions.
 */
import { canonicalJson } from './equality.js';

function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** rand.SafeEncodeString's alphabet: no vowels, no look-alikes. */
const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each byte of s picks a letter of the safe alphabet. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += safeAlphabet[s.charCodeAt(i) % safeAlphabet.length];
  return out;
}

/**
 * controller.ComputeHash: FNV-32a of the template (here its canonical JSON, null fields
 * omitted as a decoded Go struct would), then the collision count as 4 little-endian bytes
 * when set (0 included), written in decimal and safe-encoded.
 */
export function computeHash(template: unknown, collisionCount?: number | null): string {
  let h = fnv32a(Buffer.from(canonicalJson(template, { omitNullFields: true }), 'utf8'));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(collisionCount >>> 0);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}
