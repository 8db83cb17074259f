/**
 * @module The cronjob controller folder's public surface: the cronjob-controller and the
 * schedule arithmetic it shares with tests.
 */
import type { ControllerFactory } from '../types.js';
import { CronJobController } from './controller.js';

export { CronJobController, jobNameFor, mostRecentScheduleTime, nextScheduleTimeDuration, scheduledTimestampAnnotation } from './controller.js';

/** "cronjob" in kube-controller-manager's --controllers. */
export const controllerFactory: ControllerFactory = (ctx) => new CronJobController(ctx);
