/**
 * @module The networking, autoscaling, events, coordination and RBAC kinds, listed for
 * the registry in kinds/index.ts. Served versions of one storage (autoscaling v1/v2,
 * core and events.k8s.io Events) are listed preferred version first.
 */
import type { ResourceDef } from '../types.js';
import { clusterRoleResource } from './clusterrole.js';
import { clusterRoleBindingResource } from './clusterrolebinding.js';
import { endpointsResource } from './endpoints.js';
import { endpointSliceResource } from './endpointslice.js';
import { eventResource, eventsV1EventResource } from './event.js';
import { horizontalPodAutoscalerV1Resource, horizontalPodAutoscalerV2Resource } from './horizontalpodautoscaler.js';
import { ingressResource } from './ingress.js';
import { ingressClassResource } from './ingressclass.js';
import { leaseResource } from './lease.js';
import { roleResource } from './role.js';
import { roleBindingResource } from './rolebinding.js';
import { serviceResource } from './service.js';

export const networkingAndMiscResources: ResourceDef[] = [
  serviceResource,
  endpointsResource,
  eventResource,
  eventsV1EventResource,
  horizontalPodAutoscalerV2Resource,
  horizontalPodAutoscalerV1Resource,
  ingressResource,
  ingressClassResource,
  endpointSliceResource,
  leaseResource,
  roleResource,
  clusterRoleResource,
  roleBindingResource,
  clusterRoleBindingResource,
];
