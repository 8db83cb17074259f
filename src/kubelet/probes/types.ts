/** @module Probe vocabulary shared by the probers, the workers and lifecycle hooks. */

export type ProbeType = 'liveness' | 'readiness' | 'startup';

/**
 * One probe's verdict (kubelet's probe.Result): a warning counts as success but is
 * reported (a redirect kubelet did not follow); unknown means the probe could not run
 * and leaves the previous result standing.
 */
export type ProbeResultKind = 'success' | 'failure' | 'warning' | 'unknown';

export interface ProbeOutcome {
  result: ProbeResultKind;
  /** The probe's output: body, command output, or the reason it failed. */
  output: string;
}

/** "Liveness", as kubelet names probe types in events. */
export function probeTypeTitle(t: ProbeType): string {
  return t[0].toUpperCase() + t.slice(1);
}
