import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../types.js';
import { kubeFieldErrorMessage } from './kind-util.js';
import { defaultPodSpec, defaultPodTemplate, imagePullPolicyFor, podQOSClass, validatePodSpec, validatePodTemplate } from './podspec.js';

const messages = (spec: KObject, path = 'spec') => validatePodSpec(spec, path).map(kubeFieldErrorMessage);

function validSpec(): KObject {
  const spec: KObject = { containers: [{ name: 'app', image: 'nginx:1.27' }] };
  defaultPodSpec(spec, { pod: true });
  return spec;
}

test('image pull policy follows the tag as SetDefaults_Container does', () => {
  assert.equal(imagePullPolicyFor('nginx'), 'Always');
  assert.equal(imagePullPolicyFor('nginx:latest'), 'Always');
  assert.equal(imagePullPolicyFor('nginx:1.27'), 'IfNotPresent');
  assert.equal(imagePullPolicyFor('localhost:5000/app'), 'Always');
  assert.equal(imagePullPolicyFor('localhost:5000/app:v1'), 'IfNotPresent');
  assert.equal(imagePullPolicyFor('nginx@sha256:abcd'), 'IfNotPresent');
  assert.equal(imagePullPolicyFor(''), 'IfNotPresent');
});

test('pod spec defaults match a real cluster', () => {
  const spec: KObject = {
    containers: [
      {
        name: 'api',
        image: 'example/api',
        ports: [{ containerPort: 8000 }],
        resources: { limits: { cpu: '1000m', memory: '1024Mi' } },
        livenessProbe: { httpGet: { port: 8000 } },
        env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      },
    ],
    volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'nginx' } }, { name: 's', secret: { secretName: 'x' } }],
  };
  defaultPodSpec(spec, { pod: true });
  assert.equal(spec.restartPolicy, 'Always');
  assert.equal(spec.dnsPolicy, 'ClusterFirst');
  assert.equal(spec.schedulerName, 'default-scheduler');
  assert.equal(spec.terminationGracePeriodSeconds, 30);
  assert.deepEqual(spec.securityContext, {});
  assert.equal(spec.enableServiceLinks, true);
  const c = spec.containers[0];
  assert.equal(c.terminationMessagePath, '/dev/termination-log');
  assert.equal(c.terminationMessagePolicy, 'File');
  assert.equal(c.imagePullPolicy, 'Always');
  assert.equal(c.ports[0].protocol, 'TCP');
  // Requests default to limits on a Pod, and quantities are canonical.
  assert.deepEqual(c.resources, { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } });
  assert.deepEqual(c.livenessProbe, {
    httpGet: { port: 8000, path: '/', scheme: 'HTTP' },
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
  });
  assert.equal(c.env[0].valueFrom.fieldRef.apiVersion, 'v1');
  assert.deepEqual(spec.volumes[0], { name: 'scratch', emptyDir: {} });
  assert.equal(spec.volumes[1].configMap.defaultMode, 420);
  assert.equal(spec.volumes[2].secret.defaultMode, 420);
});

test('template defaults skip the Pod-only ones and add creationTimestamp: null', () => {
  const tpl: KObject = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'a', image: 'a:1', resources: { limits: { cpu: '1' } } }] } };
  defaultPodTemplate(tpl);
  assert.equal(tpl.metadata?.creationTimestamp, null);
  assert.equal(tpl.spec.enableServiceLinks, undefined);
  assert.equal(tpl.spec.containers[0].resources.requests, undefined);
  assert.equal(tpl.spec.restartPolicy, 'Always');
});

test('a valid defaulted spec has no errors', () => {
  assert.deepEqual(messages(validSpec()), []);
});

test('container rules give kube-apiserver messages', () => {
  assert.deepEqual(messages({ ...validSpec(), containers: [] }), ['spec.containers: Required value']);

  const s1 = validSpec();
  s1.containers.push({ ...s1.containers[0] });
  assert.deepEqual(messages(s1), ['spec.containers[1].name: Duplicate value: "app"']);

  const s2 = validSpec();
  s2.containers[0].name = 'My_App';
  assert.deepEqual(messages(s2), [
    `spec.containers[0].name: Invalid value: "My_App": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
  ]);

  const s3 = validSpec();
  delete s3.containers[0].image;
  assert.deepEqual(messages(s3), ['spec.containers[0].image: Required value']);

  const s4 = validSpec();
  s4.containers[0].ports = [{ containerPort: 70000, protocol: 'TCP' }, { containerPort: 80, protocol: 'HTTP' }];
  assert.deepEqual(messages(s4), [
    'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
  ]);

  const s5 = validSpec();
  s5.containers[0].imagePullPolicy = 'Sometimes';
  assert.deepEqual(messages(s5), ['spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"']);
});

test('pod-level rules give kube-apiserver messages', () => {
  const s1 = validSpec();
  s1.restartPolicy = 'Sometimes';
  assert.deepEqual(messages(s1), ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"']);

  const s2 = validSpec();
  s2.containers[0].volumeMounts = [{ name: 'missing', mountPath: '/data' }];
  assert.deepEqual(messages(s2), ['spec.containers[0].volumeMounts[0].name: Not found: "missing"']);

  const s3 = validSpec();
  s3.containers[0].resources = { requests: { cpu: '2' }, limits: { cpu: '1' } };
  assert.deepEqual(messages(s3), ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1']);

  const s4 = validSpec();
  s4.containers[0].env = [{ name: 'A', value: 'x', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }];
  assert.deepEqual(messages(s4), ['spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty']);

  const s5 = validSpec();
  s5.containers[0].livenessProbe = { exec: { command: ['true'] }, successThreshold: 2, timeoutSeconds: 1, periodSeconds: 10, failureThreshold: 3 };
  assert.deepEqual(messages(s5), ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1']);

  const s6 = validSpec();
  s6.tolerations = [{ key: 'k', operator: 'Exists', value: 'v' }];
  assert.deepEqual(messages(s6), ["spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'"]);

  const s7 = validSpec();
  s7.volumes = [{ name: 'a', emptyDir: {} }, { name: 'a', emptyDir: {} }];
  assert.deepEqual(messages(s7), ['spec.volumes[1].name: Duplicate value: "a"']);
});

test('templates validate their labels and forbid ephemeral containers', () => {
  const tpl: KObject = { metadata: { labels: { app: 'bad value!' } }, spec: validSpec() };
  tpl.spec.ephemeralContainers = [{ name: 'debug', image: 'busybox' }];
  const msgs = validatePodTemplate(tpl, 'spec.template').map(kubeFieldErrorMessage);
  assert.ok(msgs.some((m) => m.startsWith('spec.template.metadata.labels: Invalid value: "bad value!"')), msgs.join('\n'));
  assert.ok(msgs.includes('spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template'));
});

test('QoS class follows requests and limits', () => {
  assert.equal(podQOSClass({ containers: [{ name: 'a' }] }), 'BestEffort');
  assert.equal(podQOSClass({ containers: [{ resources: { requests: { cpu: '100m' } } }] }), 'Burstable');
  assert.equal(
    podQOSClass({ containers: [{ resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1000m', memory: '1024Mi' } } }] }),
    'Guaranteed',
  );
  assert.equal(podQOSClass({ containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '1Gi' } } }] }), 'Burstable');
});
