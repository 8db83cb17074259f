/** @module What every Helm action runs with (Helm's action.Configuration): the cluster client, the release namespace, release storage, a clock and a logger. */
import type { Client } from '../../client/client.js';
import { ReleaseStorage } from '../release/storage.js';
import type { Hook, Release } from '../release/types.js';
import { KubeClient } from './kube.js';
import type { RenderedFile } from './manifests.js';

/** Helm's default --timeout: 5m0s. */
export const defaultTimeoutMs = 5 * 60_000;

export type LogFn = (msg: Record<string, unknown>) => void;

export interface ActionConfigOptions {
  client: Client;
  /** The release namespace (-n); list --all-namespaces passes undefined to storage itself. */
  namespace: string;
  clock?: () => Date;
  log?: LogFn;
  /** Poll interval of waits (ms); Helm polls every 2 s, skiff less lazily. */
  pollIntervalMs?: number;
}

export class ActionConfig {
  readonly client: Client;
  readonly namespace: string;
  readonly clock: () => Date;
  readonly log: LogFn;
  readonly pollIntervalMs: number;
  readonly releases: ReleaseStorage;
  readonly kube: KubeClient;

  constructor(opts: ActionConfigOptions) {
    this.client = opts.client;
    this.namespace = opts.namespace;
    this.clock = opts.clock ?? (() => new Date());
    this.log = opts.log ?? (() => {});
    this.pollIntervalMs = opts.pollIntervalMs ?? 250;
    this.releases = new ReleaseStorage(opts.client, opts.namespace, this.log, this.clock);
    this.kube = new KubeClient(opts.client, this.log);
  }

  now(): string {
    return this.clock().toISOString();
  }
}

/** The .Release object a chart renders with. */
export interface ReleaseOptions {
  name: string;
  namespace: string;
  revision: number;
  isInstall: boolean;
  isUpgrade: boolean;
}

/** What rendering a chart produced: template files (hooks included), NOTES.txt, hooks already split off if the renderer did so. */
export interface RenderOutput {
  manifests: RenderedFile[];
  notes?: string;
  /** Hooks the renderer split off; when absent, hooks are found among manifests. */
  hooks?: Hook[];
}

/**
 * A chart as the actions need it: the JSON a release stores, and rendering for a release.
 * The CLI builds it from the chart loader and renderer; tests give fixed manifests.
 */
export interface ChartSource {
  /** Helm's chart.Chart as stored in the release (metadata, lock, templates, values, schema, files). */
  json: Release['chart'];
  /**
   * Renders with user-supplied values over the chart's defaults; `chartValues` replaces
   * the chart's own values.yaml (upgrade --reuse-values renders on the old release's
   * computed values).
   */
  render(opts: { values: Record<string, unknown>; chartValues?: Record<string, unknown>; release: ReleaseOptions; dryRun: boolean }): Promise<RenderOutput>;
}
