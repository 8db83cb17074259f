/**
 * @module The garbage collector's public surface: its factory for kube-controller-manager
 * (`garbagecollector`, events from `garbage-collector-controller`), the controller class,
 * and the resource list it shares with the namespace controller.
 */
import type { ControllerFactory } from '../types.js';
import { GarbageCollector } from './controller.js';

export { GarbageCollector, foregroundDeletionFinalizer, orphanFinalizer, isDeletingDependents, type GarbageCollectorOptions } from './controller.js';
export { knownResources, resourceForKind, servedResources, type KnownResource } from './resources.js';

export const controllerFactory: ControllerFactory = (ctx) => new GarbageCollector(ctx);
