/**
 * @module Event recording as client-go's EventRecorder does it for controllers: core/v1
 * Events named `<object>.<hex time>`, and repeats of one (object, type, reason, message,
 * source) folded into one Event whose count and lastTimestamp grow — what `kubectl
 * describe` and `kubectl get events` read.
 */
import type { KObject } from '../api/types.js';
import { Resources, type Client } from './client.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** source.component / reportingComponent, e.g. "deployment-controller", "default-scheduler". */
  component: string;
  /** source.host for node agents. */
  host?: string;
  now?: () => Date;
  log?: (msg: Record<string, unknown>) => void;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
}

const maxRemembered = 4096;

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Client,
    private readonly opts: EventRecorderOptions,
  ) {}

  /** Records an event about obj; never throws (event loss is logged, as in client-go). */
  event(obj: KObject, type: EventType, reason: string, message: string): void {
    this.chain = this.chain.then(() => this.write(obj, type, reason, message)).catch((err) => {
      this.opts.log?.({ level: 'warn', msg: 'event dropped', reason, error: String(err) });
    });
  }

  /** Resolves when every event recorded so far has been written (tests). */
  flush(): Promise<void> {
    return this.chain;
  }

  private async write(obj: KObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = (this.opts.now ?? (() => new Date()))();
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace || 'default';
    const aggKey = [meta.uid, type, reason, message, this.opts.component, this.opts.host ?? ''].join('\u0000');
    const prev = this.seen.get(aggKey);
    if (prev) {
      prev.count++;
      try {
        await this.client.patch(Resources.events, prev.namespace, prev.name, 'merge', { count: prev.count, lastTimestamp: rfc3339(now) });
        return;
      } catch {
        this.seen.delete(aggKey);
      }
    }
    const name = `${meta.name}.${(now.getTime() * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`;
    const event: KObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        kind: obj.kind,
        namespace: meta.namespace,
        name: meta.name,
        uid: meta.uid,
        apiVersion: obj.apiVersion,
        resourceVersion: meta.resourceVersion,
      },
      reason,
      message,
      source: { component: this.opts.component, ...(this.opts.host ? { host: this.opts.host } : {}) },
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      count: 1,
      type,
      eventTime: null,
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.host ?? '',
    };
    await this.client.create(Resources.events, namespace, event);
    if (this.seen.size >= maxRemembered) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(aggKey, { name, namespace, count: 1 });
  }
}
