/**
 * @module The release codec of Helm 3's Secret driver: JSON, gzipped, base64 — stored in
 * the Secret's data.release, which the API encodes in base64 once more. Secrets are named
 * sh.helm.release.v1.NAME.vVERSION, typed helm.sh/release.v1 and labelled
 * name/owner=helm/status/version so helm and skiff read each other's releases.
 */
import { gunzipSync, gzipSync, constants } from 'node:zlib';
import type { KObject } from '../../api/types.js';
import type { Release } from './types.js';

export const releaseSecretType = 'helm.sh/release.v1';
export const releaseOwner = 'helm';

/** Helm's storage key: "sh.helm.release.v1.NAME.vVERSION". */
export function releaseKey(name: string, version: number): string {
  return `sh.helm.release.v1.${name}.v${version}`;
}

/** Thrown when a Secret holds something that is not a release. */
export class ReleaseDecodeError extends Error {
  override name = 'ReleaseDecodeError';
  constructor(
    message: string,
    readonly secretName?: string,
  ) {
    super(message);
  }
}

const gzipMagic = [0x1f, 0x8b, 0x08];

/** base64(gzip(JSON)) as Helm's encodeRelease writes it (best compression). */
export function encodeRelease(rel: Release): string {
  return gzipSync(Buffer.from(JSON.stringify(rel)), { level: constants.Z_BEST_COMPRESSION }).toString('base64');
}

/** Inverse of encodeRelease; as Helm, accepts uncompressed JSON too (releases written before compression). */
export function decodeRelease(data: string): Release {
  const b = Buffer.from(data, 'base64');
  let json: Buffer = b;
  if (b.length > 3 && gzipMagic.every((m, i) => b[i] === m)) json = gunzipSync(b);
  let rel: unknown;
  try {
    rel = JSON.parse(json.toString('utf8'));
  } catch (err) {
    throw new ReleaseDecodeError(`invalid release data: ${(err as Error).message}`);
  }
  if (!rel || typeof rel !== 'object' || typeof (rel as Release).name !== 'string') throw new ReleaseDecodeError('invalid release data: not a release');
  const r = rel as Release;
  r.info ??= { deleted: '' };
  r.version ??= 0;
  r.namespace ??= '';
  return r;
}

/** The Secret Helm's Secret driver writes for a release. */
export function releaseToSecret(rel: Release, extraLabels: Record<string, string> = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: releaseKey(rel.name, rel.version),
      namespace: rel.namespace,
      labels: { ...extraLabels, name: rel.name, owner: releaseOwner, status: rel.info.status ?? 'unknown', version: String(rel.version) },
    },
    type: releaseSecretType,
    // data holds base64 of the encoded release: the release bytes are base64 twice, as Helm's.
    data: { release: Buffer.from(encodeRelease(rel)).toString('base64') },
  };
}

/** The release a Secret (as read from the API: data in base64) holds. */
export function secretToRelease(secret: KObject): Release {
  const data = (secret.data as Record<string, string> | undefined)?.release;
  if (typeof data !== 'string') throw new ReleaseDecodeError(`secret ${secret.metadata?.name} holds no release`, secret.metadata?.name);
  try {
    return decodeRelease(Buffer.from(data, 'base64').toString('utf8'));
  } catch (err) {
    throw new ReleaseDecodeError(`secret ${secret.metadata?.name}: ${(err as Error).message}`, secret.metadata?.name);
  }
}
