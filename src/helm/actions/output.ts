/**
 * @module What the helm CLI prints: its uitable tables (cells padded, tab-separated, 60
 * characters at most), Go's time formats (Time.String for `helm list`, ANSIC for status
 * and history), the status block of install/upgrade/status/test, and `helm get`'s views.
 */
import { stringify } from 'yaml';
import type { Release } from '../release/types.js';
import { appVersionOf, chartLabel } from '../release/types.js';
import { computedValues } from './common.js';

/** uitable as helm configures it: MaxColWidth 60, "\t" between cells, every cell padded. */
export function formatTable(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => {
    const s = String(c);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  }));
  const widths: number[] = [];
  for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('\t')).join('\n') + (cells.length ? '\n' : '');
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

function zone(d: Date): { offset: string; abbr: string } {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const offset = `${sign}${p2(Math.floor(Math.abs(off) / 60))}${p2(Math.abs(off) % 60)}`;
  const tz = process.env.TZ;
  if (off === 0 && (!tz || tz === 'UTC' || tz === 'Etc/UTC' || tz === ':UTC')) return { offset, abbr: 'UTC' };
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return { offset, abbr: part?.value ?? offset };
}

/** Go's time.ANSIC ("Mon Jan _2 15:04:05 2006") in local time; "" for the zero time. */
export function ansic(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

/** Go's Time.String ("2006-01-02 15:04:05.999999999 -0700 MST") in local time. */
export function goTimeString(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const frac = (/\.(\d+)/.exec(iso)?.[1] ?? '').replace(/0+$/, '');
  const { offset, abbr } = zone(d);
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}${frac ? `.${frac}` : ''} ${offset} ${abbr}`;
}

/** YAML as helm prints values (sigs.k8s.io/yaml: sorted keys). */
export function toYaml(v: unknown): string {
  return stringify(v ?? null, { sortMapEntries: true, lineWidth: 0, indentSeq: false });
}

export interface StatusOptions {
  showDescription?: boolean;
  /** --debug (or a dry run): values, hooks and manifest too. */
  debug?: boolean;
  hideNotes?: boolean;
}

/** Helm's statusPrinter: NAME, LAST DEPLOYED, NAMESPACE, STATUS, REVISION, test suites, NOTES. */
export function statusText(rel: Release, opts: StatusOptions = {}): string {
  let out = `NAME: ${rel.name}\n`;
  if (rel.info.last_deployed) out += `LAST DEPLOYED: ${ansic(rel.info.last_deployed)}\n`;
  out += `NAMESPACE: ${rel.namespace}\nSTATUS: ${rel.info.status}\nREVISION: ${rel.version}\n`;
  if (opts.showDescription) out += `DESCRIPTION: ${rel.info.description ?? ''}\n`;
  const tests = (rel.hooks ?? []).filter((h) => h.events?.includes('test'));
  if (tests.length === 0) out += 'TEST SUITE: None\n';
  else {
    for (const h of tests) {
      if (!h.last_run?.started_at) continue;
      out += `TEST SUITE:     ${h.name}\nLast Started:   ${ansic(h.last_run.started_at)}\nLast Completed: ${ansic(h.last_run.completed_at)}\nPhase:          ${h.last_run.phase}\n`;
    }
  }
  if (opts.debug) {
    out += `USER-SUPPLIED VALUES:\n${toYaml(rel.config ?? {})}\nCOMPUTED VALUES:\n${toYaml(computedValues(rel))}\n`;
  }
  if (opts.debug || (rel.info.description ?? '').toLowerCase() === 'dry run complete') {
    out += 'HOOKS:\n';
    for (const h of rel.hooks ?? []) out += `---\n# Source: ${h.path}\n${h.manifest}\n`;
    out += `MANIFEST:\n${rel.manifest ?? ''}\n`;
  }
  if (!opts.hideNotes && rel.info.notes && rel.info.notes.trim()) out += `NOTES:\n${rel.info.notes.trim()}\n`;
  return out;
}

/** One row of `helm list -o json|yaml`. */
export function listElement(rel: Release): Record<string, string> {
  return {
    name: rel.name,
    namespace: rel.namespace,
    revision: String(rel.version),
    updated: rel.info.last_deployed ? goTimeString(rel.info.last_deployed) : '-',
    status: rel.info.status ?? '',
    chart: chartLabel(rel),
    app_version: appVersionOf(rel),
  };
}

export function listTable(rels: Release[]): string {
  const rows: (string | number)[][] = [['NAME', 'NAMESPACE', 'REVISION', 'UPDATED', 'STATUS', 'CHART', 'APP VERSION']];
  for (const r of rels) {
    const e = listElement(r);
    rows.push([e.name, e.namespace, e.revision, e.updated, e.status, e.chart, e.app_version]);
  }
  return formatTable(rows);
}

/** One entry of `helm history -o json|yaml`. */
export function historyElement(rel: Release): Record<string, unknown> {
  return {
    revision: rel.version,
    updated: rel.info.last_deployed ?? '',
    status: rel.info.status ?? '',
    chart: chartLabel(rel),
    app_version: appVersionOf(rel),
    description: rel.info.description ?? '',
  };
}

export function historyTable(rels: Release[]): string {
  const rows: (string | number)[][] = [['REVISION', 'UPDATED', 'STATUS', 'CHART', 'APP VERSION', 'DESCRIPTION']];
  for (const r of rels) rows.push([r.version, ansic(r.info.last_deployed), r.info.status ?? '', chartLabel(r), appVersionOf(r), r.info.description ?? '']);
  return formatTable(rows);
}

/** `helm get values` (USER-SUPPLIED VALUES, or COMPUTED VALUES with --all). */
export function valuesText(rel: Release, all: boolean): string {
  return all ? `COMPUTED VALUES:\n${toYaml(computedValues(rel))}` : `USER-SUPPLIED VALUES:\n${toYaml(rel.config ?? null)}`;
}

export function hooksText(rel: Release): string {
  return (rel.hooks ?? []).map((h) => `---\n# Source: ${h.path}\n${h.manifest}\n`).join('');
}

export function notesText(rel: Release): string {
  return rel.info.notes ? `NOTES:\n${rel.info.notes}\n` : '';
}

/** `helm get all`: the status block with values, hooks and manifest (helm's --debug status). */
export function getAllText(rel: Release): string {
  return statusText(rel, { debug: true });
}
