/**
 * @module The EndpointSlice controller's public surface: its factory for
 * kube-controller-manager (`endpointslice`, events from `endpointslice-controller`), the
 * controller, the pure reconciler and the stale-cache tracker.
 */
import type { ControllerFactory } from '../types.js';
import { EndpointSliceController } from './controller.js';

export { EndpointSliceController } from './controller.js';
export {
  reconcileEndpointSlices,
  controllerName,
  defaultMaxEndpointsPerSlice,
  managedByLabel,
  serviceNameLabel,
  type SlicePlan,
  type ReconcileInput,
} from './reconciler.js';
export { EndpointSliceTracker, StaleInformerCacheError } from './tracker.js';

export const controllerFactory: ControllerFactory = (ctx) => new EndpointSliceController(ctx);
