/**
 * @module Helm's SortManifests: rendered templates split into documents, hooks (documents
 * annotated helm.sh/hook) separated from the release manifest, both ordered by kind as
 * Helm installs them, and the release manifest written as Helm writes it
 * ("---\n# Source: PATH\nDOC\n" per document).
 */
import { parse } from 'yaml';
import type { KObject } from '../../api/types.js';
import { hookEvents, type Hook, type HookDeletePolicy, type HookEvent } from '../release/types.js';
import { installOrder, sortByKind } from './kube.js';

export const hookAnnotation = 'helm.sh/hook';
export const hookWeightAnnotation = 'helm.sh/hook-weight';
export const hookDeleteAnnotation = 'helm.sh/hook-delete-policy';

/** One rendered template file. */
export interface RenderedFile {
  name: string;
  content: string;
}

/** One document of the release manifest. */
export interface ManifestDoc {
  name: string;
  content: string;
  kind: string;
}

export interface SortedManifests {
  hooks: Hook[];
  manifests: ManifestDoc[];
}

/** Helm's SplitManifests: documents separated by a line of three dashes. */
export function splitDocuments(content: string): string[] {
  return content
    .split(/(?:^|\s*\n)---\s*(?:\n|$)/)
    .map((d) => d.trim())
    .filter((d) => d !== '');
}

function docHead(doc: string, source: string): KObject | undefined {
  let v: unknown;
  try {
    v = parse(doc, { maxAliasCount: 1000 });
  } catch (err) {
    throw new Error(`YAML parse error on ${source}: ${(err as Error).message}`);
  }
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new Error(`YAML parse error on ${source}: a document must be a mapping`);
  return v as KObject;
}

/**
 * Splits rendered files into hooks and release manifests. NOTES.txt and partials are not
 * manifests; documents that hold only comments are dropped, as Helm drops them from the
 * objects it creates.
 */
export function sortManifests(files: RenderedFile[]): SortedManifests {
  const hooks: Hook[] = [];
  const manifests: ManifestDoc[] = [];
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const base = f.name.split('/').pop() ?? '';
    if (base === 'NOTES.txt' || base.startsWith('_')) continue;
    for (const doc of splitDocuments(f.content)) {
      const head = docHead(doc, f.name);
      if (!head) continue;
      const ann = head.metadata?.annotations ?? {};
      const hookSpec = ann[hookAnnotation];
      if (hookSpec === undefined) {
        manifests.push({ name: f.name, content: doc, kind: head.kind ?? '' });
        continue;
      }
      const events: HookEvent[] = [];
      let unknown = false;
      for (const e of String(hookSpec).split(',').map((s) => s.trim())) {
        if ((hookEvents as readonly string[]).includes(e)) events.push(e as HookEvent);
        else unknown = true;
      }
      // Helm skips hooks naming an event it does not know (crd-install of Helm 2).
      if (unknown) continue;
      const weight = Number.parseInt(String(ann[hookWeightAnnotation] ?? '0'), 10);
      const policies = String(ann[hookDeleteAnnotation] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s): s is HookDeletePolicy => s === 'hook-succeeded' || s === 'hook-failed' || s === 'before-hook-creation');
      const hook: Hook = {
        name: head.metadata?.name ?? '',
        kind: head.kind ?? '',
        path: f.name,
        manifest: doc,
        events,
        last_run: { started_at: '', completed_at: '', phase: '' },
      };
      if (Number.isFinite(weight) && weight !== 0) hook.weight = weight;
      if (policies.length > 0) hook.delete_policies = policies;
      hooks.push(hook);
    }
  }
  return {
    hooks: sortByKind(hooks, (h) => h.kind ?? '', installOrder),
    manifests: sortByKind(manifests, (m) => m.kind, installOrder),
  };
}

/** The release manifest as Helm stores it. */
export function manifestString(docs: ManifestDoc[]): string {
  return docs.map((d) => `---\n# Source: ${d.name}\n${d.content}\n`).join('');
}
