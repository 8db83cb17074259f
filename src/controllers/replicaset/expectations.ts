/**
 * @module Controller expectations (kube's UIDTrackingControllerExpectations): how many pod
 * creations and which pod deletions a controller is still waiting to see in its informer,
 * so that a sync running on a stale cache does not create or delete the same pods twice.
 */

/** kube's ExpectationsTimeout: expectations older than this are treated as satisfied. */
export const expectationsTimeoutMs = 5 * 60 * 1000;

interface Expectation {
  add: number;
  del: number;
  /** When these expectations were set, ms since the epoch. */
  timestamp: number;
  /** Keys ("ns/name") of pods whose deletion is still expected. */
  deleteKeys: Set<string>;
}

export class ControllerExpectations {
  private readonly byController = new Map<string, Expectation>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * True when the controller may act: no record, every expected event observed, or the
   * record outlived the timeout (a lost watch event must not wedge the controller).
   */
  satisfied(controllerKey: string): boolean {
    const e = this.byController.get(controllerKey);
    if (!e) return true;
    return (e.add <= 0 && e.del <= 0) || this.now() - e.timestamp > expectationsTimeoutMs;
  }

  /** Milliseconds until the controller's expectations expire (0 when none are pending). */
  remainingMs(controllerKey: string): number {
    const e = this.byController.get(controllerKey);
    if (!e || (e.add <= 0 && e.del <= 0)) return 0;
    return Math.max(0, e.timestamp + expectationsTimeoutMs - this.now());
  }

  expectCreations(controllerKey: string, adds: number): void {
    this.byController.set(controllerKey, { add: adds, del: 0, timestamp: this.now(), deleteKeys: new Set() });
  }

  expectDeletions(controllerKey: string, podKeys: string[]): void {
    this.byController.set(controllerKey, { add: 0, del: podKeys.length, timestamp: this.now(), deleteKeys: new Set(podKeys) });
  }

  creationObserved(controllerKey: string): void {
    const e = this.byController.get(controllerKey);
    if (e) e.add--;
  }

  /** Lowers the deletion count only for pods this controller chose to delete (each once). */
  deletionObserved(controllerKey: string, podKey: string): void {
    const e = this.byController.get(controllerKey);
    if (e && e.deleteKeys.delete(podKey)) e.del--;
  }

  delete(controllerKey: string): void {
    this.byController.delete(controllerKey);
  }

  /** For tests and logs: the pending counts. */
  get(controllerKey: string): { add: number; del: number } | undefined {
    const e = this.byController.get(controllerKey);
    return e ? { add: e.add, del: e.del } : undefined;
  }
}
