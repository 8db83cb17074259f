/**
 * @module Kubelet streaming: the StreamingRuntime contract, the kubelet's streaming
 * endpoints (logs, exec, attach, port-forward over WebSocket and SPDY/3.1), CRI log files,
 * host-process exec helpers, and the hollow runtime's streaming.
 */
export type { LogOptions, StreamIO, StreamingRuntime, StreamingPod, StreamingPodResolver, TerminalSize } from './types.js';
export { ExecStartError, ContainerNotRunningError, isStreamingRuntime, kubeletAddressAnnotation } from './types.js';
export { KubeletStreamingServer, KubeletHttpError, logContainerId, runningContainerId, type KubeletTls, type KubeletStreamingServerOptions } from './server.js';
export { HollowStreamingRuntime, hollowLogIntervalAnnotation, type HollowStreamingOptions } from './hollow.js';
export { runHostCommand, dialTcp, dialInNetns, shellQuote, defaultExecPath, type ExecTarget } from './host-exec.js';
export {
  CriLogWriter,
  MemoryLog,
  readCriLog,
  renderLogs,
  parseCriLogLine,
  formatCriLogLine,
  criTimestamp,
  rfc3339Nano,
  type LogRecord,
  type CriLogWriterOptions,
  type CriFileFollow,
} from './logs.js';
export { ProcessStreaming, type ProcessStreamingHooks } from './process.js';
