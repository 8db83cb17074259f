/**
 * @module Every kind the API server serves. Adding a kind is adding its file and one
 * entry in the list of its family (workloads.ts or network-misc.ts).
 */
import type { ResourceDef } from '../types.js';
import { networkingAndMiscResources } from './network-misc.js';
import { storageClassResource } from './storageclass.js';
import { podWorkloadResources } from './workloads.js';

export const allResources: ResourceDef[] = [...podWorkloadResources, ...networkingAndMiscResources, storageClassResource];
