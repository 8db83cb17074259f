/**
 * @module Dependency processing before rendering (pkg/chartutil/dependencies.go): subcharts
 * named in Chart.yaml are matched by name and version range and renamed by `alias`; `tags`
 * then `condition` (first path that holds a bool wins) decide which stay; disabled ones are
 * pruned from the tree; finally `import-values` copy child tables (`exports.X` or
 * `{child, parent}`) into the parent's defaults, below the parent's own values.
 */
import { coalesceValues, deepCopy, isTable, mergeTables, mergeValues, pathToMap, pathValue, tableAt, type Values, type WarnFn } from '../values/coalesce.js';
import { satisfies } from './metadata.js';
import { cloneChart, type Chart, type Dependency } from './types.js';

/** IsCompatibleRange: a version matches a constraint (an unparsable one never does). */
export function isCompatibleRange(constraint: string, version: string): boolean {
  // A dependency without a version matches the subchart whatever its version.
  if (constraint.trim() === '') return true;
  return satisfies(version, constraint);
}

function aliasDependency(charts: Chart[], dep: Dependency): Chart | undefined {
  for (const c of charts) {
    if (!c || c.metadata.name !== dep.name) continue;
    if (dep.version && !isCompatibleRange(dep.version, c.metadata.version)) continue;
    if (!dep.alias) return c;
    const copy = cloneChart(c);
    copy.metadata.name = dep.alias;
    return copy;
  }
  return undefined;
}

function processTags(deps: Dependency[], cvals: Values, warn: WarnFn): void {
  const tags = tableAt(cvals, 'tags');
  if (!tags) return;
  for (const d of deps) {
    let hasTrue = false;
    let hasFalse = false;
    for (const k of d.tags ?? []) {
      if (!(k in tags)) continue;
      const b = tags[k];
      if (typeof b === 'boolean') {
        if (b) hasTrue = true;
        else hasFalse = true;
      } else warn(`Warning: Tag '${k}' for chart ${d.name} returned non-bool value`);
    }
    if (!hasTrue && hasFalse) d.enabled = false;
    else if (hasTrue || (!hasTrue && !hasFalse)) d.enabled = true;
  }
}

function processConditions(deps: Dependency[], cvals: Values, path: string, warn: WarnFn): void {
  for (const d of deps) {
    for (const c of (d.condition ?? '').trim().split(',')) {
      if (c.length === 0) continue;
      const r = pathValue(cvals, path + c);
      if (!r.found) continue;
      if (typeof r.value === 'boolean') {
        d.enabled = r.value;
        break;
      }
      warn(`Warning: Condition path '${c}' for chart ${d.name} returned non-bool value`);
    }
  }
}

function setParent(children: Chart[], parent: Chart): Chart[] {
  for (const c of children) c.parent = parent;
  return children;
}

function processEnabled(c: Chart, v: Values, path: string, warn: WarnFn): void {
  const reqs = c.metadata.dependencies;
  if (!reqs) return;
  const kept: Chart[] = [];
  // Subcharts in charts/ that Chart.yaml does not name are always rendered.
  outer: for (const existing of c.dependencies) {
    for (const req of reqs) {
      if (req && existing.metadata.name === req.name && isCompatibleRange(req.version ?? '', existing.metadata.version)) continue outer;
    }
    kept.push(existing);
  }
  for (const req of reqs) {
    if (!req) continue;
    const dep = aliasDependency(c.dependencies, req);
    if (dep) kept.push(dep);
    if (req.alias) req.name = req.alias;
  }
  c.dependencies = setParent(kept, c);
  for (const r of reqs) r.enabled = true;
  const cvals = coalesceValues(c, v, warn);
  processTags(reqs, cvals, warn);
  processConditions(reqs, cvals, path, warn);
  const removed = new Set(reqs.filter((r) => !r.enabled).map((r) => r.name));
  c.dependencies = c.dependencies.filter((d) => !removed.has(d.metadata.name));
  c.metadata.dependencies = reqs.filter((r) => !removed.has(r.name));
  for (const sub of c.dependencies) processEnabled(sub, cvals, `${path}${sub.metadata.name}.`, warn);
}

function processImportValues(c: Chart, warn: WarnFn): void {
  const reqs = c.metadata.dependencies;
  if (!reqs) return;
  const cvals = mergeValues(c, undefined, warn);
  let imported: Values = {};
  for (const r of reqs) {
    const out: unknown[] = [];
    for (const riv of r['import-values'] ?? []) {
      if (isTable(riv)) {
        const child = String(riv.child ?? '');
        const parent = String(riv.parent ?? '');
        out.push({ child, parent });
        const table = tableAt(cvals, `${r.name}.${child}`);
        if (!table) {
          warn(`Warning: ImportValues missing table from chart ${r.name}: no table named "${child}"`);
          continue;
        }
        imported = mergeTables(imported, pathToMap(parent, deepCopy(table)), warn);
      } else if (typeof riv === 'string') {
        const child = `exports.${riv}`;
        out.push({ child, parent: '.' });
        const table = tableAt(cvals, `${r.name}.${child}`);
        if (!table) {
          warn(`Warning: ImportValues missing table: no table named "${child}"`);
          continue;
        }
        imported = mergeTables(imported, deepCopy(table), warn);
      }
    }
    if (out.length) r['import-values'] = out;
  }
  // The parent's own values win over what it imports (Helm 3.13+).
  c.values = mergeTables(deepCopy(cvals), imported, warn);
}

function processImports(c: Chart, warn: WarnFn): void {
  for (const d of c.dependencies) processImports(d, warn);
  processImportValues(c, warn);
}

/**
 * ProcessDependenciesWithMerge: prunes disabled subcharts, applies aliases and imports
 * values. Mutates `chart` (pass a clone: see cloneChart).
 */
export function processDependencies(chart: Chart, userValues: Values, warn: WarnFn = () => {}): void {
  processEnabled(chart, userValues, '', warn);
  processImports(chart, warn);
}
