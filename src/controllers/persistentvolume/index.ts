/**
 * @module The PersistentVolume controllers' public surface: factories for the controller
 * manager (`persistentvolume-binder`, events from `persistentvolume-controller`;
 * `pvc-protection`; `pv-protection`) and the binding annotations and matching rules
 * provisioners share.
 */
import type { ControllerFactory } from '../types.js';
import { PersistentVolumeController } from './controller.js';
import { PVCProtectionController, PVProtectionController } from './protection.js';

export { PersistentVolumeController, defaultResyncPeriodMs } from './controller.js';
export * from './helpers.js';
export { PVCProtectionController, PVProtectionController, podUsesClaim, pvProtectionFinalizer, pvcProtectionFinalizer } from './protection.js';

export const controllerFactory: ControllerFactory = (ctx) => new PersistentVolumeController(ctx);
export const pvcProtectionControllerFactory: ControllerFactory = (ctx) => new PVCProtectionController(ctx);
export const pvProtectionControllerFactory: ControllerFactory = (ctx) => new PVProtectionController(ctx);
