/**
 * @module The files of configMap, secret, downwardAPI and projected volumes (kubelet's
 * MakePayload / CollectData): which keys become which paths with which modes, what an
 * optional source that does not exist yields, and kubelet's messages when a required
 * object or key is missing.
 */
import type { KObject } from '../../api/types.js';
import { DownwardAPIError, containerResourceValue, podFieldValue, type DownwardAPIContext } from '../env/downward-api.js';
import type { ObjectSource, TokenRequestSpec } from '../env/sources.js';
import type { FileProjection, Payload } from './atomic-writer.js';

/** kube's default file mode for projected files (0644). */
export const defaultFileMode = 0o644;

/** A volume's content cannot be produced (MountVolume.SetUp fails with this message). */
export class VolumeSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumeSourceError';
  }
}

/** Something the volume could not include but the pod may still run without (a service account token). */
export interface PayloadWarning {
  reason: string;
  message: string;
}

export interface PayloadContext extends DownwardAPIContext {
  pod: KObject;
  source: ObjectSource;
  /** Group that owns the files (pod securityContext.fsGroup), applied when running as root. */
  fsGroup?: number;
  warnings?: PayloadWarning[];
  volumeName?: string;
  /** Issues a service account token (defaults to source.requestToken; the volume manager caches). */
  requestToken?: (spec: TokenRequestSpec) => Promise<string>;
}

function list(v: unknown): KObject[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as KObject[]) : [];
}

function file(data: Buffer, mode: number, ctx: PayloadContext): FileProjection {
  // With an fsGroup, kubelet makes the files group-readable by that group.
  if (ctx.fsGroup !== undefined) return { data, mode: mode | 0o440, gid: ctx.fsGroup };
  return { data, mode };
}

/** All key → bytes of a ConfigMap (data as UTF-8, binaryData base64) or a Secret (data base64). */
function objectBytes(kind: 'configmap' | 'secret', obj: KObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (kind === 'configmap') {
    for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) out.set(k, Buffer.from(String(v), 'utf8'));
    for (const [k, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>)) out.set(k, Buffer.from(String(v), 'base64'));
  } else for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) out.set(k, Buffer.from(String(v), 'base64'));
  return out;
}

/** The items projection shared by configMap and secret sources; into is filled in place. */
function project(kind: 'configmap' | 'secret', obj: KObject, items: KObject[], defaultMode: number, optional: boolean, ctx: PayloadContext, into: Payload): void {
  const bytes = objectBytes(kind, obj);
  if (items.length === 0) {
    for (const [k, data] of bytes) into.set(k, file(data, defaultMode, ctx));
    return;
  }
  for (const it of items) {
    const data = bytes.get(it.key);
    if (!data) {
      if (optional) continue;
      throw new VolumeSourceError(kind === 'configmap' ? `configmap references non-existent config key: ${it.key}` : `references non-existent secret key: ${it.key}`);
    }
    into.set(it.path, file(data, typeof it.mode === 'number' ? it.mode : defaultMode, ctx));
  }
}

async function objectSource(kind: 'configmap' | 'secret', src: KObject, defaultMode: number, ctx: PayloadContext, into: Payload): Promise<void> {
  const ns: string = ctx.pod.metadata?.namespace ?? '';
  const name: string = kind === 'configmap' ? src.name : (src.secretName ?? src.name);
  const obj = await ctx.source.get(kind === 'configmap' ? 'configmaps' : 'secrets', ns, name);
  if (!obj) {
    if (src.optional) return;
    throw new VolumeSourceError(`${kind} "${name}" not found`);
  }
  project(kind, obj, list(src.items), defaultMode, !!src.optional, ctx, into);
}

function modeOf(v: KObject): number {
  return typeof v.defaultMode === 'number' ? v.defaultMode : defaultFileMode;
}

/** A configMap volume's files; empty when optional and missing. */
export async function configMapPayload(src: KObject, ctx: PayloadContext): Promise<Payload> {
  const out: Payload = new Map();
  await objectSource('configmap', src, modeOf(src), ctx, out);
  return out;
}

/** A secret volume's files; empty when optional and missing. */
export async function secretPayload(src: KObject, ctx: PayloadContext): Promise<Payload> {
  const out: Payload = new Map();
  await objectSource('secret', src, modeOf(src), ctx, out);
  return out;
}

function downwardItems(items: KObject[], defaultMode: number, ctx: PayloadContext, into: Payload): void {
  for (const it of items) {
    let value: string;
    try {
      if (it.fieldRef) value = podFieldValue(ctx.pod, it.fieldRef.fieldPath, ctx);
      else if (it.resourceFieldRef) value = containerResourceValue(ctx.pod, it.resourceFieldRef, undefined, ctx);
      else continue;
    } catch (err) {
      if (err instanceof DownwardAPIError) throw new VolumeSourceError(err.message);
      throw err;
    }
    into.set(it.path, file(Buffer.from(value, 'utf8'), typeof it.mode === 'number' ? it.mode : defaultMode, ctx));
  }
}

/** A downwardAPI volume's files (labels, annotations, names, IPs, resources). */
export function downwardAPIPayload(src: KObject, ctx: PayloadContext): Payload {
  const out: Payload = new Map();
  downwardItems(list(src.items), modeOf(src), ctx, out);
  return out;
}

/**
 * A projected volume: its sources' files in one directory. A service account token the
 * API cannot issue is left out with a warning instead of failing the mount.
 */
export async function projectedPayload(src: KObject, ctx: PayloadContext): Promise<Payload> {
  const out: Payload = new Map();
  const mode = modeOf(src);
  for (const s of list(src.sources)) {
    if (s.configMap) await objectSource('configmap', s.configMap, mode, ctx, out);
    else if (s.secret) await objectSource('secret', s.secret, mode, ctx, out);
    else if (s.downwardAPI) downwardItems(list(s.downwardAPI.items), mode, ctx, out);
    else if (s.serviceAccountToken) {
      const tok = s.serviceAccountToken;
      const serviceAccountName: string = ctx.pod.spec?.serviceAccountName || 'default';
      try {
        const request = ctx.requestToken ?? (ctx.source.requestToken ? (spec: TokenRequestSpec) => ctx.source.requestToken!(ctx.pod, spec) : undefined);
        if (!request) throw new Error('this node agent cannot request tokens');
        const token = await request({ serviceAccountName, audience: tok.audience, expirationSeconds: tok.expirationSeconds ?? 3600 });
        out.set(tok.path, file(Buffer.from(token, 'utf8'), mode, ctx));
      } catch (err) {
        ctx.warnings?.push({
          reason: 'FailedServiceAccountToken',
          message: `skipped the service account token ${JSON.stringify(tok.path)} of volume ${JSON.stringify(ctx.volumeName ?? '')}: token requests for service account "${serviceAccountName}" are not available: ${err instanceof Error ? err.message : String(err)}`,
        });
      }
    } else if (s.clusterTrustBundle) {
      ctx.warnings?.push({ reason: 'FailedClusterTrustBundle', message: `skipped clusterTrustBundle ${JSON.stringify(s.clusterTrustBundle.path ?? '')} of volume ${JSON.stringify(ctx.volumeName ?? '')}: ClusterTrustBundles are not supported` });
    }
  }
  return out;
}
