/**
 * @module The built-in service load balancer's public surface: its factory for the
 * controller manager (`servicelb`, events from `service-lb-controller`) and its pure helpers.
 */
import type { ControllerFactory } from '../types.js';
import { ServiceLBController } from './controller.js';

export { ServiceLBController, desiredIngress, enableLBLabel, handledByServiceLB, loadBalancerClass, servingNodes } from './controller.js';

export const controllerFactory: ControllerFactory = (ctx) => new ServiceLBController(ctx);
