/**
 * @module Matching rules the plugins share: node selector terms (matchExpressions
 * In/NotIn/Exists/DoesNotExist/Gt/Lt over labels, matchFields over metadata.name; terms
 * ORed, requirements ANDed, an empty or malformed term matching nothing), taint
 * tolerations (v1 Toleration.ToleratesTaint) and pod affinity terms.
 */
import { fromLabelSelector, nothing, type LabelSelector, type LabelSelectorObject } from '../api/selectors/index.js';
import type { KObject } from '../api/types.js';

export type Labels = Record<string, string>;

/** A compiled node selector: does a node with these labels and this name match? */
export type NodeMatcher = (labels: Labels, name: string) => boolean;

const INTEGER = /^[+-]?\d+$/;

interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

type Check = (labels: Labels, name: string) => boolean;

/** One requirement as a check, or null when it is malformed (the whole term then fails). */
function compileRequirement(r: NodeSelectorRequirement, field: boolean): Check | null {
  const key = r?.key;
  const values = r?.values ?? [];
  if (typeof key !== 'string') return null;
  if (field) {
    // Only metadata.name is a node field selectors may use, with In/NotIn and one value.
    if (key !== 'metadata.name' || values.length !== 1) return null;
    const v = values[0];
    if (r.operator === 'In') return (_l, name) => name === v;
    if (r.operator === 'NotIn') return (_l, name) => name !== v;
    return null;
  }
  switch (r.operator) {
    case 'In': {
      if (values.length === 0) return null;
      if (values.length === 1) {
        const v = values[0];
        return (l) => l[key] === v;
      }
      const set = new Set(values);
      return (l) => key in l && set.has(l[key]);
    }
    case 'NotIn': {
      if (values.length === 0) return null;
      const set = new Set(values);
      return (l) => !(key in l) || !set.has(l[key]);
    }
    case 'Exists':
      return values.length ? null : (l) => key in l;
    case 'DoesNotExist':
      return values.length ? null : (l) => !(key in l);
    case 'Gt':
    case 'Lt': {
      if (values.length !== 1 || !INTEGER.test(values[0])) return null;
      const want = Number.parseInt(values[0], 10);
      const gt = r.operator === 'Gt';
      return (l) => {
        const have = l[key];
        if (have === undefined || !INTEGER.test(have)) return false;
        const n = Number.parseInt(have, 10);
        return gt ? n > want : n < want;
      };
    }
    default:
      return null;
  }
}

/** A NodeSelectorTerm: its requirements ANDed; null when empty or malformed (matches nothing). */
export function compileNodeSelectorTerm(term: KObject | undefined | null): Check | null {
  const exprs = (term?.matchExpressions as NodeSelectorRequirement[] | undefined) ?? [];
  const fields = (term?.matchFields as NodeSelectorRequirement[] | undefined) ?? [];
  if (exprs.length === 0 && fields.length === 0) return null;
  const checks: Check[] = [];
  for (const r of exprs) {
    const c = compileRequirement(r, false);
    if (!c) return null;
    checks.push(c);
  }
  for (const r of fields) {
    const c = compileRequirement(r, true);
    if (!c) return null;
    checks.push(c);
  }
  if (checks.length === 1) return checks[0];
  return (l, n) => {
    for (const c of checks) if (!c(l, n)) return false;
    return true;
  };
}

/** A NodeSelector: its terms ORed. No usable term matches no node. */
export function compileNodeSelector(sel: KObject | undefined | null): NodeMatcher {
  const terms = ((sel?.nodeSelectorTerms as KObject[] | undefined) ?? []).map(compileNodeSelectorTerm).filter((c): c is Check => c !== null);
  if (terms.length === 0) return () => false;
  if (terms.length === 1) return terms[0];
  return (l, n) => {
    for (const t of terms) if (t(l, n)) return true;
    return false;
  };
}

/** spec.nodeSelector: every pair must be a node label. */
export function compileLabelMap(m: Record<string, string>): NodeMatcher {
  const entries = Object.entries(m);
  return (l) => {
    for (const [k, v] of entries) if (l[k] !== v) return false;
    return true;
  };
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** v1 Toleration.ToleratesTaint: effect and key match when set; Equal compares values, Exists does not. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export function tolerationsTolerateTaint(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint passing `filter` that no toleration tolerates (FindMatchingUntoleratedTaint). */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[], filter: (t: Taint) => boolean): Taint | undefined {
  for (const taint of taints) {
    if (!filter(taint)) continue;
    if (!tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}

/** A pod affinity term resolved against its pod: which namespaces, which labels, which topology. */
export interface AffinityTerm {
  namespaces: ReadonlySet<string>;
  namespaceSelector: LabelSelector;
  selector: LabelSelector;
  topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

/** The minimal facts a term is matched against. */
export interface TermTarget {
  namespace: string;
  labels: Labels;
}

/** AffinityTerm.Matches: the pod is in one of the namespaces (or a selected one) and its labels match. */
export function termMatches(term: AffinityTerm, pod: TermTarget, namespaceLabels: Labels | undefined): boolean {
  if (term.namespaces.has(pod.namespace) || (namespaceLabels !== undefined && term.namespaceSelector.matches(namespaceLabels))) {
    return term.selector.matches(pod.labels);
  }
  return false;
}

function safeSelector(sel: LabelSelectorObject | null | undefined): LabelSelector {
  try {
    return fromLabelSelector(sel);
  } catch {
    return nothing;
  }
}

/**
 * Resolves a v1 PodAffinityTerm for the pod that carries it: no namespaces and no
 * namespaceSelector mean the pod's own namespace; matchLabelKeys / mismatchLabelKeys add
 * `key in (value)` / `key notin (value)` from the pod's labels to the label selector.
 */
export function newAffinityTerm(owner: TermTarget, t: KObject): AffinityTerm {
  const namespaces = new Set<string>((t.namespaces as string[] | undefined) ?? []);
  const nsSel = t.namespaceSelector as LabelSelectorObject | null | undefined;
  if (namespaces.size === 0 && (nsSel === undefined || nsSel === null)) namespaces.add(owner.namespace);
  let labelSelector = t.labelSelector as LabelSelectorObject | null | undefined;
  const matchKeys = (t.matchLabelKeys as string[] | undefined) ?? [];
  const mismatchKeys = (t.mismatchLabelKeys as string[] | undefined) ?? [];
  if (labelSelector && (matchKeys.length || mismatchKeys.length)) {
    const extra: NonNullable<LabelSelectorObject['matchExpressions']> = [];
    for (const k of matchKeys) if (k in owner.labels) extra.push({ key: k, operator: 'In', values: [owner.labels[k]] });
    for (const k of mismatchKeys) if (k in owner.labels) extra.push({ key: k, operator: 'NotIn', values: [owner.labels[k]] });
    labelSelector = { ...labelSelector, matchExpressions: [...(labelSelector.matchExpressions ?? []), ...extra] };
  }
  return {
    namespaces,
    namespaceSelector: nsSel === undefined || nsSel === null ? nothing : safeSelector(nsSel),
    selector: safeSelector(labelSelector),
    topologyKey: String(t.topologyKey ?? ''),
  };
}
