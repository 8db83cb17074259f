import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../errors.js';
import { lookupPatchMeta } from './patch-meta.js';
import { strategicMergePatch } from './strategic-merge.js';
import type { JsonMap } from './values.js';

const deploymentMeta = lookupPatchMeta('apps', 'v1', 'Deployment');

function deployment(): JsonMap {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      labels: { app: 'web', x: 'y' },
      finalizers: ['a', 'b'],
      ownerReferences: [{ apiVersion: 'v1', kind: 'Thing', name: 'o1', uid: 'u1' }],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'nginx',
              image: 'nginx:1.25',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
            { name: 'sidecar', image: 'busybox', args: ['sleep', '1000'] },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
          tolerations: [{ key: 'k', operator: 'Exists' }],
          imagePullSecrets: [{ name: 'reg' }],
          hostAliases: [{ ip: '10.0.0.1', hostnames: ['a'] }],
        },
      },
    },
  };
}

/** Reads a dotted path, with [name] selecting a list item by its name (or containerPort / port). */
function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    const m = /^(\w+)\[(.+)\]$/.exec(part);
    cur = (cur as JsonMap)[m ? m[1] : part];
    if (m) {
      const list = cur as JsonMap[];
      cur = list.find((x) => String(x.name ?? x.containerPort ?? x.port ?? x.uid ?? x.type ?? x.ip) === m[2]);
    }
  }
  return cur;
}

const names = (list: unknown) => (list as JsonMap[]).map((x) => x.name ?? x.containerPort ?? x.port ?? x.uid ?? x.type ?? x.ip);
const containers = (o: JsonMap) => get(o, 'spec.template.spec.containers') as JsonMap[];

interface Case {
  name: string;
  patch: unknown;
  check: (out: JsonMap) => void;
}

const cases: Case[] = [
  {
    name: 'kubectl apply of a changed image ($setElementOrder + merge by name)',
    patch: {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }],
            containers: [{ image: 'nginx:1.26', name: 'nginx' }],
          },
        },
      },
    },
    check: (out) => {
      assert.equal(get(out, 'spec.template.spec.containers[nginx].image'), 'nginx:1.26');
      // Other fields of the merged container survive.
      assert.deepEqual(names(get(out, 'spec.template.spec.containers[nginx].env')), ['A', 'B']);
      // The server-only container stays where it was.
      assert.deepEqual(names(containers(out)), ['nginx', 'sidecar']);
    },
  },
  {
    name: 'kubectl apply of a removed container ($patch: delete)',
    patch: {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }],
            containers: [{ $patch: 'delete', name: 'sidecar' }],
          },
        },
      },
    },
    check: (out) => assert.deepEqual(names(containers(out)), ['nginx']),
  },
  {
    name: 'a label removal (null deletes)',
    patch: { metadata: { labels: { x: null } } },
    check: (out) => assert.deepEqual(get(out, 'metadata.labels'), { app: 'web' }),
  },
  {
    name: 'null on an absent field is ignored',
    patch: { metadata: { labels: { nope: null } }, spec: { paused: null } },
    check: (out) => {
      assert.deepEqual(get(out, 'metadata.labels'), { app: 'web', x: 'y' });
      assert.equal('paused' in (out.spec as JsonMap), false);
    },
  },
  {
    name: 'null deletes a nested scalar and a whole map',
    patch: { spec: { replicas: null, strategy: null } },
    check: (out) => {
      assert.equal('replicas' in (out.spec as JsonMap), false);
      assert.equal('strategy' in (out.spec as JsonMap), false);
    },
  },
  {
    name: 'env merges by name; existing items keep their place, new ones follow the patch order',
    patch: {
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'nginx',
                env: [
                  { name: 'B', value: '3' },
                  { name: 'C', value: '4' },
                ],
              },
            ],
          },
        },
      },
    },
    check: (out) => {
      const env = get(out, 'spec.template.spec.containers[nginx].env') as JsonMap[];
      assert.deepEqual(env, [
        { name: 'A', value: '1' },
        { name: 'B', value: '3' },
        { name: 'C', value: '4' },
      ]);
    },
  },
  {
    name: 'a new item without $setElementOrder goes first, as kube places it',
    patch: { spec: { template: { spec: { containers: [{ name: 'nginx', env: [{ name: 'Z', value: '9' }] }] } } } },
    check: (out) => assert.deepEqual(names(get(out, 'spec.template.spec.containers[nginx].env')), ['Z', 'A', 'B']),
  },
  {
    name: '$setElementOrder alone reorders a list',
    patch: {
      spec: {
        template: {
          spec: {
            containers: [{ name: 'nginx', '$setElementOrder/env': [{ name: 'B' }, { name: 'A' }] }],
            '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'nginx' }],
          },
        },
      },
    },
    check: (out) => {
      assert.deepEqual(names(containers(out)), ['sidecar', 'nginx']);
      assert.deepEqual(names(get(out, 'spec.template.spec.containers[nginx].env')), ['B', 'A']);
    },
  },
  {
    name: 'kubectl apply adding a container and a port (appended by $setElementOrder)',
    patch: {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }, { name: 'logger' }],
            containers: [
              {
                name: 'nginx',
                '$setElementOrder/ports': [{ containerPort: 80 }, { containerPort: 443 }],
                ports: [{ containerPort: 443, protocol: 'TCP' }],
              },
              { name: 'logger', image: 'fluentd' },
            ],
          },
        },
      },
    },
    check: (out) => {
      assert.deepEqual(names(containers(out)), ['nginx', 'sidecar', 'logger']);
      assert.deepEqual(names(get(out, 'spec.template.spec.containers[nginx].ports')), [80, 443]);
      assert.equal(get(out, 'spec.template.spec.containers[logger].image'), 'fluentd');
    },
  },
  {
    name: 'ports merge by containerPort',
    patch: { spec: { template: { spec: { containers: [{ name: 'nginx', ports: [{ containerPort: 80, name: 'http' }] }] } } } },
    check: (out) =>
      assert.deepEqual(get(out, 'spec.template.spec.containers[nginx].ports'), [{ containerPort: 80, protocol: 'TCP', name: 'http' }]),
  },
  {
    name: 'volumeMounts merge by mountPath',
    patch: {
      spec: { template: { spec: { containers: [{ name: 'nginx', volumeMounts: [{ mountPath: '/data', readOnly: true }] }] } } },
    },
    check: (out) =>
      assert.deepEqual(get(out, 'spec.template.spec.containers[nginx].volumeMounts'), [
        { name: 'data', mountPath: '/data', readOnly: true },
      ]),
  },
  {
    name: 'finalizers (merge strategy, scalars): union in patch order, server-only values after',
    patch: { metadata: { finalizers: ['c', 'a'] } },
    check: (out) => assert.deepEqual(get(out, 'metadata.finalizers'), ['c', 'a', 'b']),
  },
  {
    name: 'finalizers with $setElementOrder',
    patch: { metadata: { '$setElementOrder/finalizers': ['a', 'b', 'c'], finalizers: ['c'] } },
    check: (out) => assert.deepEqual(get(out, 'metadata.finalizers'), ['a', 'b', 'c']),
  },
  {
    name: '$deleteFromPrimitiveList removes values',
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
    check: (out) => assert.deepEqual(get(out, 'metadata.finalizers'), ['b']),
  },
  {
    name: 'kubectl apply of finalizers: $setElementOrder with additions and $deleteFromPrimitiveList',
    patch: {
      metadata: {
        '$setElementOrder/finalizers': ['b', 'c'],
        finalizers: ['c'],
        '$deleteFromPrimitiveList/finalizers': ['a'],
      },
    },
    check: (out) => assert.deepEqual(get(out, 'metadata.finalizers'), ['b', 'c']),
  },
  {
    name: '$deleteFromPrimitiveList of an absent list is a no-op',
    patch: { spec: { template: { spec: { containers: [{ name: 'nginx', '$deleteFromPrimitiveList/args': ['x'] }] } } } },
    check: (out) => assert.equal('args' in (get(out, 'spec.template.spec.containers[nginx]') as JsonMap), false),
  },
  {
    name: 'tolerations (no merge strategy) are replaced whole',
    patch: { spec: { template: { spec: { tolerations: [{ key: 'z', operator: 'Exists' }] } } } },
    check: (out) => assert.deepEqual(get(out, 'spec.template.spec.tolerations'), [{ key: 'z', operator: 'Exists' }]),
  },
  {
    name: 'args (atomic list of scalars) are replaced whole',
    patch: { spec: { template: { spec: { containers: [{ name: 'sidecar', args: ['sleep'] }] } } } },
    check: (out) => assert.deepEqual(get(out, 'spec.template.spec.containers[sidecar].args'), ['sleep']),
  },
  {
    name: 'imagePullSecrets merge by name, hostAliases by ip',
    patch: {
      spec: {
        template: {
          spec: { imagePullSecrets: [{ name: 'other' }], hostAliases: [{ ip: '10.0.0.1', hostnames: ['b'] }] },
        },
      },
    },
    check: (out) => {
      assert.deepEqual(names(get(out, 'spec.template.spec.imagePullSecrets')), ['other', 'reg']);
      assert.deepEqual(get(out, 'spec.template.spec.hostAliases'), [{ ip: '10.0.0.1', hostnames: ['b'] }]);
    },
  },
  {
    name: 'ownerReferences merge by uid',
    patch: { metadata: { ownerReferences: [{ uid: 'u1', controller: true }, { uid: 'u2', name: 'o2', kind: 'K', apiVersion: 'v1' }] } },
    check: (out) => {
      const refs = get(out, 'metadata.ownerReferences') as JsonMap[];
      assert.deepEqual(
        refs.map((r) => r.uid),
        ['u1', 'u2'],
      );
      assert.equal(refs[0].controller, true);
      assert.equal(refs[0].name, 'o1');
    },
  },
  {
    name: '$patch: replace on a map replaces it',
    patch: { spec: { template: { metadata: { labels: { $patch: 'replace', fresh: '1' } } } } },
    check: (out) => assert.deepEqual(get(out, 'spec.template.metadata.labels'), { fresh: '1' }),
  },
  {
    name: '$patch: delete on a map empties it',
    patch: { spec: { strategy: { $patch: 'delete' } } },
    check: (out) => assert.deepEqual(get(out, 'spec.strategy'), {}),
  },
  {
    name: '$patch: replace in a merge list replaces the list with the other items',
    patch: { spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } } },
    check: (out) => assert.deepEqual(containers(out), [{ name: 'only', image: 'x' }]),
  },
  {
    name: '$retainKeys on the Deployment strategy clears the keys not listed',
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
    check: (out) => assert.deepEqual(get(out, 'spec.strategy'), { type: 'Recreate' }),
  },
  {
    name: '$retainKeys on a volume switches its source',
    patch: {
      spec: {
        template: {
          spec: {
            '$setElementOrder/volumes': [{ name: 'data' }],
            volumes: [{ $retainKeys: ['configMap', 'name'], name: 'data', configMap: { name: 'cm' } }],
          },
        },
      },
    },
    check: (out) => assert.deepEqual(get(out, 'spec.template.spec.volumes'), [{ name: 'data', configMap: { name: 'cm' } }]),
  },
  {
    name: 'directives inside a value the original lacks do not leak into the object',
    patch: {
      spec: {
        template: {
          spec: {
            initContainers: [{ name: 'init', image: 'i', '$setElementOrder/env': [{ name: 'E' }], env: [{ name: 'E', value: 'e' }] }],
            securityContext: { $retainKeys: ['runAsUser'], runAsUser: 1000, fsGroup: null },
          },
        },
      },
    },
    check: (out) => {
      assert.deepEqual(get(out, 'spec.template.spec.initContainers'), [{ name: 'init', image: 'i', env: [{ name: 'E', value: 'e' }] }]);
      assert.deepEqual(get(out, 'spec.template.spec.securityContext'), { runAsUser: 1000 });
    },
  },
  {
    name: 'a value of another JSON type replaces the original',
    patch: { spec: { selector: 'not-a-map', replicas: { a: 1 } } },
    check: (out) => {
      assert.equal(get(out, 'spec.selector'), 'not-a-map');
      assert.deepEqual(get(out, 'spec.replicas'), { a: 1 });
    },
  },
  {
    name: 'kubectl rollout restart annotation',
    patch: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' } } } } },
    check: (out) =>
      assert.deepEqual(get(out, 'spec.template.metadata.annotations'), { 'kubectl.kubernetes.io/restartedAt': '2024-05-01T10:00:00Z' }),
  },
  {
    name: 'a null patch changes nothing',
    patch: null,
    check: (out) => assert.deepEqual(out, deployment()),
  },
];

describe('strategicMergePatch on a Deployment', () => {
  for (const c of cases) {
    it(c.name, () => {
      const original = deployment();
      const out = strategicMergePatch(original, c.patch, deploymentMeta);
      c.check(out);
      assert.deepEqual(original, deployment(), 'the original is not modified');
    });
  }
});

describe('strategicMergePatch on other kinds', () => {
  it('Service ports merge by port', () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      spec: {
        selector: { app: 'web', tier: 'fe' },
        ports: [
          { name: 'http', port: 80, targetPort: 80 },
          { name: 'https', port: 443, targetPort: 443 },
        ],
      },
    };
    const out = strategicMergePatch(svc, { spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { tier: null } } }, lookupPatchMeta('', 'v1', 'Service'));
    assert.deepEqual(get(out, 'spec.ports'), [
      { name: 'http', port: 80, targetPort: 8080 },
      { name: 'https', port: 443, targetPort: 443 },
    ]);
    // A selector (mapType=atomic for apply) still merges key by key under SMP.
    assert.deepEqual(get(out, 'spec.selector'), { app: 'web' });
  });

  it('Pod spec and status lists', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      spec: { containers: [{ name: 'c', image: 'a' }] },
      status: {
        conditions: [
          { type: 'Ready', status: 'False' },
          { type: 'PodScheduled', status: 'True' },
        ],
        podIPs: [{ ip: '10.0.0.5' }],
      },
    };
    const out = strategicMergePatch(
      pod,
      {
        spec: { containers: [{ name: 'c', image: 'b' }] },
        status: { conditions: [{ type: 'Ready', status: 'True' }], podIPs: [{ ip: 'fd00::5' }] },
      },
      lookupPatchMeta('', 'v1', 'Pod'),
    );
    assert.equal(get(out, 'spec.containers[c].image'), 'b');
    assert.deepEqual(get(out, 'status.conditions'), [
      { type: 'Ready', status: 'True' },
      { type: 'PodScheduled', status: 'True' },
    ]);
    assert.deepEqual(names(get(out, 'status.podIPs')), ['fd00::5', '10.0.0.5']);
  });

  it('Node podCIDRs merge as a set, conditions by type, taints are replaced', () => {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      spec: { podCIDRs: ['10.1.0.0/24'], taints: [{ key: 'a', effect: 'NoSchedule' }] },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const out = strategicMergePatch(
      node,
      { spec: { podCIDRs: ['fd00::/64'], taints: [] }, status: { conditions: [{ type: 'MemoryPressure', status: 'False' }] } },
      lookupPatchMeta('', 'v1', 'Node'),
    );
    assert.deepEqual(get(out, 'spec.podCIDRs'), ['fd00::/64', '10.1.0.0/24']);
    assert.deepEqual(get(out, 'spec.taints'), []);
    assert.deepEqual(names(get(out, 'status.conditions')), ['MemoryPressure', 'Ready']);
  });

  it('Job status conditions merge by type; CronJob reaches the pod template', () => {
    const job = { kind: 'Job', status: { conditions: [{ type: 'Complete', status: 'False' }] } };
    const out = strategicMergePatch(job, { status: { conditions: [{ type: 'Complete', status: 'True' }] } }, lookupPatchMeta('batch', 'v1', 'Job'));
    assert.deepEqual(get(out, 'status.conditions'), [{ type: 'Complete', status: 'True' }]);

    const cron = {
      kind: 'CronJob',
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'a', image: '1' }, { name: 'b', image: '1' }] } } } } },
    };
    const out2 = strategicMergePatch(
      cron,
      { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'b', image: '2' }] } } } } } },
      lookupPatchMeta('batch', 'v1', 'CronJob'),
    );
    assert.deepEqual(get(out2, 'spec.jobTemplate.spec.template.spec.containers'), [
      { name: 'a', image: '1' },
      { name: 'b', image: '2' },
    ]);
  });

  it('kinds without merge metadata behave like JSON merge patch (lists replaced)', () => {
    const obj = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { finalizers: ['x'] }, spec: { items: [1, 2], conf: { a: 1, b: 2 } } };
    const out = strategicMergePatch(obj, { metadata: { finalizers: ['y'] }, spec: { items: [3], conf: { b: null, c: 3 } } }, lookupPatchMeta('example.com', 'v1', 'Widget'));
    assert.deepEqual(out.spec, { items: [3], conf: { a: 1, c: 3 } });
    // metadata is still ObjectMeta: finalizers merge.
    assert.deepEqual(get(out, 'metadata.finalizers'), ['y', 'x']);
  });

  it('StatefulSet and DaemonSet templates, HPA v2 conditions', () => {
    const sts = { kind: 'StatefulSet', spec: { template: { spec: { containers: [{ name: 'db', image: 'pg:15', env: [{ name: 'A', value: '1' }] }] } } } };
    const out = strategicMergePatch(
      sts,
      { spec: { template: { spec: { containers: [{ name: 'db', env: [{ name: 'A', value: '2' }] }] } } } },
      lookupPatchMeta('apps', 'v1', 'StatefulSet'),
    );
    assert.deepEqual(get(out, 'spec.template.spec.containers[db]'), { name: 'db', image: 'pg:15', env: [{ name: 'A', value: '2' }] });

    const hpa = { kind: 'HorizontalPodAutoscaler', status: { conditions: [{ type: 'AbleToScale', status: 'True' }] } };
    const out2 = strategicMergePatch(hpa, { status: { conditions: [{ type: 'ScalingActive', status: 'True' }] } }, lookupPatchMeta('autoscaling', 'v2', 'HorizontalPodAutoscaler'));
    assert.deepEqual(names(get(out2, 'status.conditions')), ['ScalingActive', 'AbleToScale']);
  });
});

interface ErrorCase {
  name: string;
  original?: JsonMap;
  patch: unknown;
  code: number;
  reason: string;
  message: string | RegExp;
}

const errorCases: ErrorCase[] = [
  {
    name: 'a body that is not an object',
    patch: [{ op: 'add' }],
    code: 400,
    reason: 'BadRequest',
    message: 'json: cannot unmarshal array into Go value of type map[string]interface {}',
  },
  {
    name: 'an unknown $patch on a map',
    patch: { spec: { strategy: { $patch: 'merge' } } },
    code: 500,
    reason: '',
    message: 'unknown patch type: merge in map: map[$patch:merge]',
  },
  {
    name: '$patch: merge in a list',
    patch: { spec: { template: { spec: { containers: [{ name: 'nginx', $patch: 'merge' }] } } } },
    code: 500,
    reason: '',
    message: 'merging lists cannot yet be specified in the patch',
  },
  {
    name: 'a list item without its merge key',
    patch: { spec: { template: { spec: { containers: [{ image: 'x' }] } } } },
    code: 500,
    reason: '',
    message: 'map: map[image:x] does not contain declared merge key: name',
  },
  {
    name: 'a delete directive without the merge key',
    patch: { spec: { template: { spec: { containers: [{ $patch: 'delete' }] } } } },
    code: 500,
    reason: '',
    message: 'map: map[$patch:delete] does not contain declared merge key: name',
  },
  {
    name: 'a malformed $setElementOrder key',
    patch: { spec: { $setElementOrder: [] } },
    code: 400,
    reason: 'BadRequest',
    message: 'invalid patch format of setElementOrder list',
  },
  {
    name: 'a $setElementOrder that is not a list',
    patch: { spec: { template: { spec: { '$setElementOrder/containers': 'x' } } } },
    code: 500,
    reason: '',
    message: 'expected a []interface {}, but received a string',
  },
  {
    name: 'a patch list out of $setElementOrder order',
    patch: {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }],
            containers: [{ name: 'sidecar', image: 'a' }, { name: 'nginx', image: 'b' }],
          },
        },
      },
    },
    code: 500,
    reason: '',
    message: /^The order in patch list:\n\[map\[image:a name:sidecar\] map\[image:b name:nginx\]\]\n doesn't match \$setElementOrder list:/,
  },
  {
    name: 'a malformed $deleteFromPrimitiveList key',
    patch: { metadata: { $deleteFromPrimitiveList: ['a'] } },
    code: 400,
    reason: 'BadRequest',
    message: 'invalid patch format of primitive list',
  },
  {
    name: '$retainKeys that is not a list',
    patch: { spec: { strategy: { $retainKeys: 'type' } } },
    code: 400,
    reason: 'BadRequest',
    message: 'invalid patch format of retainKeys',
  },
  {
    name: 'a patch key missing from $retainKeys',
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: { maxSurge: 1 } } } },
    code: 400,
    reason: 'BadRequest',
    message: 'invalid patch format of retainKeys',
  },
  {
    name: 'lists of lists in a merge list',
    original: { metadata: { finalizers: [] } },
    patch: { metadata: { finalizers: [['x']] } },
    code: 422,
    reason: 'Invalid',
    message: 'the server rejected our request due to an error in our request',
  },
  {
    name: 'mixed element types in a merge list',
    patch: { metadata: { finalizers: [1] } },
    code: 500,
    reason: '',
    message: 'list element types are not identical: [[a b] [1]]',
  },
];

describe('strategicMergePatch errors', () => {
  for (const c of errorCases) {
    it(c.name, () => {
      assert.throws(
        () => strategicMergePatch(c.original ?? deployment(), c.patch, deploymentMeta),
        (e: unknown) => {
          assert.ok(e instanceof ApiError);
          assert.equal(e.code, c.code);
          assert.equal(e.reason, c.reason);
          if (typeof c.message === 'string') assert.equal(e.message, c.message);
          else assert.match(e.message, c.message);
          return true;
        },
      );
    });
  }

  it('an unknown-reason failure becomes a Status without a reason', () => {
    try {
      strategicMergePatch(deployment(), { spec: { strategy: { $patch: 'bogus' } } }, deploymentMeta);
      assert.fail('expected an error');
    } catch (e) {
      const status = (e as ApiError).toStatus();
      assert.equal(status.code, 500);
      assert.equal('reason' in status, false);
    }
  });
});
