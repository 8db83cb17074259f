/**
 * @module The job controller folder's public surface: the job-controller and the tiny
 * ttl-after-finished-controller that deletes finished Jobs.
 */
import type { ControllerFactory } from '../types.js';
import { JobController } from './controller.js';
import { TtlAfterFinishedController } from './ttl-after-finished.js';

export { JobController, isJobFinished, jobFinishTime, jobTrackingFinalizer } from './controller.js';
export { TtlAfterFinishedController } from './ttl-after-finished.js';

/** "job" in kube-controller-manager's --controllers. */
export const controllerFactory: ControllerFactory = (ctx) => new JobController(ctx);

/** "ttl-after-finished" in kube-controller-manager's --controllers. */
export const ttlAfterFinishedControllerFactory: ControllerFactory = (ctx) => new TtlAfterFinishedController(ctx);
