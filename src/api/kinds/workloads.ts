/**
 * @module The pod-related kinds this package serves: core Pods, Namespaces, Nodes,
 * ConfigMaps, Secrets, ServiceAccounts, PersistentVolumes/Claims, ReplicationControllers,
 * apps/v1 workloads and batch/v1 Jobs and CronJobs.
 */
import type { ResourceDef } from '../types.js';
import { daemonSetDef } from './apps-daemonset.js';
import { deploymentDef } from './apps-deployment.js';
import { replicaSetDef } from './apps-replicaset.js';
import { statefulSetDef } from './apps-statefulset.js';
import { cronJobDef } from './batch-cronjob.js';
import { jobDef } from './batch-job.js';
import { configMapDef } from './configmap.js';
import { namespaceDef } from './namespace.js';
import { nodeDef } from './node.js';
import { persistentVolumeDef } from './persistentvolume.js';
import { persistentVolumeClaimDef } from './persistentvolumeclaim.js';
import { podDef } from './pod.js';
import { replicationControllerDef } from './replicationcontroller.js';
import { secretDef } from './secret.js';
import { serviceAccountDef } from './serviceaccount.js';

export const podWorkloadResources: ResourceDef[] = [
  podDef,
  namespaceDef,
  nodeDef,
  configMapDef,
  secretDef,
  serviceAccountDef,
  persistentVolumeDef,
  persistentVolumeClaimDef,
  replicationControllerDef,
  deploymentDef,
  replicaSetDef,
  statefulSetDef,
  daemonSetDef,
  jobDef,
  cronJobDef,
];

