/**
 * @module Controller expectations (kube's ControllerExpectations and
 * UIDTrackingControllerExpectations): how many creations and deletions a controller is
 * still waiting to see in its informer, so that a sync running on a stale cache does not
 * create or delete the same pods twice.
 */

/** kube's ExpectationsTimeout: expectations older than this are treated as satisfied (a lost watch event must not wedge the controller). */
export const expectationsTimeoutMs = 5 * 60 * 1000;

interface Expectation {
  add: number;
  del: number;
  /** When these expectations were set, ms since the epoch. */
  timestamp: number;
  /** UID tracking: keys ("ns/name") of the objects whose deletion is still expected; undefined counts any deletion. */
  deleteKeys?: Set<string>;
}

export class ControllerExpectations {
  private readonly byController = new Map<string, Expectation>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True when the controller may act: no record, every expected event observed, or the record outlived the timeout. */
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

  /** SetExpectations: replaces the key's record; any deletion observed counts. */
  expect(controllerKey: string, adds: number, dels: number): void {
    this.byController.set(controllerKey, { add: adds, del: dels, timestamp: this.now() });
  }

  /** ExpectCreations (UID tracking): no deletion is expected, so none counts. */
  expectCreations(controllerKey: string, adds: number): void {
    this.byController.set(controllerKey, { add: adds, del: 0, timestamp: this.now(), deleteKeys: new Set() });
  }

  /** ExpectDeletions (UID tracking): only the deletions of these objects count, each once. */
  expectDeletions(controllerKey: string, deleteKeys: string[]): void {
    this.byController.set(controllerKey, { add: 0, del: deleteKeys.length, timestamp: this.now(), deleteKeys: new Set(deleteKeys) });
  }

  creationObserved(controllerKey: string): void {
    const e = this.byController.get(controllerKey);
    if (e) e.add--;
  }

  /** A deletion seen (or one that will never be seen): lowers the count, for a tracked record only when `deleteKey` is one it waits for. */
  deletionObserved(controllerKey: string, deleteKey?: string): void {
    const e = this.byController.get(controllerKey);
    if (!e) return;
    if (e.deleteKeys && !(deleteKey !== undefined && e.deleteKeys.delete(deleteKey))) return;
    e.del--;
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
