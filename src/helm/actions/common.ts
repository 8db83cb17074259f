/** @module Pieces the release actions share: Helm's release-name rule, action errors, values as plain JSON, and building a release's resources. */
import { isTable, coalesceValues, type Values } from '../values/coalesce.js';
import { GoTyped } from '../template/values.js';
import type { Release } from '../release/types.js';
import { buildResources, parseManifest, type Resource } from './kube.js';

/** An action refused or failed; the message is what helm prints after "Error: ". */
export class HelmActionError extends Error {
  override name = 'HelmActionError';
}

const releaseNamePattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** chartutil.ValidateReleaseName: a DNS-1123 subdomain of at most 53 characters (room for suffixes in object names). */
export function validateReleaseName(name: string): void {
  if (!name || name.length > 53 || !releaseNamePattern.test(name)) {
    throw new HelmActionError(
      `release name "${name}": invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53`,
    );
  }
}

/** Values as the JSON a release stores: Go-typed numbers become numbers, bytes base64 (as encoding/json writes []byte). */
export function plainValues(v: unknown): unknown {
  if (v instanceof GoTyped) return typeof v.value === 'bigint' ? Number(v.value) : v.value;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(plainValues);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined && typeof x !== 'function') out[k] = plainValues(x);
    return out;
  }
  return v;
}

/** `helm get values --all`: the chart's defaults coalesced with the release's config. */
export function computedValues(rel: Release): Values {
  const values = rel.chart?.values;
  return coalesceValues({ metadata: { name: rel.chart?.metadata?.name ?? '' }, values: isTable(values) ? values : {}, dependencies: [] }, rel.config ?? {});
}

/** The objects of a release's manifest, as Helm's KubeClient.Build. */
export function releaseResources(rel: Release): Resource[] {
  try {
    return buildResources(parseManifest(rel.manifest ?? '', `release ${rel.name}`), rel.namespace);
  } catch (err) {
    throw new HelmActionError(`unable to build kubernetes objects from release manifest: ${(err as Error).message}`);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
