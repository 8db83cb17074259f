/**
 * @module Pod volumes on a node: the manager that materializes and tears them down, the
 * payload rules of configMap/secret/downwardAPI/projected volumes, and the atomic writer.
 */
export { AtomicWriter, validatePayloadPath, InvalidPayloadPathError, dataDirName, type FileProjection, type Payload } from './atomic-writer.js';
export { configMapPayload, secretPayload, downwardAPIPayload, projectedPayload, defaultFileMode, VolumeSourceError, type PayloadContext, type PayloadWarning } from './payload.js';
export {
  VolumeManager,
  checkHostPathType,
  HostPathTypeError,
  mountPointsUnder,
  podVolumeReferences,
  volumePluginDirs,
  type MountedVolume,
  type VolumeEvent,
  type VolumeManagerOptions,
  type VolumeSetUpResult,
} from './manager.js';
