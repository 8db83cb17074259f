/**
 * @module What kube-controller-manager's controllers share (pkg/controller: controller_utils.go,
 * controller_ref_manager.go, the pod helpers), written once: controller references and
 * adoption/release, expectations, pod state and removal order, pods from templates,
 * slow-start batches, template hashes, delayed requeues and the run loop. Each controller's
 * own decisions stay in its folder. (test-env.ts is for tests and is not exported here.)
 */
export { errorMessage, isAlreadyExists, isConflict, isInvalid, isNamespaceTerminating, isNotFound } from './api-errors.js';
export { claimObjects, recheckDeletion, type ClaimOptions } from './claim.js';
export {
  claimCandidates,
  controlledBy,
  controllerOf,
  controllerRefOf,
  controllerUidIndex,
  controllerUidIndexName,
  indexByControllerUid,
  newControllerRef,
  ownersSelecting,
  ownersToSync,
  parseSelector,
  resolveControllerRef,
} from './controller-ref.js';
export { DelayedRequeue } from './delayed-requeue.js';
export { canonicalJson, semanticEqual, type CanonicalJsonOptions } from './equality.js';
export { ControllerExpectations, expectationsTimeoutMs } from './expectations.js';
export { computeHash, safeEncodeString } from './hash.js';
export {
  activePodLess,
  compareActivePods,
  isPodActive,
  isPodAvailable,
  isPodReady,
  isPodTerminal,
  isPodTerminating,
  podFromTemplate,
  podKey,
  podReadyTime,
  rankedActivePodLess,
} from './pods.js';
export { runController, syncFailure, type RunSpec, type WorkerPool } from './run.js';
export { slowStartBatch, slowStartInitialBatchSize } from './slow-start.js';
export { parseTime, rfc3339 } from './time.js';
