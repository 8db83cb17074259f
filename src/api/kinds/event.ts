/**
 * @module Event, served twice over one storage: core/v1 (involvedObject, message, count,
 * firstTimestamp...) and events.k8s.io/v1 (regarding, note, deprecatedCount...). Stored in
 * the core/v1 shape; the events.k8s.io def converts on the way in and out as kube's
 * Convert_v1_Event_To_core_Event does. Validation follows ValidateEventCreate/Update
 * (legacy rules for core/v1, strict ones for events.k8s.io/v1) and the printer is
 * printEvent (LAST SEEN TYPE REASON OBJECT MESSAGE).
 */
import { type FieldError, invalid, required } from '../errors.js';
import { humanDuration } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import { isDNS1123Subdomain, isQualifiedName } from '../validation.js';
import { column, deepEqual, nameDescription } from './kind-util.js';
import { clone } from './netmisc-util.js';

const eventsGroup = 'events.k8s.io';

const reportingInstanceLengthLimit = 128;
const actionLengthLimit = 128;
const reasonLengthLimit = 128;
const noteLengthLimit = 1024;

/** True for an object in the events.k8s.io/v1 shape. */
export function isEventsV1(obj: KObject): boolean {
  if (typeof obj.apiVersion === 'string') return obj.apiVersion.startsWith(`${eventsGroup}/`);
  return 'regarding' in obj || 'note' in obj || 'deprecatedSource' in obj || 'reportingController' in obj;
}

function isEmpty(x: unknown): boolean {
  return x === undefined || x === null || x === '' || x === 0;
}

/** Convert_v1_Event_To_core_Event: events.k8s.io/v1 -> core/v1 (the storage shape). */
export function eventsV1ToCoreEvent(e: KObject): KObject {
  const out: KObject = { apiVersion: 'v1', kind: 'Event', metadata: clone(e.metadata ?? {}) };
  out.involvedObject = clone(e.regarding ?? {});
  if (!isEmpty(e.reason)) out.reason = e.reason;
  if (!isEmpty(e.note)) out.message = e.note;
  out.source = clone(e.deprecatedSource ?? {});
  out.firstTimestamp = e.deprecatedFirstTimestamp ?? null;
  out.lastTimestamp = e.deprecatedLastTimestamp ?? null;
  if (!isEmpty(e.deprecatedCount)) out.count = e.deprecatedCount;
  if (!isEmpty(e.type)) out.type = e.type;
  out.eventTime = e.eventTime ?? null;
  if (e.series != null) out.series = clone(e.series);
  if (!isEmpty(e.action)) out.action = e.action;
  if (e.related != null) out.related = clone(e.related);
  out.reportingComponent = e.reportingController ?? '';
  out.reportingInstance = e.reportingInstance ?? '';
  return out;
}

/** Convert_core_Event_To_v1_Event: core/v1 (storage) -> events.k8s.io/v1. */
export function coreEventToEventsV1(e: KObject): KObject {
  const out: KObject = { apiVersion: `${eventsGroup}/v1`, kind: 'Event', metadata: clone(e.metadata ?? {}) };
  out.eventTime = e.eventTime ?? null;
  if (e.series != null) out.series = clone(e.series);
  if (!isEmpty(e.reportingComponent)) out.reportingController = e.reportingComponent;
  if (!isEmpty(e.reportingInstance)) out.reportingInstance = e.reportingInstance;
  if (!isEmpty(e.action)) out.action = e.action;
  if (!isEmpty(e.reason)) out.reason = e.reason;
  out.regarding = clone(e.involvedObject ?? {});
  if (e.related != null) out.related = clone(e.related);
  if (!isEmpty(e.message)) out.note = e.message;
  if (!isEmpty(e.type)) out.type = e.type;
  out.deprecatedSource = clone(e.source ?? {});
  out.deprecatedFirstTimestamp = e.firstTimestamp ?? null;
  out.deprecatedLastTimestamp = e.lastTimestamp ?? null;
  if (!isEmpty(e.count)) out.deprecatedCount = e.count;
  return out;
}

/** Either shape, as core/v1. */
export function asCoreEvent(obj: KObject): KObject {
  return isEventsV1(obj) ? eventsV1ToCoreEvent(obj) : obj;
}

/** The fields Go always serializes (structs and non-omitempty fields), so -o yaml shows what kube shows. */
export function defaultCoreEvent(obj: KObject): void {
  if (obj.involvedObject == null) obj.involvedObject = {};
  if (obj.source == null) obj.source = {};
  if (obj.firstTimestamp === undefined) obj.firstTimestamp = null;
  if (obj.lastTimestamp === undefined) obj.lastTimestamp = null;
  if (obj.eventTime === undefined) obj.eventTime = null;
  if (obj.reportingComponent == null) obj.reportingComponent = '';
  if (obj.reportingInstance == null) obj.reportingInstance = '';
}

export function defaultEventsV1Event(obj: KObject): void {
  if (obj.regarding == null) obj.regarding = {};
  if (obj.deprecatedSource == null) obj.deprecatedSource = {};
  if (obj.eventTime === undefined) obj.eventTime = null;
  if (obj.deprecatedFirstTimestamp === undefined) obj.deprecatedFirstTimestamp = null;
  if (obj.deprecatedLastTimestamp === undefined) obj.deprecatedLastTimestamp = null;
}

function isZeroTime(t: unknown): boolean {
  return t === undefined || t === null || t === '' || t === '0001-01-01T00:00:00Z';
}

/** legacyValidateEvent, on the core shape. */
export function legacyValidateEvent(e: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const ns = e.metadata?.namespace ?? '';
  const invNs = e.involvedObject?.namespace ?? '';
  if (isZeroTime(e.eventTime)) {
    // Old-style events: the event lives in its object's namespace ("default" for cluster-scoped objects).
    if (!invNs) {
      if (ns !== '' && ns !== 'default') errs.push(invalid('involvedObject.namespace', invNs, 'does not match event.namespace'));
    } else if (ns !== invNs) {
      errs.push(invalid('involvedObject.namespace', invNs, 'does not match event.namespace'));
    }
  } else {
    if (!invNs && ns !== 'default' && ns !== 'kube-system')
      errs.push(invalid('involvedObject.namespace', invNs, 'does not match event.namespace'));
    const rc = String(e.reportingComponent ?? '');
    if (!rc) errs.push(required('reportingController'));
    for (const m of isQualifiedName(rc)) errs.push(invalid('reportingController', rc, m));
    const ri = String(e.reportingInstance ?? '');
    if (!ri) errs.push(required('reportingInstance'));
    if (ri.length > reportingInstanceLengthLimit)
      errs.push(invalid('reportingInstance', '', `can have at most ${reportingInstanceLengthLimit} characters`));
    const action = String(e.action ?? '');
    if (!action) errs.push(required('action'));
    if (action.length > actionLengthLimit) errs.push(invalid('action', '', `can have at most ${actionLengthLimit} characters`));
    const reason = String(e.reason ?? '');
    if (!reason) errs.push(required('reason'));
    if (reason.length > reasonLengthLimit) errs.push(invalid('reason', '', `can have at most ${reasonLengthLimit} characters`));
    if (String(e.message ?? '').length > noteLengthLimit)
      errs.push(invalid('message', '', `can have at most ${noteLengthLimit} characters`));
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(invalid('namespace', ns, m));
  return errs;
}

function validateV1EventSeries(e: KObject): FieldError[] {
  const errs: FieldError[] = [];
  if (e.series != null) {
    if (!((e.series.count ?? 0) >= 2)) errs.push(invalid('series.count', '', 'should be at least 2'));
    if (isZeroTime(e.series.lastObservedTime)) errs.push(required('series.lastObservedTime'));
  }
  return errs;
}

/** ValidateEventCreate for requests through events.k8s.io/v1 (the core shape's field names in paths, as kube reports them). */
export function strictValidateEvent(e: KObject): FieldError[] {
  const errs = legacyValidateEvent(e);
  errs.push(...validateV1EventSeries(e));
  if (isZeroTime(e.eventTime)) errs.push(required('eventTime'));
  if (e.type !== 'Normal' && e.type !== 'Warning') errs.push(invalid('type', '', `has invalid value: ${e.type ?? ''}`));
  if (!isZeroTime(e.firstTimestamp)) errs.push(invalid('firstTimestamp', '', 'needs to be unset'));
  if (!isZeroTime(e.lastTimestamp)) errs.push(invalid('lastTimestamp', '', 'needs to be unset'));
  if (!isEmpty(e.count)) errs.push(invalid('count', '', 'needs to be unset'));
  if (e.source?.component || e.source?.host) errs.push(invalid('source', '', 'needs to be unset'));
  return errs;
}

/** ValidateEventUpdate for events.k8s.io/v1: everything but series and metadata is immutable. */
export function strictValidateEventUpdate(e: KObject, old: KObject): FieldError[] {
  const errs: FieldError[] = [];
  if (!deepEqual(e.series, old.series)) errs.push(...validateV1EventSeries(e));
  const immutable: Array<[string, (x: KObject) => unknown]> = [
    ['involvedObject', (x) => x.involvedObject ?? {}],
    ['reason', (x) => x.reason ?? ''],
    ['message', (x) => x.message ?? ''],
    ['source', (x) => x.source ?? {}],
    ['firstTimestamp', (x) => x.firstTimestamp ?? null],
    ['lastTimestamp', (x) => x.lastTimestamp ?? null],
    ['count', (x) => x.count ?? 0],
    ['reason', (x) => x.reason ?? ''],
    ['type', (x) => x.type ?? ''],
    ['eventTime', (x) => x.eventTime ?? null],
    ['action', (x) => x.action ?? ''],
    ['related', (x) => x.related ?? null],
    ['reportingController', (x) => x.reportingComponent ?? ''],
    ['reportingInstance', (x) => x.reportingInstance ?? ''],
  ];
  for (const [path, get] of immutable) {
    const v = get(e);
    if (!deepEqual(v, get(old))) errs.push(invalid(path, v, 'field is immutable'));
  }
  return errs;
}

// ---------------------------------------------------------------------------
// Printer (printEvent, wide: the server always sends every column).

function since(ts: unknown, now: Date): string {
  if (isZeroTime(ts)) return '<unknown>';
  const t = Date.parse(String(ts));
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now.getTime() - t);
}

/** formatEventSource: component (or reportingController), then ", host" (or reportingInstance) when set. */
export function formatEventSource(e: KObject): string {
  const component = e.source?.component || e.reportingComponent || '';
  const instance = e.source?.host || e.reportingInstance || '';
  return instance ? `${component}, ${instance}` : component;
}

export function eventCells(obj: KObject, now: Date): unknown[] {
  const e = asCoreEvent(obj);
  let firstSeen = since(e.firstTimestamp, now);
  if (isZeroTime(e.firstTimestamp)) firstSeen = since(e.eventTime, now);
  let lastSeen = since(e.lastTimestamp, now);
  if (isZeroTime(e.lastTimestamp)) lastSeen = firstSeen;
  let count: number = e.count ?? 0;
  if (e.series != null) {
    lastSeen = since(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    // Singleton events of the new API carry no count.
    count = 1;
  }
  const inv = e.involvedObject ?? {};
  const kind = String(inv.kind ?? '').toLowerCase();
  const target = inv.name ? `${kind}/${inv.name}` : kind;
  return [
    lastSeen,
    e.type ?? '',
    e.reason ?? '',
    target,
    inv.fieldPath ?? '',
    formatEventSource(e),
    String(e.message ?? '').trim(),
    firstSeen,
    count,
    e.metadata?.name ?? '',
  ];
}

const eventColumns: ResourceDef['table'] = {
  columns: [
    column('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    column('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    column('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    column('Object', 'string', 'The object that this event is about.'),
    column('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.', 1),
    column('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
    column('Message', 'string', 'A human-readable description of the status of this operation.'),
    column('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
    column('Count', 'string', 'The number of times this event has occurred.', 1),
    { name: 'Name', type: 'string', format: 'name', priority: 1, description: nameDescription },
  ],
  cells: eventCells,
};

/** ToSelectableFields of the event strategy, on either shape. */
const coreEventFieldSelectors: Record<string, (obj: KObject) => string | undefined> = {
  'involvedObject.kind': (o) => asCoreEvent(o).involvedObject?.kind ?? '',
  'involvedObject.namespace': (o) => asCoreEvent(o).involvedObject?.namespace ?? '',
  'involvedObject.name': (o) => asCoreEvent(o).involvedObject?.name ?? '',
  'involvedObject.uid': (o) => asCoreEvent(o).involvedObject?.uid ?? '',
  'involvedObject.apiVersion': (o) => asCoreEvent(o).involvedObject?.apiVersion ?? '',
  'involvedObject.resourceVersion': (o) => asCoreEvent(o).involvedObject?.resourceVersion ?? '',
  'involvedObject.fieldPath': (o) => asCoreEvent(o).involvedObject?.fieldPath ?? '',
  reason: (o) => asCoreEvent(o).reason ?? '',
  reportingComponent: (o) => asCoreEvent(o).reportingComponent ?? '',
  source: (o) => {
    const e = asCoreEvent(o);
    return e.source?.component || e.reportingComponent || '';
  },
  type: (o) => asCoreEvent(o).type ?? '',
};

/** The field labels events.k8s.io/v1 accepts, mapped onto the same selectable fields. */
const eventsV1FieldSelectors: Record<string, (obj: KObject) => string | undefined> = {
  'regarding.kind': coreEventFieldSelectors['involvedObject.kind'],
  'regarding.namespace': coreEventFieldSelectors['involvedObject.namespace'],
  'regarding.name': coreEventFieldSelectors['involvedObject.name'],
  'regarding.uid': coreEventFieldSelectors['involvedObject.uid'],
  'regarding.apiVersion': coreEventFieldSelectors['involvedObject.apiVersion'],
  'regarding.resourceVersion': coreEventFieldSelectors['involvedObject.resourceVersion'],
  'regarding.fieldPath': coreEventFieldSelectors['involvedObject.fieldPath'],
  reason: coreEventFieldSelectors.reason,
  reportingController: coreEventFieldSelectors.reportingComponent,
  type: coreEventFieldSelectors.type,
};

export const eventResource: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  tracksGeneration: false,
  defaults: defaultCoreEvent,
  validate: (obj) => legacyValidateEvent(asCoreEvent(obj)),
  fieldSelectors: coreEventFieldSelectors,
  table: eventColumns,
};

export const eventsV1EventResource: ResourceDef = {
  group: eventsGroup,
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  tracksGeneration: false,
  storage: { resource: 'events', version: 'v1' },
  toStorage: (obj) => (isEventsV1(obj) ? eventsV1ToCoreEvent(obj) : obj),
  fromStorage: (obj) => (isEventsV1(obj) ? obj : coreEventToEventsV1(obj)),
  defaults: (obj) => (isEventsV1(obj) ? defaultEventsV1Event(obj) : defaultCoreEvent(obj)),
  validate: (obj) => strictValidateEvent(asCoreEvent(obj)),
  validateUpdate: (obj, old) => strictValidateEventUpdate(asCoreEvent(obj), asCoreEvent(old)),
  fieldSelectors: eventsV1FieldSelectors,
  table: eventColumns,
};
