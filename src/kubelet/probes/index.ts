/**
 * @module Container probes and lifecycle hooks as kubelet runs them: the HTTP, TCP, gRPC
 * and exec probers, per-probe workers with kube's timing and thresholds, a pod's probe
 * manager, and postStart/preStop handlers.
 */
export { type ProbeType, type ProbeResultKind, type ProbeOutcome, probeTypeTitle } from './types.js';
export { httpGet, httpProbe, probeURL, goNetError, probeUserAgent, maxResponseBodyBytes, type HttpGetRequest, type HttpGetResponse } from './http.js';
export { tcpProbe } from './tcp.js';
export { grpcProbe, encodeHealthCheckRequest, decodeHealthCheckResponse, grpcFrame, grpcMessages, servingStatusNames, healthCheckPath } from './grpc.js';
export { runProbe, resolveContainerPort, hollowProbeFailAnnotation, hollowFailingProbes, ProbePortError, type ProbeTarget } from './handler.js';
export { ProbeWorker, probeTiming, type ProbeTiming, type ProbedContainer, type ProbeWorkerOptions } from './worker.js';
export { PodProbes, podHasProbes, type PodProbesOptions } from './manager.js';
export { runLifecycleHandler, podRef, lifecycleUserAgent, type HookOptions, type HookResult } from './lifecycle.js';
