/**
 * @module The ReplicaSet controller's public surface: its factory for the controller
 * manager, and the class for tests and the Deployment controller.
 */
import type { ControllerFactory } from '../types.js';
import { newReplicaSetController } from './controller.js';

export { ReplicaSetController, newReplicaSetController, burstReplicas, type ReplicaSetControllerOptions } from './controller.js';

export const controllerFactory: ControllerFactory = newReplicaSetController;
