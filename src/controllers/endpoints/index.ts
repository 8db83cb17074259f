/**
 * @module The Endpoints controller's public surface: its factory for kube-controller-manager
 * (`endpoints`, events from `endpoint-controller`), the controller and its pure helpers,
 * and the pod-to-endpoint rules the EndpointSlice controller shares.
 */
import type { ControllerFactory } from '../types.js';
import { EndpointsController } from './controller.js';

export { EndpointsController, desiredSubsets, repackSubsets, truncateSubsets, maxEndpointsCapacity, overCapacityAnnotation } from './controller.js';
export * from './pod-endpoints.js';

export const controllerFactory: ControllerFactory = (ctx) => new EndpointsController(ctx);
