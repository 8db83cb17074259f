/** @module Prometheus HTTP SD targets and __meta_kubernetes_* labels for roles node, pod and endpoints. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KObject } from '../api/types.js';
import { endpointsTargets, nodeTargets, podTargets } from './prometheus-sd.js';

describe('prometheus http_sd', () => {
  test('node: the kubelet endpoint, node labels and addresses', () => {
    const [g] = nodeTargets([
      {
        metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' }, annotations: { 'skiff.dev/kubelet-address': '127.0.0.1' } },
        status: { addresses: [{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: 'n1' }], daemonEndpoints: { kubeletEndpoint: { Port: 10250 } } },
      },
    ]);
    assert.deepEqual(g.targets, ['127.0.0.1:10250']);
    assert.equal(g.labels.__meta_kubernetes_node_name, 'n1');
    assert.equal(g.labels.__meta_kubernetes_node_label_kubernetes_io_hostname, 'n1');
    assert.equal(g.labels.__meta_kubernetes_node_labelpresent_kubernetes_io_hostname, 'true');
    assert.equal(g.labels.__meta_kubernetes_node_address_InternalIP, '10.0.0.5');
  });

  const pod: KObject = {
    metadata: { name: 'p', namespace: 'default', uid: 'u', labels: { app: 'x' }, annotations: { 'prometheus.io/scrape': 'true' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'r', controller: true }] },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i', ports: [{ name: 'metrics', containerPort: 9100 }] }, { name: 'side', image: 'j' }] },
    status: { podIP: '10.42.0.7', hostIP: '127.0.0.1', phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  };

  test('pod: one target per container port, a portless one for a container without ports', () => {
    const groups = podTargets([pod]);
    assert.deepEqual(groups.map((g) => g.targets[0]), ['10.42.0.7:9100', '10.42.0.7']);
    const l = groups[0].labels;
    assert.equal(l.__meta_kubernetes_pod_annotation_prometheus_io_scrape, 'true');
    assert.equal(l.__meta_kubernetes_pod_container_port_number, '9100');
    assert.equal(l.__meta_kubernetes_pod_ready, 'true');
    assert.equal(l.__meta_kubernetes_pod_controller_kind, 'ReplicaSet');
    assert.equal(l.__meta_kubernetes_namespace, 'default');
  });

  test('endpoints: address × port with the Service and the target pod', () => {
    const groups = endpointsTargets(
      [{ metadata: { name: 's', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.42.0.7', targetRef: { kind: 'Pod', name: 'p', namespace: 'default' } }], notReadyAddresses: [{ ip: '10.42.0.8' }], ports: [{ name: 'm', port: 9100 }] }] }],
      new Map<string, KObject>([['default/s', { metadata: { name: 's', namespace: 'default', labels: { team: 'a' } } }]]),
      new Map<string, KObject>([['default/p', pod]]),
    );
    assert.deepEqual(groups.map((g) => [g.targets[0], g.labels.__meta_kubernetes_endpoint_ready]), [['10.42.0.7:9100', 'true'], ['10.42.0.8:9100', 'false']]);
    assert.equal(groups[0].labels.__meta_kubernetes_service_name, 's');
    assert.equal(groups[0].labels.__meta_kubernetes_service_label_team, 'a');
    assert.equal(groups[0].labels.__meta_kubernetes_pod_name, 'p');
    assert.equal(groups[0].labels.__meta_kubernetes_endpoint_port_name, 'm');
  });
});
