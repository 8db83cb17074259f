/**
 * @module kube-controller-manager: the controllers `skiff server` runs, by name. Adding a
 * controller is adding its folder and one line here.
 */
import type { ControllerFactory } from './types.js';

export const controllerFactories: Record<string, ControllerFactory> = {};
