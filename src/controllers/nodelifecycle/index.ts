/**
 * @module The node lifecycle controller's public surface: its factory for the controller
 * manager (component "node-controller", evictions as "taint-eviction-controller"), the
 * class for tests, and the taint rules the scheduler and node agents share.
 */
import type { ControllerFactory } from '../types.js';
import { newNodeLifecycleController } from './controller.js';

export { NodeLifecycleController, newNodeLifecycleController, type NodeLifecycleControllerOptions } from './controller.js';
export * from './taints.js';

export const controllerFactory: ControllerFactory = newNodeLifecycleController;
