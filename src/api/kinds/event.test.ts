import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../errors.js';
import type { KObject } from '../types.js';
import { coreEventToEventsV1, eventResource, eventsV1EventResource, eventsV1ToCoreEvent } from './event.js';

const now = new Date('2024-05-01T12:00:00Z');

function coreEvent(extra: KObject = {}): KObject {
  const e: KObject = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web-7d4b9c-abcde.17c9a1b2c3d4e5f6', namespace: 'default', creationTimestamp: '2024-05-01T11:50:00Z' },
    involvedObject: {
      kind: 'Pod',
      namespace: 'default',
      name: 'web-7d4b9c-abcde',
      uid: 'u-1',
      apiVersion: 'v1',
      resourceVersion: '42',
      fieldPath: 'spec.containers{web}',
    },
    reason: 'Pulled',
    message: 'Successfully pulled image "nginx:1.27"\n',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: '2024-05-01T11:50:00Z',
    lastTimestamp: '2024-05-01T11:58:00Z',
    count: 3,
    type: 'Normal',
    ...extra,
  };
  eventResource.defaults!(e);
  return e;
}

test('core defaults fill the fields Go always serializes', () => {
  const e: KObject = { metadata: { name: 'x', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' } };
  eventResource.defaults!(e);
  assert.deepEqual(e.source, {});
  assert.equal(e.eventTime, null);
  assert.equal(e.reportingComponent, '');
  assert.equal(e.reportingInstance, '');
  assert.equal(e.firstTimestamp, null);
});

test('core/v1 -> events.k8s.io/v1 -> core/v1 round trip', () => {
  const e = coreEvent({
    eventTime: '2024-05-01T11:50:00.123456Z',
    series: { count: 4, lastObservedTime: '2024-05-01T11:59:00.000000Z' },
    action: 'Pulling',
    related: { kind: 'Node', name: 'node-1' },
    reportingComponent: 'kubelet',
    reportingInstance: 'node-1',
  });
  const v1 = coreEventToEventsV1(e);
  assert.equal(v1.apiVersion, 'events.k8s.io/v1');
  assert.deepEqual(v1.regarding, e.involvedObject);
  assert.equal(v1.note, e.message);
  assert.equal(v1.deprecatedCount, 3);
  assert.equal(v1.deprecatedFirstTimestamp, e.firstTimestamp);
  assert.equal(v1.deprecatedLastTimestamp, e.lastTimestamp);
  assert.deepEqual(v1.deprecatedSource, { component: 'kubelet', host: 'node-1' });
  assert.equal(v1.reportingController, 'kubelet');
  assert.equal(v1.reportingInstance, 'node-1');
  assert.equal(v1.eventTime, e.eventTime);
  assert.deepEqual(v1.series, e.series);
  assert.equal('involvedObject' in v1 || 'message' in v1 || 'count' in v1 || 'reportingComponent' in v1, false);
  assert.deepEqual(eventsV1ToCoreEvent(v1), e);
});

test('events.k8s.io/v1 -> core/v1 -> events.k8s.io/v1 round trip through the defs', () => {
  const v1: KObject = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'deploy.1', namespace: 'default' },
    eventTime: '2024-05-01T11:59:30.000000Z',
    reportingController: 'skiff.io/deployment-controller',
    reportingInstance: 'skiff-server',
    action: 'Scale',
    reason: 'ScalingReplicaSet',
    regarding: { kind: 'Deployment', namespace: 'default', name: 'web', uid: 'd-1', apiVersion: 'apps/v1' },
    note: 'Scaled up replica set web-7d4b9c to 3',
    type: 'Normal',
  };
  eventsV1EventResource.defaults!(v1);
  assert.deepEqual(eventsV1EventResource.validate!(v1), []);
  const stored = eventsV1EventResource.toStorage!(v1);
  assert.equal(stored.apiVersion, 'v1');
  assert.equal(stored.message, 'Scaled up replica set web-7d4b9c to 3');
  assert.equal(stored.reportingComponent, 'skiff.io/deployment-controller');
  assert.equal(stored.firstTimestamp, null);
  assert.deepEqual(stored.source, {});
  assert.equal(stored.count, undefined);
  assert.deepEqual(eventsV1EventResource.fromStorage!(stored), v1);
  // The same stored object read through core/v1 needs no conversion.
  assert.equal(eventResource.toStorage, undefined);
});

test('table: LAST SEEN TYPE REASON OBJECT MESSAGE plus wide columns', () => {
  const { columns, cells } = eventResource.table!;
  assert.deepEqual(
    columns.map((c) => [c.name, c.priority]),
    [
      ['Last Seen', 0],
      ['Type', 0],
      ['Reason', 0],
      ['Object', 0],
      ['Subobject', 1],
      ['Source', 1],
      ['Message', 0],
      ['First Seen', 1],
      ['Count', 1],
      ['Name', 1],
    ],
  );
  assert.equal(columns[9].format, 'name');
  assert.deepEqual(cells(coreEvent(), now), [
    '2m',
    'Normal',
    'Pulled',
    'pod/web-7d4b9c-abcde',
    'spec.containers{web}',
    'kubelet, node-1',
    'Successfully pulled image "nginx:1.27"',
    '10m',
    3,
    'web-7d4b9c-abcde.17c9a1b2c3d4e5f6',
  ]);
});

test('table: new-style events use eventTime, series and the reporting controller', () => {
  const { cells } = eventResource.table!;
  const single = coreEvent({
    firstTimestamp: null,
    lastTimestamp: null,
    count: undefined,
    source: {},
    eventTime: '2024-05-01T11:59:30.000000Z',
    reportingComponent: 'default-scheduler',
    reportingInstance: '',
  });
  const row = cells(single, now);
  assert.equal(row[0], '30s');
  assert.equal(row[5], 'default-scheduler');
  assert.equal(row[7], '30s');
  assert.equal(row[8], 1);
  const series = coreEvent({ series: { count: 7, lastObservedTime: '2024-05-01T11:59:50.000000Z' } });
  assert.equal(cells(series, now)[0], '10s');
  assert.equal(cells(series, now)[8], 7);
  const clusterScoped = coreEvent({ involvedObject: { kind: 'Node', name: '' } });
  assert.equal(cells(clusterScoped, now)[3], 'node');
  const never = coreEvent({ firstTimestamp: null, lastTimestamp: null });
  assert.equal(cells(never, now)[0], '<unknown>');
  // events.k8s.io objects print the same row.
  assert.deepEqual(eventsV1EventResource.table!.cells(coreEventToEventsV1(coreEvent()), now), cells(coreEvent(), now));
});

test('field selectors of core/v1 and events.k8s.io/v1', () => {
  const e = coreEvent({ reportingComponent: 'kubelet' });
  const fs = eventResource.fieldSelectors!;
  assert.equal(fs['involvedObject.kind'](e), 'Pod');
  assert.equal(fs['involvedObject.name'](e), 'web-7d4b9c-abcde');
  assert.equal(fs['involvedObject.namespace'](e), 'default');
  assert.equal(fs['involvedObject.uid'](e), 'u-1');
  assert.equal(fs['involvedObject.apiVersion'](e), 'v1');
  assert.equal(fs['involvedObject.resourceVersion'](e), '42');
  assert.equal(fs['involvedObject.fieldPath'](e), 'spec.containers{web}');
  assert.equal(fs.reason(e), 'Pulled');
  assert.equal(fs.type(e), 'Normal');
  assert.equal(fs.source(e), 'kubelet');
  assert.equal(fs.reportingComponent(e), 'kubelet');
  assert.equal(fs.source(coreEvent({ source: {}, reportingComponent: 'ctrl' })), 'ctrl');
  const v1 = coreEventToEventsV1(e);
  const fs1 = eventsV1EventResource.fieldSelectors!;
  assert.equal(fs1['regarding.name'](v1), 'web-7d4b9c-abcde');
  assert.equal(fs1['regarding.kind'](e), 'Pod');
  assert.equal(fs1.reportingController(v1), 'kubelet');
  assert.equal(fs1.type(v1), 'Normal');
});

test('legacy validation: the event namespace must match its object', () => {
  assert.deepEqual(eventResource.validate!(coreEvent()), []);
  const bad = coreEvent({ involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' } });
  assert.deepEqual(eventResource.validate!(bad).map(fieldErrorMessage), [
    'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
  ]);
  const node = coreEvent({ involvedObject: { kind: 'Node', name: 'node-1' } });
  assert.deepEqual(eventResource.validate!(node), []);
});

test('strict validation through events.k8s.io/v1', () => {
  const v1: KObject = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'x', namespace: 'default' },
    regarding: { kind: 'Pod', name: 'p', namespace: 'default' },
    type: 'Info',
    deprecatedCount: 2,
  };
  eventsV1EventResource.defaults!(v1);
  assert.deepEqual(eventsV1EventResource.validate!(v1).map(fieldErrorMessage), [
    'eventTime: Required value',
    'type: Invalid value: "": has invalid value: Info',
    'count: Invalid value: "": needs to be unset',
  ]);
  const withTime = { ...v1, eventTime: '2024-05-01T11:59:30.000000Z', type: 'Normal', deprecatedCount: undefined };
  const msgs = eventsV1EventResource.validate!(withTime).map(fieldErrorMessage);
  for (const m of [
    'reportingController: Required value',
    'reportingController: Invalid value: "": name part must be non-empty',
    'reportingInstance: Required value',
    'action: Required value',
    'reason: Required value',
  ])
    assert.ok(msgs.includes(m), m);
});

test('events.k8s.io/v1 updates may not change the note', () => {
  const old = coreEventToEventsV1(coreEvent());
  const next = { ...old, note: 'changed' };
  assert.deepEqual(eventsV1EventResource.validateUpdate!(next, old).map(fieldErrorMessage), [
    'message: Invalid value: "changed": field is immutable',
  ]);
});

test('identity: both served groups share the events storage', () => {
  assert.deepEqual(eventResource.shortNames, ['ev']);
  assert.equal(eventsV1EventResource.group, 'events.k8s.io');
  assert.deepEqual(eventsV1EventResource.storage, { resource: 'events', version: 'v1' });
  assert.equal(eventResource.plural, eventsV1EventResource.plural);
});
