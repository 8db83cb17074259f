/**
 * @module A container's environment as kubelet computes it: service links, envFrom,
 * valueFrom (ConfigMap/Secret keys, downward API fields and resources) and `$(VAR)`
 * expansion, over an ObjectSource of the objects pods refer to.
 */
export { expand, mappingFor, type ExpansionMapping } from './expansion.js';
export { serviceEnvMap, serviceEnvName, serviceEnvVars, isServiceIPSet, masterServiceNamespace, type EnvVar } from './service-env.js';
export { podFieldValue, containerResourceValue, formatDownwardMap, DownwardAPIError, type DownwardAPIContext } from './downward-api.js';
export { makeEnvironmentVariables, expandCommandAndArgs, containerEnvReferences, CreateContainerConfigError, type EnvironmentInput } from './env.js';
export {
  InformerObjectSource,
  ServicesNotSyncedError,
  referenceKey,
  type InformerObjectSourceOptions,
  type ObjectSource,
  type ReferencedResource,
  type TokenRequestSpec,
} from './sources.js';
