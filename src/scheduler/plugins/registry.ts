/**
 * @module The in-tree plugin registry: a plain name → factory map, and the default
 * profile's plugin order (kube's default plugins, filters in kube's order so that each
 * node reports the reason kube would report).
 */
import type { PluginFactory } from '../framework.js';
import { defaultPreemptionName, newDefaultPreemption } from './default-preemption.js';
import { interPodAffinityName, newInterPodAffinity } from './inter-pod-affinity.js';
import { nodeAffinity } from './node-affinity.js';
import { nodeName } from './node-name.js';
import { nodePorts } from './node-ports.js';
import { nodeReady } from './node-ready.js';
import { balancedAllocation } from './node-resources-balanced-allocation.js';
import { nodeResourcesFit } from './node-resources-fit.js';
import { nodeUnschedulable } from './node-unschedulable.js';
import { newPodTopologySpread, podTopologySpreadName } from './pod-topology-spread.js';
import { taintToleration } from './taint-toleration.js';

export const registry: Record<string, PluginFactory> = {
  [nodeUnschedulable.name]: () => nodeUnschedulable,
  [nodeName.name]: () => nodeName,
  [taintToleration.name]: () => taintToleration,
  [nodeReady.name]: () => nodeReady,
  [nodeAffinity.name]: () => nodeAffinity,
  [nodePorts.name]: () => nodePorts,
  [nodeResourcesFit.name]: () => nodeResourcesFit,
  [podTopologySpreadName]: newPodTopologySpread,
  [interPodAffinityName]: newInterPodAffinity,
  [balancedAllocation.name]: () => balancedAllocation,
  [defaultPreemptionName]: newDefaultPreemption,
};

/** The default-scheduler profile, in execution order. */
export const defaultPlugins: readonly string[] = [
  nodeUnschedulable.name,
  nodeName.name,
  taintToleration.name,
  nodeReady.name,
  nodeAffinity.name,
  nodePorts.name,
  nodeResourcesFit.name,
  podTopologySpreadName,
  interPodAffinityName,
  balancedAllocation.name,
  defaultPreemptionName,
];
