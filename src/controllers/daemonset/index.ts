/**
 * @module The daemonset controller folder's public surface.
 */
import type { ControllerFactory } from '../types.js';
import { DaemonSetController } from './controller.js';

export { DaemonSetController, isPodUpdated, revisionHashLabel, templateGenerationLabel } from './controller.js';
export { addDaemonPodTolerations, daemonPodTolerations, nodeShouldRunDaemonPod, podFitsNodeAffinity, targetNodeName, toleratesTaint } from './node-eligibility.js';

/** "daemonset" in kube-controller-manager's --controllers. */
export const controllerFactory: ControllerFactory = (ctx) => new DaemonSetController(ctx);
