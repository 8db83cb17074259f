/** @module Helm 3's release record (helm.sh/helm/v3 pkg/release and pkg/chart) as the JSON Helm stores: field names, omissions and statuses exactly as Helm writes them. */

/** Release statuses, as Helm's release.Status strings. */
export type ReleaseStatus =
  | 'unknown'
  | 'deployed'
  | 'uninstalled'
  | 'superseded'
  | 'failed'
  | 'uninstalling'
  | 'pending-install'
  | 'pending-upgrade'
  | 'pending-rollback';

export const allStatuses: readonly ReleaseStatus[] = [
  'unknown',
  'deployed',
  'uninstalled',
  'superseded',
  'failed',
  'uninstalling',
  'pending-install',
  'pending-upgrade',
  'pending-rollback',
];

export function isPending(s: ReleaseStatus): boolean {
  return s === 'pending-install' || s === 'pending-upgrade' || s === 'pending-rollback';
}

export type HookEvent =
  | 'pre-install'
  | 'post-install'
  | 'pre-delete'
  | 'post-delete'
  | 'pre-upgrade'
  | 'post-upgrade'
  | 'pre-rollback'
  | 'post-rollback'
  | 'test';

export const hookEvents: readonly HookEvent[] = ['pre-install', 'post-install', 'pre-delete', 'post-delete', 'pre-upgrade', 'post-upgrade', 'pre-rollback', 'post-rollback', 'test'];

export type HookDeletePolicy = 'hook-succeeded' | 'hook-failed' | 'before-hook-creation';

export type HookPhase = 'Unknown' | 'Running' | 'Succeeded' | 'Failed';

/** Helm's HookExecution; times are RFC 3339 strings, "" for Go's zero time. */
export interface HookExecution {
  started_at?: string;
  completed_at?: string;
  phase: HookPhase | '';
}

/** Helm's release.Hook. */
export interface Hook {
  name?: string;
  kind?: string;
  /** Chart-relative template path ("mychart/templates/test.yaml"). */
  path?: string;
  manifest?: string;
  events?: HookEvent[];
  last_run: HookExecution;
  weight?: number;
  delete_policies?: HookDeletePolicy[];
}

/** Helm's release.Info; Go zero times are "" (Helm's own time type writes them so). */
export interface ReleaseInfo {
  first_deployed?: string;
  last_deployed?: string;
  deleted: string;
  description?: string;
  status?: ReleaseStatus;
  notes?: string;
}

/** Helm's chart.File: data is base64 in JSON ([]byte). */
export interface ChartFileJson {
  name: string;
  data: string;
}

/** Helm's chart.Metadata (Chart.yaml), with Go's JSON omitempty names. */
export interface ChartMetadataJson {
  name?: string;
  home?: string;
  sources?: string[];
  version?: string;
  description?: string;
  keywords?: string[];
  maintainers?: { name?: string; email?: string; url?: string }[];
  icon?: string;
  apiVersion?: string;
  condition?: string;
  tags?: string;
  appVersion?: string;
  deprecated?: boolean;
  annotations?: Record<string, string>;
  kubeVersion?: string;
  dependencies?: Record<string, unknown>[];
  type?: string;
}

/** Helm's chart.Chart as serialized in a release (subcharts are not: Helm keeps them unexported). */
export interface ChartJson {
  metadata: ChartMetadataJson | null;
  lock: Record<string, unknown> | null;
  templates: ChartFileJson[] | null;
  values: Record<string, unknown> | null;
  /** values.schema.json, base64 ([]byte), or null. */
  schema: string | null;
  files: ChartFileJson[] | null;
}

/** Helm's release.Release. */
export interface Release {
  name: string;
  info: ReleaseInfo;
  chart: ChartJson;
  config?: Record<string, unknown>;
  manifest?: string;
  hooks?: Hook[];
  version: number;
  namespace: string;
}

/** "name-version" as helm list and history print the CHART column. */
export function chartLabel(rel: Release): string {
  const m = rel.chart?.metadata;
  return m ? `${m.name ?? ''}-${m.version ?? ''}` : 'MISSING';
}

export function appVersionOf(rel: Release): string {
  return rel.chart?.metadata?.appVersion ?? '';
}
