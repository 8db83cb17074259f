/**
 * @module kube-controller-manager: the controllers `skiff server` runs, by name. Adding a
 * controller is adding its folder and one line here.
 */
import { controllerFactory as endpoints } from './endpoints/index.js';
import { controllerFactory as endpointslice } from './endpointslice/index.js';
import { controllerFactory as garbagecollector } from './garbagecollector/index.js';
import { controllerFactory as horizontalpodautoscaling } from './hpa/index.js';
import { controllerFactory as job, ttlAfterFinishedControllerFactory } from './job/index.js';
import { controllerFactory as cronjob } from './cronjob/index.js';
import { controllerFactory as daemonset } from './daemonset/index.js';
import { controllerFactory as deployment } from './deployment/index.js';
import { controllerFactory as namespace } from './namespace/index.js';
import { controllerFactory as nodelifecycle } from './nodelifecycle/index.js';
import { controllerFactory as nodeipam } from './nodeipam/index.js';
import { controllerFactory as replicaset } from './replicaset/index.js';
import { controllerFactory as statefulset } from './statefulset/index.js';
import { controllerFactory as servicelb } from './servicelb/index.js';
import { controllerFactory as persistentvolumeBinder, pvProtectionControllerFactory, pvcProtectionControllerFactory } from './persistentvolume/index.js';
import { controllerFactory as localPathProvisioner } from './localpath/index.js';
import type { ControllerFactory } from './types.js';

export const controllerFactories: Record<string, ControllerFactory> = {
  replicaset,
  deployment,
  garbagecollector,
  namespace,
  endpoints,
  endpointslice,
  nodelifecycle,
  nodeipam,
  statefulset,
  servicelb,
  'persistentvolume-binder': persistentvolumeBinder,
  'pvc-protection': pvcProtectionControllerFactory,
  'pv-protection': pvProtectionControllerFactory,
  'local-path-provisioner': localPathProvisioner,
  daemonset,
  job,
  'ttl-after-finished': ttlAfterFinishedControllerFactory,
  cronjob,
  horizontalpodautoscaling,
};
