/**
 * @module Server-side printing: meta.k8s.io/v1 Table responses for `kubectl get`, from
 * each kind's printer, with row objects as PartialObjectMetadata (includeObject=Metadata,
 * the default), the full object (Object) or nothing (None).
 */
import type { KObject, ResourceDef, TableColumn } from '../api/types.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

const defaultColumns: TableColumn[] = [
  { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names', priority: 0 },
  { name: 'Created At', type: 'date', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', priority: 0 },
];

function rowObject(obj: KObject, include: IncludeObject): KObject | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

function cellsOf(def: ResourceDef, obj: KObject, now: Date): unknown[] {
  if (def.table) return def.table.cells(obj, now);
  return [obj.metadata?.name ?? '', obj.metadata?.creationTimestamp ?? ''];
}

/** A Table of the given objects (a list or a single get). */
export function toTable(
  def: ResourceDef,
  objects: KObject[],
  opts: { include: IncludeObject; now: Date; listMeta?: Record<string, unknown>; withColumns?: boolean },
): KObject {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: opts.listMeta ?? {},
    columnDefinitions: opts.withColumns === false ? [] : (def.table?.columns ?? defaultColumns),
    rows: objects.map((o) => {
      // Rows of a list lack apiVersion/kind; PartialObjectMetadata needs neither from the item.
      const full = { apiVersion: o.apiVersion ?? (def.group ? `${def.group}/${def.version}` : def.version), kind: o.kind ?? def.kind, ...o };
      const row: KObject = { cells: cellsOf(def, full, opts.now) };
      const ro = rowObject(full, opts.include);
      if (ro) row.object = ro;
      return row;
    }),
  };
}

/** PartialObjectMetadata(List) for metadata-only clients (garbage collector, apply --prune). */
export function toPartialMetadata(obj: KObject): KObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}
