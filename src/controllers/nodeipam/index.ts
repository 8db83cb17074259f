/**
 * @module The node IPAM controller's public surface: its factory for the controller manager
 * (`nodeipam`, events as "cidrAllocator"), the class for tests and the CIDR helpers.
 */
import type { ControllerFactory } from '../types.js';
import { newNodeIpamController } from './controller.js';

export { NodeIpamController, newNodeIpamController, defaultClusterCIDR, defaultNodeCIDRMaskSize, type NodeIpamOptions } from './controller.js';
export * from './cidrs.js';

export const controllerFactory: ControllerFactory = newNodeIpamController;
