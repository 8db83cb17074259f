/**
 * @module Container lifecycle hooks (postStart, preStop) as kubelet's handler runner runs
 * them: exec through the runtime, httpGet against the pod IP (any HTTP answer is
 * success; only a failed request is an error), sleep; failures carry kubelet's message
 * ("Exec lifecycle hook ([cmd]) for Container "c" in Pod "p_ns(uid)" failed - error: …")
 * for the FailedPostStartHook / FailedPreStopHook events.
 */
import type { KObject } from '../../api/types.js';
import { realClock, type Clock } from '../../client/index.js';
import { httpGet } from './http.js';
import { resolveContainerPort, type ProbeTarget } from './handler.js';

export const lifecycleUserAgent = 'kube-lifecycle/1.32';

export interface HookResult {
  ok: boolean;
  /** kubelet's message when the hook failed. */
  message?: string;
}

export interface HookOptions {
  clock?: Clock;
  /** Bound on an HTTP hook request (kubelet's hook client has none; a hung server must not hang the pod forever). */
  httpTimeoutMs?: number;
  /** Exec hook timeout in seconds (0: none, as kubelet). */
  execTimeoutSeconds?: number;
}

/** kubelet's format.Pod: "name_namespace(uid)". */
export function podRef(pod: KObject): string {
  const m = pod.metadata ?? {};
  return `${m.name}_${m.namespace}(${m.uid})`;
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** Runs a LifecycleHandler for target's container. */
export async function runLifecycleHandler(handler: KObject, target: ProbeTarget, opts: HookOptions = {}): Promise<HookResult> {
  const c = target.container.name;
  const pod = podRef(target.pod);
  if (handler.exec) {
    const command: string[] = Array.isArray(handler.exec.command) ? handler.exec.command : [];
    const desc = `Exec lifecycle hook ([${command.join(' ')}]) for Container ${JSON.stringify(c)} in Pod ${JSON.stringify(pod)} failed`;
    if (!target.runtime.execInContainer) return { ok: false, message: `${desc} - error: the ${target.runtime.runtimeName} runtime cannot exec in containers, message: ""` };
    try {
      const r = await target.runtime.execInContainer(target.containerId, command, opts.execTimeoutSeconds ?? 0);
      if (r.timedOut) return { ok: false, message: `${desc} - error: command '${command.join(' ')}' timed out, message: ${JSON.stringify(r.output)}` };
      if (r.exitCode !== 0) return { ok: false, message: `${desc} - error: command '${command.join(' ')}' exited with ${r.exitCode}: ${r.output}, message: ${JSON.stringify(r.output)}` };
      return { ok: true };
    } catch (err) {
      return { ok: false, message: `${desc} - error: ${err instanceof Error ? err.message : String(err)}, message: ""` };
    }
  }
  if (handler.httpGet) {
    const g = handler.httpGet;
    // Nothing listens at a hollow pod's address.
    if (target.runtime.simulated) return { ok: true };
    try {
      await httpGet({
        scheme: g.scheme === 'HTTPS' ? 'HTTPS' : 'HTTP',
        host: g.host || target.podIP,
        port: resolveContainerPort(g.port, target.container),
        path: g.path ?? '',
        headers: Array.isArray(g.httpHeaders) ? g.httpHeaders : [],
        timeoutMs: opts.httpTimeoutMs ?? 30_000,
        userAgent: lifecycleUserAgent,
      });
      return { ok: true };
    } catch (err) {
      return { ok: false, message: `HTTP lifecycle hook (${g.path ?? ''}) for Container ${JSON.stringify(c)} in Pod ${JSON.stringify(pod)} failed - error: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  if (handler.sleep) {
    const seconds = Number(handler.sleep.seconds ?? 0);
    if (seconds > 0) await sleep(opts.clock ?? realClock, seconds * 1000);
    return { ok: true };
  }
  return { ok: false, message: `Cannot run handler: invalid handler: ${handler.tcpSocket ? 'tcpSocket is not supported in lifecycle hooks' : JSON.stringify(handler)}` };
}
