/**
 * @module The namespace controller's public surface: its factory for kube-controller-manager
 * (`namespace`, logs as `namespace-controller`), the controller, the content deleter and
 * `finalizeNamespace` (the one write that releases a namespace).
 */
import type { ControllerFactory } from '../types.js';
import { NamespaceController } from './controller.js';

export { NamespaceController, type NamespaceControllerOptions } from './controller.js';
export {
  NamespacedResourcesDeleter,
  ResourcesRemainingError,
  finalizeNamespace,
  kubernetesFinalizer,
  namespaceConditionTypes,
  updateNamespaceConditions,
} from './deleter.js';

export const controllerFactory: ControllerFactory = (ctx) => new NamespaceController(ctx);
