/**
 * @module The local-path provisioner's public surface: its factory for the controller
 * manager (`local-path-provisioner`) and the default class it creates.
 */
import type { ControllerFactory } from '../types.js';
import { LocalPathProvisioner } from './controller.js';

export { LocalPathProvisioner, localPathStorageClass, provisionerName, storageClassName, volumeNameFor, volumePath } from './controller.js';

export const controllerFactory: ControllerFactory = (ctx) => new LocalPathProvisioner(ctx);
