/**
 * @module Test helpers (kube's scheduler testing wrappers): terse Node and Pod objects,
 * and a cache + framework over them for driving plugins and cycles without a server.
 */
import type { KObject } from '../api/types.js';
import { SchedulerCache } from './cache.js';
import { CycleState, type Status } from './framework.js';
import { registry, defaultPlugins } from './plugins/registry.js';
import { Framework } from './runtime.js';
import { newPodInfo, type NodeInfo, type PodInfo } from './types.js';

export interface NodeSpec {
  cpu?: string;
  memory?: string;
  pods?: string;
  ephemeral?: string;
  extra?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
  unschedulable?: boolean;
  ready?: 'True' | 'False' | 'Unknown' | null;
}

export function makeNode(name: string, s: NodeSpec = {}): KObject {
  const allocatable: Record<string, string> = { cpu: s.cpu ?? '4', memory: s.memory ?? '8Gi', pods: s.pods ?? '110', ...(s.ephemeral ? { 'ephemeral-storage': s.ephemeral } : {}), ...(s.extra ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `uid-${name}`, resourceVersion: '1', labels: { 'kubernetes.io/hostname': name, ...(s.labels ?? {}) } },
    spec: { ...(s.taints ? { taints: s.taints } : {}), ...(s.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity: allocatable,
      allocatable,
      conditions: s.ready === null ? [] : [{ type: 'Ready', status: s.ready ?? 'True' }],
    },
  };
}

export interface PodSpecInput {
  namespace?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  nodeName?: string;
  priority?: number;
  spec?: KObject;
  owner?: string;
  creationTimestamp?: string;
}

let uidSeq = 0;

export function makePod(name: string, s: PodSpecInput = {}): KObject {
  const requests: Record<string, string> = {};
  if (s.cpu) requests.cpu = s.cpu;
  if (s.memory) requests.memory = s.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: s.namespace ?? 'default',
      uid: `uid-${name}-${++uidSeq}`,
      resourceVersion: '1',
      creationTimestamp: s.creationTimestamp ?? '2025-01-01T00:00:00Z',
      ...(s.labels ? { labels: s.labels } : {}),
      ...(s.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: s.owner, uid: `uid-${s.owner}`, controller: true }] } : {}),
    },
    spec: {
      schedulerName: 'default-scheduler',
      priority: s.priority ?? 0,
      containers: [{ name: 'c', image: 'img', ...(Object.keys(requests).length ? { resources: { requests } } : {}) }],
      ...(s.nodeName ? { nodeName: s.nodeName } : {}),
      ...(s.spec ?? {}),
    },
    status: { phase: 'Pending' },
  };
}

/** A cache and default-profile framework holding the given nodes and assigned pods. */
export function makeCluster(nodes: KObject[], assigned: KObject[] = [], opts: { random?: () => number; namespaces?: Record<string, Record<string, string>> } = {}) {
  const cache = new SchedulerCache((ns) => opts.namespaces?.[ns]);
  for (const n of nodes) cache.setNode(n);
  for (const p of assigned) cache.addOrUpdatePod(newPodInfo(p));
  const framework = new Framework(cache, registry, defaultPlugins, { random: opts.random ?? (() => 0) });
  return { cache, framework };
}

/** Runs one plugin's PreFilter then Filter for each node; returns reasons ('' for fits) by node. */
export function filterEach(framework: Framework, pluginName: string, pod: PodInfo | KObject): Record<string, string> {
  const pi = 'pod' in pod && 'key' in pod ? (pod as PodInfo) : newPodInfo(pod as KObject);
  const pl = framework.plugins.find((p) => p.name === pluginName)!;
  const state = new CycleState();
  const pre = pl.preFilter?.(state, pi);
  const out: Record<string, string> = {};
  for (const ni of framework.nodeInfos()) {
    if (pre && 'code' in pre && pre.code === 'Skip') {
      out[ni.name] = '';
      continue;
    }
    if (pre && 'code' in pre && pre.code !== 'Success') {
      out[ni.name] = `${pre.code}: ${pre.reasons.join(', ')}`;
      continue;
    }
    const st: Status = pl.filter!(state, pi, ni);
    out[ni.name] = st.code === 'Success' ? '' : `${st.code}: ${st.reasons.join(', ')}`;
  }
  return out;
}

/** Runs one plugin's PreScore, Score and NormalizeScore over all nodes; returns scores by node. */
export function scoreEach(framework: Framework, pluginName: string, pod: KObject, nodes?: readonly NodeInfo[]): Record<string, number> {
  const pi = newPodInfo(pod);
  const pl = framework.plugins.find((p) => p.name === pluginName)!;
  const state = new CycleState();
  const list = nodes ?? framework.nodeInfos();
  pl.preFilter?.(state, pi);
  const pre = pl.preScore?.(state, pi, list);
  const out: Record<string, number> = {};
  if (pre && pre.code === 'Skip') {
    for (const ni of list) out[ni.name] = 0;
    return out;
  }
  const scores = list.map((ni) => pl.score!(state, pi, ni));
  pl.normalizeScore?.(state, pi, scores, list);
  list.forEach((ni, i) => (out[ni.name] = scores[i]));
  return out;
}
