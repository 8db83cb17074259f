/**
 * @module Label and field selectors of a list or watch, compiled once per request
 * against the kind's supported field labels (metadata.name and metadata.namespace
 * everywhere, the rest from the kind's ResourceDef).
 */
import type { KObject, ResourceDef } from '../api/types.js';
import { checkSupported, parseFieldSelector, parseLabelSelector } from '../api/selectors/index.js';

export interface CompiledSelectors {
  /** No selector at all: every object matches (lets lists use the store's limit directly). */
  trivial: boolean;
  matches(obj: KObject): boolean;
}

export function compileSelectors(def: ResourceDef, labelSelector: string | undefined, fieldSelector: string | undefined): CompiledSelectors {
  const labels = labelSelector ? parseLabelSelector(labelSelector) : undefined;
  const fields = fieldSelector ? parseFieldSelector(fieldSelector) : undefined;
  const extra = def.fieldSelectors ?? {};
  if (fields) checkSupported(fields, ['metadata.name', 'metadata.namespace', ...Object.keys(extra)]);
  const useLabels = labels && !labels.empty();
  const useFields = fields && !fields.empty();
  return {
    trivial: !useLabels && !useFields,
    matches(obj: KObject): boolean {
      if (useLabels && !labels.matches(obj.metadata?.labels)) return false;
      if (useFields)
        return fields.matches((field) => {
          if (field === 'metadata.name') return obj.metadata?.name;
          if (field === 'metadata.namespace') return obj.metadata?.namespace ?? '';
          return extra[field]?.(obj);
        });
      return true;
    },
  };
}
