/**
 * @module The statefulset controller folder's public surface.
 */
import type { ControllerFactory } from '../types.js';
import { StatefulSetController } from './controller.js';

export { StatefulSetController, parentAndOrdinal, podIndexLabel, podNameLabel, revisionLabel, revisionName } from './controller.js';

/** "statefulset" in kube-controller-manager's --controllers. */
export const controllerFactory: ControllerFactory = (ctx) => new StatefulSetController(ctx);
