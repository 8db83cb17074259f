/** @module A loaded chart as the release actions use it: Helm's chart JSON for the release record, and rendering through renderChart with lookups against the cluster. */
import type { Client } from '../../client/client.js';
import type { Chart, ChartFile } from '../chart/types.js';
import type { Capabilities } from '../engine.js';
import { renderChart } from '../render.js';
import type { ChartJson, ChartMetadataJson } from '../release/types.js';
import { plainValues } from './common.js';
import type { ChartSource } from './config.js';

const fileJson = (f: ChartFile) => ({ name: f.name, data: Buffer.from(f.data).toString('base64') });

/** Helm's chart.Chart JSON: subcharts are not part of it (Helm keeps them unexported). */
export function chartToJson(chart: Chart): ChartJson {
  return {
    metadata: plainValues(chart.metadata) as ChartMetadataJson,
    lock: chart.lock ? (plainValues(chart.lock) as Record<string, unknown>) : null,
    templates: chart.templates.map(fileJson),
    values: plainValues(chart.values ?? {}) as Record<string, unknown>,
    schema: chart.schema ? Buffer.from(chart.schema).toString('base64') : null,
    files: chart.files.map(fileJson),
  };
}

export function chartSource(chart: Chart, opts: { client?: Client; capabilities?: Capabilities } = {}): ChartSource {
  return {
    json: chartToJson(chart),
    async render({ values, chartValues, release, dryRun }) {
      const r = await renderChart({
        chart: chartValues ? { ...chart, values: chartValues } : chart,
        values,
        release,
        capabilities: opts.capabilities,
        // Helm's client-side dry run answers lookup with empty results.
        client: dryRun ? undefined : opts.client,
      });
      return { manifests: r.manifests, hooks: r.hooks, notes: r.notes };
    },
  };
}
