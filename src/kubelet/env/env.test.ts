/** @module Env resolution: kube's expansion table, service variable names, envFrom/valueFrom and kubelet's error messages. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KObject } from '../../api/types.js';
import { FakeObjectSource } from './fake-source.js';
import { CreateContainerConfigError, containerEnvReferences, expand, expandCommandAndArgs, makeEnvironmentVariables, mappingFor, serviceEnvMap, serviceEnvVars } from './index.js';

describe('$(VAR) expansion', () => {
  const mapping = mappingFor(
    new Map([
      ['VAR_A', 'A'],
      ['VAR_B', 'B'],
      ['VAR_C', 'C'],
      ['VAR_REF', '$(VAR_A)'],
      ['VAR_EMPTY', ''],
    ]),
  );
  const table: Array<[string, string]> = [
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_B)-$(VAR_C)', 'A-B-C'],
    ['$(VAR_A)$(VAR_B)', 'AB'],
    ['$(VAR_REF)', '$(VAR_A)'],
    ['$(VAR_EMPTY)', ''],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$(VAR_A)', '$A'],
    ['$$$$(VAR_A)', '$$(VAR_A)'],
    ['f000-$$VAR_A', 'f000-$VAR_A'],
    ['$VAR_A', '$VAR_A'],
    ['$', '$'],
    ['$$', '$'],
    ['$$$', '$$'],
    ['$$$$', '$$'],
    ['$(', '$('],
    ['$(VAR_A', '$(VAR_A'],
    ['$()', '$()'],
    ['$(VAR_A)$', 'A$'],
    ['$(VAR_A)$(', 'A$('],
    ['foo$(VAR_A)bar$$', 'fooAbar$'],
    ['$(VAR_A))', 'A)'],
    ['$((VAR_A)', '$((VAR_A)'],
    ['', ''],
    ['plain', 'plain'],
  ];
  for (const [input, want] of table) test(JSON.stringify(input), () => assert.equal(expand(input, mapping), want));

  test('the first map holding a name wins', () => {
    const m = mappingFor(new Map([['X', 'pod']]), new Map([['X', 'service'], ['Y', 'service']]));
    assert.equal(expand('$(X)/$(Y)', m), 'pod/service');
  });
});

function svc(name: string, namespace: string, clusterIP: string, ports: KObject[]): KObject {
  return { metadata: { name, namespace }, spec: { clusterIP, ports } };
}

describe('service environment variables', () => {
  test('names and values for a multi-port service, as kubelet writes them', () => {
    const vars = serviceEnvVars([svc('redis-primary', 'default', '10.43.0.11', [{ name: 'redis', port: 6379, protocol: 'TCP' }, { name: 'metrics', port: 9121, protocol: 'UDP' }])]);
    assert.deepEqual(
      vars.map((v) => `${v.name}=${v.value}`),
      [
        'REDIS_PRIMARY_SERVICE_HOST=10.43.0.11',
        'REDIS_PRIMARY_SERVICE_PORT=6379',
        'REDIS_PRIMARY_SERVICE_PORT_REDIS=6379',
        'REDIS_PRIMARY_SERVICE_PORT_METRICS=9121',
        'REDIS_PRIMARY_PORT=tcp://10.43.0.11:6379',
        'REDIS_PRIMARY_PORT_6379_TCP=tcp://10.43.0.11:6379',
        'REDIS_PRIMARY_PORT_6379_TCP_PROTO=tcp',
        'REDIS_PRIMARY_PORT_6379_TCP_PORT=6379',
        'REDIS_PRIMARY_PORT_6379_TCP_ADDR=10.43.0.11',
        'REDIS_PRIMARY_PORT_9121_UDP=udp://10.43.0.11:9121',
        'REDIS_PRIMARY_PORT_9121_UDP_PROTO=udp',
        'REDIS_PRIMARY_PORT_9121_UDP_PORT=9121',
        'REDIS_PRIMARY_PORT_9121_UDP_ADDR=10.43.0.11',
      ],
    );
  });

  test('headless and ExternalName services get no variables', () => {
    assert.deepEqual(serviceEnvVars([svc('h', 'default', 'None', [{ port: 80 }]), { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'x.example' } }]), []);
  });

  const all = [
    svc('kubernetes', 'default', '10.43.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
    svc('web', 'default', '10.43.0.20', [{ port: 80 }]),
    svc('api', 'shop', '10.43.0.30', [{ port: 8000 }]),
  ];

  test('the pod namespace services when enableServiceLinks, the master service always', () => {
    const shop = serviceEnvMap(all, 'shop', true);
    assert.equal(shop.get('API_SERVICE_HOST'), '10.43.0.30');
    assert.equal(shop.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
    assert.equal(shop.get('KUBERNETES_SERVICE_PORT_HTTPS'), '443');
    assert.equal(shop.get('WEB_SERVICE_HOST'), undefined, 'other namespaces stay out');
    const noLinks = serviceEnvMap(all, 'shop', false);
    assert.equal(noLinks.get('API_SERVICE_HOST'), undefined);
    assert.equal(noLinks.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
    assert.equal(serviceEnvMap(all, 'default', true).get('WEB_SERVICE_PORT'), '80');
  });

  test('a "kubernetes" service in the pod namespace wins over the master one', () => {
    const own = svc('kubernetes', 'shop', '10.43.0.99', [{ port: 1 }]);
    assert.equal(serviceEnvMap([...all, own], 'shop', true).get('KUBERNETES_SERVICE_HOST'), '10.43.0.99');
    assert.equal(serviceEnvMap([own, ...all], 'shop', true).get('KUBERNETES_SERVICE_HOST'), '10.43.0.99');
  });
});

describe('makeEnvironmentVariables', () => {
  function setup(): FakeObjectSource {
    const src = new FakeObjectSource();
    src.serviceList = [svc('kubernetes', 'default', '10.43.0.1', [{ name: 'https', port: 443 }]), svc('db', 'ns1', '10.43.0.5', [{ port: 5432 }])];
    src.put('configmaps', { metadata: { name: 'cfg', namespace: 'ns1' }, data: { LOG_LEVEL: 'debug', 'app.mode': 'fast' } });
    src.put('secrets', { metadata: { name: 'creds', namespace: 'ns1' }, data: { password: Buffer.from('s3cr3t').toString('base64') } });
    return src;
  }
  const pod: KObject = {
    metadata: { name: 'p', namespace: 'ns1', uid: 'u-1', labels: { app: 'web' }, annotations: { note: 'hi' } },
    spec: {
      nodeName: 'n1',
      serviceAccountName: 'builder',
      containers: [{ name: 'c', image: 'x', resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m', memory: '32Mi' } } }],
    },
  };
  const ctx = { podIPs: ['10.42.0.7'], hostIPs: ['192.168.1.10'], nodeAllocatable: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi' } };
  const run = (container: KObject, source = setup(), p: KObject = pod) => makeEnvironmentVariables({ pod: p, container: { name: 'c', ...container, resources: pod.spec.containers[0].resources }, source, ...ctx });
  const asMap = (vars: Array<{ name: string; value: string }>) => new Map(vars.map((v) => [v.name, v.value]));

  test('envFrom with prefix, values with expansion over earlier vars and service links', async () => {
    const env = asMap(
      await run({
        envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }],
        env: [
          { name: 'URL', value: 'postgres://$(DB_SERVICE_HOST):$(DB_SERVICE_PORT)/?level=$(CFG_LOG_LEVEL)' },
          { name: 'ESCAPED', value: '$$(URL)' },
          { name: 'LATER', value: '$(UNDEFINED_YET)' },
          { name: 'UNDEFINED_YET', value: 'x' },
        ],
      }),
    );
    assert.equal(env.get('CFG_LOG_LEVEL'), 'debug');
    assert.equal(env.get('CFG_app.mode'), 'fast');
    assert.equal(env.get('password'), 's3cr3t');
    assert.equal(env.get('URL'), 'postgres://10.43.0.5:5432/?level=debug');
    assert.equal(env.get('ESCAPED'), '$(URL)');
    assert.equal(env.get('LATER'), '$(UNDEFINED_YET)', 'only variables defined before are expanded');
    assert.equal(env.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
    assert.equal(env.get('DB_PORT_5432_TCP_ADDR'), '10.43.0.5');
  });

  test('the pod wins over a service variable of the same name, without duplicates', async () => {
    const vars = await run({ env: [{ name: 'DB_SERVICE_HOST', value: 'mine' }] });
    assert.deepEqual(vars.filter((v) => v.name === 'DB_SERVICE_HOST'), [{ name: 'DB_SERVICE_HOST', value: 'mine' }]);
  });

  test('valueFrom: configMapKeyRef, secretKeyRef, fieldRef and resourceFieldRef', async () => {
    const env = asMap(
      await run({
        env: [
          { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'LOG_LEVEL' } } },
          { name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
          { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'POD_IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } },
          { name: 'MEM_LIMIT_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
          { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
          { name: 'CPU_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu' } } },
          { name: 'EPH_LIMIT_GI', valueFrom: { resourceFieldRef: { resource: 'limits.ephemeral-storage', divisor: '1Gi' } } },
          { name: 'AFTER', value: '$(POD).$(NS)' },
        ],
      }),
    );
    assert.equal(env.get('LEVEL'), 'debug');
    assert.equal(env.get('PW'), 's3cr3t');
    assert.equal(env.get('POD'), 'p');
    assert.equal(env.get('NS'), 'ns1');
    assert.equal(env.get('UID'), 'u-1');
    assert.equal(env.get('APP'), 'web');
    assert.equal(env.get('NOTE'), 'hi');
    assert.equal(env.get('NODE'), 'n1');
    assert.equal(env.get('SA'), 'builder');
    assert.equal(env.get('HOST_IP'), '192.168.1.10');
    assert.equal(env.get('POD_IP'), '10.42.0.7');
    assert.equal(env.get('POD_IPS'), '10.42.0.7');
    assert.equal(env.get('MEM_LIMIT_MI'), '64');
    assert.equal(env.get('CPU_LIMIT'), '4', 'an unset limit defaults to node allocatable');
    assert.equal(env.get('CPU_REQ_M'), '250');
    assert.equal(env.get('CPU_REQ'), '1', 'cpu rounds up to whole cores');
    assert.equal(env.get('EPH_LIMIT_GI'), '100');
    assert.equal(env.get('AFTER'), 'p.ns1');
  });

  test('missing objects and keys fail with kubelet CreateContainerConfigError messages', async () => {
    const cases: Array<[KObject, string]> = [
      [{ envFrom: [{ configMapRef: { name: 'nope' } }] }, 'configmap "nope" not found'],
      [{ envFrom: [{ secretRef: { name: 'nope' } }] }, 'secret "nope" not found'],
      [{ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }, 'configmap "nope" not found'],
      [{ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'missing' } } }] }, "couldn't find key missing in ConfigMap ns1/cfg"],
      [{ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'missing' } } }] }, "couldn't find key missing in Secret ns1/creds"],
      [{ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'toString' } } }] }, "couldn't find key toString in ConfigMap ns1/cfg"],
    ];
    for (const [container, message] of cases) {
      await assert.rejects(run(container), (err: unknown) => err instanceof CreateContainerConfigError && err.message === message && err.reason === 'CreateContainerConfigError', message);
    }
  });

  test('optional references that do not resolve are skipped', async () => {
    const env = asMap(
      await run({
        envFrom: [{ configMapRef: { name: 'nope', optional: true } }, { secretRef: { name: 'nope', optional: true } }],
        env: [
          { name: 'A', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } },
          { name: 'B', valueFrom: { secretKeyRef: { name: 'creds', key: 'missing', optional: true } } },
          { name: 'C', value: 'kept' },
        ],
      }),
    );
    assert.equal(env.has('A'), false);
    assert.equal(env.has('B'), false);
    assert.equal(env.get('C'), 'kept');
  });

  test('a service cache that never synced is a CreateContainerConfigError', async () => {
    const src = setup();
    src.services = async () => {
      throw new Error('services have not yet been read at least once, cannot construct envvars');
    };
    await assert.rejects(run({}, src), /services have not yet been read at least once/);
  });

  test('command and args expand with the final environment; references name the objects env uses', () => {
    const out = expandCommandAndArgs({ command: ['echo', '$(GREETING)'], args: ['$(MISSING)', '$$(GREETING)'] }, [{ name: 'GREETING', value: 'hi' }]);
    assert.deepEqual(out, { command: ['echo', 'hi'], args: ['$(MISSING)', '$(GREETING)'] });
    assert.deepEqual(
      containerEnvReferences('ns1', { envFrom: [{ configMapRef: { name: 'a' } }], env: [{ name: 'x', valueFrom: { secretKeyRef: { name: 'b', key: 'k' } } }] }).sort(),
      ['configmaps/ns1/a', 'secrets/ns1/b'],
    );
  });
});
