import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../errors.js';
import type { KObject, ManagedFieldsEntry } from '../types.js';
import { applyPatch, decodeApplyBody, MAX_UPDATE_MANAGERS, ownedPaths, updateManagedFields, type ApplyOptions } from './apply.js';
import { lookupPatchMeta } from './patch-meta.js';

const meta = lookupPatchMeta('apps', 'v1', 'Deployment');
const T0 = new Date('2024-05-01T10:00:00Z');
const T1 = new Date('2024-05-01T11:00:00Z');
const T2 = new Date('2024-05-01T12:00:00Z');

function config(overrides: { replicas?: number; image?: string; labels?: Record<string, string>; containers?: unknown[] } = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: overrides.labels ?? { app: 'web' } },
    spec: {
      replicas: overrides.replicas ?? 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: overrides.containers ?? [{ name: 'nginx', image: overrides.image ?? 'nginx:1.25', ports: [{ containerPort: 80 }] }],
        },
      },
    },
  };
}

function opts(manager: string, extra: Partial<ApplyOptions> = {}): ApplyOptions {
  return { manager, force: false, apiVersion: 'apps/v1', now: T0, meta, ...extra };
}

/** A stored object as the API server would keep it: server-set metadata on top. */
function stored(obj: KObject): KObject {
  return { ...obj, metadata: { ...obj.metadata, uid: 'uid-1', resourceVersion: '10', creationTimestamp: '2024-05-01T09:00:00Z' } };
}

function entry(obj: KObject, manager: string, operation?: string): ManagedFieldsEntry | undefined {
  return obj.metadata?.managedFields?.find((e) => e.manager === manager && (!operation || e.operation === operation));
}

function owned(obj: KObject, manager: string): string[] {
  const e = entry(obj, manager);
  return e ? ownedPaths(e) : [];
}

const csaCreated = () =>
  updateManagedFields(
    undefined,
    stored({ ...config(), metadata: { ...config().metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } } }),
    { manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', now: T0 },
  );

describe('applyPatch: field sets', () => {
  it('records the applied configuration as FieldsV1, as kube does', () => {
    const out = applyPatch(undefined, config(), opts('kubectl'));
    assert.deepEqual(out.metadata?.managedFields, [
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: '2024-05-01T10:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"nginx"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
    assert.equal(out.spec.replicas, 2);
  });

  it('owns set items by value, empty maps and nulls as leaves, and never status', () => {
    const applied: KObject = {
      ...config(),
      metadata: { name: 'web', finalizers: ['example.com/a'] },
      spec: { ...config().spec, paused: null, strategy: {} },
      status: { replicas: 9 },
    };
    const out = applyPatch(undefined, applied, opts('kubectl'));
    const paths = owned(out, 'kubectl');
    assert.ok(paths.includes('.metadata.finalizers[="example.com/a"]'));
    assert.ok(paths.includes('.spec.strategy'));
    assert.ok(paths.includes('.spec.paused'));
    assert.ok(!paths.some((p) => p.startsWith('.status')));
    assert.ok(!paths.includes('.metadata.name'), 'identity fields are never owned');
    assert.equal('paused' in out.spec, false, 'an applied null leaves the field unset');
  });

  it('applying through /status owns only status', () => {
    const current = csaCreated();
    const out = applyPatch(
      current,
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, status: { readyReplicas: 2 } },
      opts('status-writer', { subresource: 'status' }),
    );
    assert.deepEqual(owned(out, 'status-writer'), ['.status.readyReplicas']);
    assert.equal(entry(out, 'status-writer')?.subresource, 'status');
  });
});

describe('applyPatch: conflicts', () => {
  it('a changed value owned by another manager is a 409 like kube', () => {
    const current = csaCreated();
    assert.throws(
      () => applyPatch(current, config({ replicas: 3 }), opts('kubectl')),
      (e: unknown) => {
        assert.ok(e instanceof ApiError);
        const s = e.toStatus();
        assert.equal(s.code, 409);
        assert.equal(s.reason, 'Conflict');
        assert.equal(s.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
        assert.deepEqual(s.details?.causes, [
          { reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' },
        ]);
        return true;
      },
    );
  });

  it('the same value is shared ownership, not a conflict', () => {
    const out = applyPatch(csaCreated(), config(), opts('kubectl'));
    assert.ok(owned(out, 'kubectl').includes('.spec.replicas'));
    assert.ok(owned(out, 'kubectl-client-side-apply').includes('.spec.replicas'));
  });

  it('force moves ownership of the conflicting fields', () => {
    const out = applyPatch(csaCreated(), config({ replicas: 3, image: 'nginx:1.26' }), opts('kubectl', { force: true, now: T1 }));
    assert.equal(out.spec.replicas, 3);
    const csa = owned(out, 'kubectl-client-side-apply');
    assert.ok(!csa.includes('.spec.replicas'));
    assert.ok(!csa.includes('.spec.template.spec.containers[name="nginx"].image'));
    assert.ok(csa.includes('.spec.selector'), 'unchanged fields stay shared');
    assert.ok(owned(out, 'kubectl').includes('.spec.replicas'));
  });

  it('several conflicts list each manager and path', () => {
    let current = csaCreated();
    current = updateManagedFields(current, { ...current, spec: { ...current.spec, replicas: 5 } }, {
      manager: 'kube-controller-manager',
      apiVersion: 'apps/v1',
      now: T1,
    });
    assert.throws(
      () => applyPatch(current, config({ replicas: 3, image: 'nginx:1.26' }), opts('kubectl')),
      (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(
          e.message,
          'Apply failed with 2 conflicts: conflicts with "kube-controller-manager" using apps/v1:\n' +
            '- .spec.replicas\n' +
            'conflicts with "kubectl-client-side-apply" using apps/v1:\n' +
            '- .spec.template.spec.containers[name="nginx"].image',
        );
        assert.deepEqual(
          e.details?.causes?.map((c) => c.field),
          ['.spec.replicas', '.spec.template.spec.containers[name="nginx"].image'],
        );
        return true;
      },
    );
  });

  it('appliers are named without an apiVersion, updaters of a subresource with it', () => {
    const first = applyPatch(undefined, config(), opts('alice'));
    assert.throws(
      () => applyPatch(first, config({ replicas: 4 }), opts('bob')),
      (e: unknown) => e instanceof ApiError && e.message === 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas',
    );
    const scaled = updateManagedFields(first, { ...first, spec: { ...first.spec, replicas: 7 } }, {
      manager: 'kubectl',
      apiVersion: 'apps/v1',
      subresource: 'scale',
      ignoredFields: [['status']],
      now: T1,
    });
    assert.throws(
      () => applyPatch(scaled, config({ replicas: 4 }), opts('alice')),
      (e: unknown) =>
        e instanceof ApiError &&
        e.message === 'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas',
    );
  });

  it('objects without managedFields belong to before-first-apply', () => {
    const legacy = stored(config());
    assert.throws(
      () => applyPatch(legacy, config({ replicas: 3 }), opts('kubectl')),
      (e: unknown) =>
        e instanceof ApiError && e.message === 'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas',
    );
  });
});

describe('applyPatch: merging and pruning', () => {
  it('a re-apply of the same configuration changes nothing, not even the time', () => {
    const first = applyPatch(undefined, config(), opts('kubectl'));
    const again = applyPatch(stored(first), config(), opts('kubectl', { now: T1 }));
    assert.equal(entry(again, 'kubectl')?.time, '2024-05-01T10:00:00Z');
    assert.deepEqual(again, stored(first));
  });

  it('a changed value is written and the time moves', () => {
    const first = applyPatch(undefined, config(), opts('kubectl'));
    const next = applyPatch(first, config({ image: 'nginx:1.26' }), opts('kubectl', { now: T1 }));
    assert.equal(next.spec.template.spec.containers[0].image, 'nginx:1.26');
    assert.equal(entry(next, 'kubectl')?.time, '2024-05-01T11:00:00Z');
  });

  it('fields the applier stops applying are removed', () => {
    const first = applyPatch(undefined, config({ labels: { app: 'web', tier: 'fe' } }), opts('kubectl'));
    const next = applyPatch(first, config(), opts('kubectl', { now: T1 }));
    assert.deepEqual(next.metadata?.labels, { app: 'web' });
    assert.ok(!owned(next, 'kubectl').includes('.metadata.labels.tier'));
  });

  it('a removed container goes, and so does a removed struct field', () => {
    const two = config({
      containers: [
        { name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80 }] },
        { name: 'sidecar', image: 'busybox' },
      ],
    });
    two.spec.strategy = { type: 'Recreate' };
    const first = applyPatch(undefined, two, opts('kubectl'));
    const next = applyPatch(first, config(), opts('kubectl', { now: T1 }));
    assert.deepEqual(
      next.spec.template.spec.containers.map((c: { name: string }) => c.name),
      ['nginx'],
    );
    assert.equal('strategy' in next.spec, false);
  });

  it('fields someone else also owns are kept when the applier drops them', () => {
    const first = applyPatch(undefined, config({ labels: { app: 'web', tier: 'fe' } }), opts('kubectl'));
    const labelled = updateManagedFields(first, { ...first, metadata: { ...first.metadata, labels: { app: 'web', tier: 'fe', team: 'a' } } }, {
      manager: 'kubectl-label',
      apiVersion: 'apps/v1',
      now: T1,
    });
    const shared = applyPatch(labelled, config({ labels: { app: 'web', tier: 'fe' } }), opts('other', { now: T1 }));
    const next = applyPatch(shared, config(), opts('kubectl', { now: T2 }));
    assert.deepEqual(next.metadata?.labels, { app: 'web', tier: 'fe', team: 'a' }, 'tier is still applied by "other", team is owned by kubectl-label');
  });

  it('fields set by defaulting (owned by nobody) are not pruned', () => {
    const first = applyPatch(undefined, config(), opts('kubectl'));
    const defaulted = { ...first, spec: { ...first.spec, revisionHistoryLimit: 10 } };
    const next = applyPatch(defaulted, config({ image: 'nginx:1.26' }), opts('kubectl', { now: T1 }));
    assert.equal(next.spec.revisionHistoryLimit, 10);
  });

  it('associative lists merge by key: live-only items stay, the applier does not own them', () => {
    const first = applyPatch(undefined, config(), opts('kubectl'));
    const injected = updateManagedFields(
      first,
      {
        ...first,
        spec: {
          ...first.spec,
          template: {
            ...first.spec.template,
            spec: { containers: [{ name: 'istio-proxy', image: 'proxy' }, ...first.spec.template.spec.containers] },
          },
        },
      },
      { manager: 'injector', apiVersion: 'apps/v1', now: T1 },
    );
    const next = applyPatch(injected, config({ image: 'nginx:1.26' }), opts('kubectl', { now: T2 }));
    assert.deepEqual(next.spec.template.spec.containers, [
      { name: 'istio-proxy', image: 'proxy' },
      { name: 'nginx', image: 'nginx:1.26', ports: [{ containerPort: 80 }] },
    ]);
    assert.ok(owned(next, 'injector').includes('.spec.template.spec.containers[name="istio-proxy"].image'));
  });

  it('shared items follow the configuration order; a live-only item keeps its place before them', () => {
    const mk = (names: string[]) => names.map((name) => ({ name, image: name }));
    const first = applyPatch(undefined, config({ containers: mk(['a', 'b', 'c']) }), opts('x'));
    const withD = updateManagedFields(first, { ...first, spec: { ...first.spec, template: { ...first.spec.template, spec: { containers: mk(['a', 'b', 'd', 'c']) } } } }, {
      manager: 'y',
      apiVersion: 'apps/v1',
      now: T1,
    });
    const next = applyPatch(withD, config({ containers: mk(['c', 'b', 'a']) }), opts('x', { now: T2 }));
    assert.deepEqual(
      next.spec.template.spec.containers.map((c: { name: string }) => c.name),
      // structured-merge-diff's merge: d (live only) is emitted when reached, before the shared c.
      ['d', 'c', 'b', 'a'],
    );
  });

  it('atomic fields are replaced whole (selector, tolerations)', () => {
    const first = applyPatch(undefined, config(), opts('kubectl'));
    const cfg = config();
    cfg.spec.selector = { matchLabels: { app: 'web', v: '2' } };
    const next = applyPatch(first, cfg, opts('kubectl', { now: T1 }));
    assert.deepEqual(next.spec.selector, { matchLabels: { app: 'web', v: '2' } });
    assert.ok(owned(next, 'kubectl').includes('.spec.selector'));
    assert.ok(!owned(next, 'kubectl').some((p) => p.startsWith('.spec.selector.')));
  });
});

describe('applyPatch: rejected requests', () => {
  const cases: { name: string; applied: KObject; o?: Partial<ApplyOptions>; code: number; message: string }[] = [
    {
      name: 'a list item without its key',
      applied: config({ containers: [{ image: 'x' }] }),
      code: 400,
      message:
        'failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    },
    {
      name: 'duplicate keys',
      applied: config({ containers: [{ name: 'a' }, { name: 'a' }] }),
      code: 400,
      message: 'failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="a"]',
    },
    {
      name: 'managedFields in the configuration',
      applied: { ...config(), metadata: { name: 'web', managedFields: [] } },
      code: 400,
      message: 'metadata.managedFields must be nil',
    },
    {
      name: 'another apiVersion',
      applied: { ...config(), apiVersion: 'apps/v2' },
      code: 400,
      message: 'invalid object type: apps/v2, Kind=Deployment',
    },
    {
      name: 'another kind',
      applied: { ...config(), kind: 'ReplicaSet' },
      o: { kind: 'Deployment' },
      code: 400,
      message: 'invalid object type: apps/v1, Kind=ReplicaSet',
    },
    {
      name: 'no fieldManager',
      applied: config(),
      o: { manager: '' },
      code: 422,
      message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply requests',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(
        () => applyPatch(undefined, c.applied, { ...opts('kubectl'), ...c.o }),
        (e: unknown) => e instanceof ApiError && e.code === c.code && e.message === c.message,
      );
    });
  }

  it('a port without protocol is keyed with the default TCP', () => {
    const out = applyPatch(undefined, config(), opts('kubectl'));
    assert.ok(owned(out, 'kubectl').includes('.spec.template.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].containerPort'));
  });
});

describe('updateManagedFields', () => {
  it('a create owns what was set, with "." on maps the Go zero value lacks', () => {
    const out = csaCreated();
    assert.deepEqual(out.metadata?.managedFields, [
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: '2024-05-01T10:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} },
            'f:labels': { '.': {}, 'f:app': {} },
          },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"nginx"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': {
                      '.': {},
                      'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it('an update moves changed fields to the updater and keeps entries sorted', () => {
    const current = csaCreated();
    const out = updateManagedFields(current, { ...current, spec: { ...current.spec, replicas: 4 } }, {
      manager: 'kubectl-edit',
      apiVersion: 'apps/v1',
      now: T1,
    });
    assert.deepEqual(owned(out, 'kubectl-edit'), ['.spec.replicas']);
    assert.ok(!owned(out, 'kubectl-client-side-apply').includes('.spec.replicas'));
    assert.deepEqual(
      out.metadata?.managedFields?.map((e) => e.manager),
      ['kubectl-client-side-apply', 'kubectl-edit'],
    );
  });

  it('Apply entries sort before Update entries', () => {
    const current = applyPatch(csaCreated(), config(), opts('kubectl', { now: T2 }));
    assert.deepEqual(
      current.metadata?.managedFields?.map((e) => e.operation),
      ['Apply', 'Update'],
    );
  });

  it('a no-op update leaves managedFields alone', () => {
    const current = csaCreated();
    const out = updateManagedFields(current, { ...current }, { manager: 'someone', apiVersion: 'apps/v1', now: T2 });
    assert.deepEqual(out.metadata?.managedFields, current.metadata?.managedFields);
  });

  it('a removed field leaves every set', () => {
    const current = csaCreated();
    const labels = { ...current.metadata?.labels };
    delete labels.app;
    const out = updateManagedFields(current, { ...current, metadata: { ...current.metadata, labels } }, {
      manager: 'kubectl-label',
      apiVersion: 'apps/v1',
      now: T1,
    });
    assert.ok(!owned(out, 'kubectl-client-side-apply').some((p) => p.startsWith('.metadata.labels')));
    assert.equal(entry(out, 'kubectl-label'), undefined, 'removing owns nothing');
  });

  it('a status update owns only status, with its subresource', () => {
    const current = csaCreated();
    const out = updateManagedFields(
      current,
      { ...current, status: { replicas: 2, conditions: [{ type: 'Available', status: 'True' }] } },
      { manager: 'kube-controller-manager', apiVersion: 'apps/v1', subresource: 'status', now: T1 },
    );
    const e = entry(out, 'kube-controller-manager');
    assert.equal(e?.subresource, 'status');
    assert.deepEqual(e?.fieldsV1, {
      'f:status': {
        '.': {},
        'f:conditions': { '.': {}, 'k:{"type":"Available"}': { '.': {}, 'f:status': {}, 'f:type': {} } },
        'f:replicas': {},
      },
    });
  });

  it('managedFields: [{}] strips them', () => {
    const current = csaCreated();
    const out = updateManagedFields(current, { ...current, metadata: { ...current.metadata, managedFields: [{}] } }, {
      manager: 'x',
      apiVersion: 'apps/v1',
      now: T1,
    });
    assert.equal(out.metadata && 'managedFields' in out.metadata, false);
  });

  it('managedFields sent by the client replace the live ones (kubectl apply migration)', () => {
    const current = csaCreated();
    const migrated = current.metadata!.managedFields!.map((e) => ({ ...e, manager: 'kubectl', operation: 'Apply' as const }));
    const out = updateManagedFields(current, { ...current, metadata: { ...current.metadata, managedFields: migrated } }, {
      manager: 'kubectl',
      apiVersion: 'apps/v1',
      now: T1,
    });
    assert.deepEqual(
      out.metadata?.managedFields?.map((e) => [e.manager, e.operation]),
      [['kubectl', 'Apply']],
    );
    // The migrated applier can now prune what it used to own through client-side apply.
    const pruned = applyPatch(out, config({ labels: {} }), opts('kubectl', { now: T2 }));
    assert.equal(pruned.metadata?.labels, undefined);
  });

  it('caps Update managers, folding the oldest into ancient-changes', () => {
    let obj = csaCreated();
    for (let i = 0; i < MAX_UPDATE_MANAGERS + 2; i++) {
      obj = updateManagedFields(obj, { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata?.annotations, [`k${i}`]: 'v' } } }, {
        manager: `m${i}`,
        apiVersion: 'apps/v1',
        now: new Date(T1.getTime() + i * 1000),
      });
    }
    const managers = obj.metadata!.managedFields!.map((e) => e.manager);
    assert.equal(managers.length, MAX_UPDATE_MANAGERS);
    assert.ok(managers.includes('ancient-changes'));
    assert.ok(!managers.includes('kubectl-client-side-apply'));
    assert.ok(managers.includes(`m${MAX_UPDATE_MANAGERS + 1}`));
    const ancient = ownedPaths(entry(obj, 'ancient-changes')!);
    assert.ok(ancient.includes('.spec.replicas') && ancient.includes('.metadata.annotations.k0'));
  });
});

describe('decodeApplyBody', () => {
  it('reads JSON and YAML (YAML 1.1 booleans, timestamps as strings, first document)', () => {
    assert.deepEqual(decodeApplyBody('{"kind":"Pod"}'), { kind: 'Pod' });
    assert.deepEqual(decodeApplyBody('kind: Pod\nspec:\n  hostNetwork: yes\n  t: 2024-01-01\n---\nkind: Other\n'), {
      kind: 'Pod',
      spec: { hostNetwork: true, t: '2024-01-01' },
    });
    assert.deepEqual(decodeApplyBody(new TextEncoder().encode('a: 1')), { a: 1 });
    assert.deepEqual(decodeApplyBody(''), {});
  });

  for (const [body, message] of [
    ['- a\n- b', 'error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}'],
    ['a: [1, 2', /^error decoding YAML: /],
  ] as const) {
    it(`rejects ${JSON.stringify(body)}`, () => {
      assert.throws(
        () => decodeApplyBody(body),
        (e: unknown) =>
          e instanceof ApiError && e.code === 400 && (typeof message === 'string' ? e.message === message : message.test(e.message)),
      );
    });
  }
});

describe('kubectl workflows', () => {
  it('client-side apply of an edited file: SMP, then ownership stays with kubectl-client-side-apply', async () => {
    const { strategicMergePatch } = await import('./strategic-merge.js');
    const created = csaCreated();
    const patched = strategicMergePatch(
      created,
      {
        metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"v":2}' } },
        spec: {
          template: {
            spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ image: 'nginx:1.26', name: 'nginx' }] },
          },
        },
      },
      meta,
    );
    const out = updateManagedFields(created, patched, { manager: 'kubectl-client-side-apply', apiVersion: 'apps/v1', now: T1 });
    assert.equal(out.spec.template.spec.containers[0].image, 'nginx:1.26');
    assert.deepEqual(
      out.metadata?.managedFields?.map((e) => e.manager),
      ['kubectl-client-side-apply'],
    );
    assert.equal(entry(out, 'kubectl-client-side-apply')?.time, '2024-05-01T11:00:00Z');
    assert.ok(owned(out, 'kubectl-client-side-apply').includes('.spec.template.spec.containers[name="nginx"].image'));
  });

  it('server-side apply after kubectl scale conflicts on replicas unless forced', () => {
    const first = applyPatch(undefined, config(), opts('kubectl'));
    const scaled = updateManagedFields(first, { ...first, spec: { ...first.spec, replicas: 5 } }, {
      manager: 'kubectl',
      apiVersion: 'apps/v1',
      subresource: 'scale',
      ignoredFields: [['status']],
      now: T1,
    });
    const scaleEntry = scaled.metadata!.managedFields!.find((e) => e.subresource === 'scale')!;
    assert.deepEqual(ownedPaths(scaleEntry), ['.spec.replicas']);
    assert.ok(!ownedPaths(entry(scaled, 'kubectl', 'Apply')!).includes('.spec.replicas'));
    assert.throws(() => applyPatch(scaled, config({ image: 'nginx:1.26' }), opts('kubectl', { now: T2 })), (e: unknown) => e instanceof ApiError && e.code === 409);
    // Leaving replicas out of the configuration lets the scale stand.
    const cfg = config({ image: 'nginx:1.26' });
    delete cfg.spec.replicas;
    const out = applyPatch(scaled, cfg, opts('kubectl', { now: T2 }));
    assert.equal(out.spec.replicas, 5);
    assert.equal(out.spec.template.spec.containers[0].image, 'nginx:1.26');
  });
});
