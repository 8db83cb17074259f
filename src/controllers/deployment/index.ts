/**
 * @module The Deployment controller's public surface: its factory for the controller
 * manager, and the class and rules for tests.
 */
import type { ControllerFactory } from '../types.js';
import { newDeploymentController } from './controller.js';

export { DeploymentController, HashCollisionError, newDeploymentController, oldPodsRunning, type DeploymentControllerOptions } from './controller.js';
export * from './util.js';

export const controllerFactory: ControllerFactory = newDeploymentController;
