/**
 * @module The horizontal-pod-autoscaler controller folder's public surface: the controller,
 * its replica arithmetic and the scaling behavior it applies.
 */
import type { ControllerFactory } from '../types.js';
import { HorizontalPodAutoscalerController } from './controller.js';

export { HorizontalPodAutoscalerController, hpaDefaults, scaleTargetResource } from './controller.js';
export { ScalingHistory, convertDesiredReplicasWithRules, scaleDownLimit, scaleUpLimit } from './behavior.js';
export * from './replica-calculator.js';

/** "horizontalpodautoscaling" in kube-controller-manager's --controllers. */
export const controllerFactory: ControllerFactory = (ctx) => new HorizontalPodAutoscalerController(ctx);
