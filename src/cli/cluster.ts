/**
 * @module The composition root of `skiff server`: the API server, then — talking to it only
 * through loopback clients — the controller manager, the scheduler and the local nodes.
 * The only module that sees every layer.
 */
import { startServer, jsonLogger, type RunningServer } from '../apiserver/server.js';
import { LoopbackClient } from '../apiserver/loopback.js';
import { EventRecorder, InformerFactory } from '../client/index.js';
import { controllerFactories } from '../controllers/index.js';
import { defaultControllerOptions, type ControllerContext, type ControllerOptions } from '../controllers/types.js';

export interface ClusterOptions {
  dataDir: string;
  port: number;
  host?: string;
  /** Controllers to run ('*' = all); empty list runs none. */
  controllers?: string[];
  controllerOptions?: Partial<ControllerOptions>;
  /** Extra components started after the controllers (scheduler, nodes), each given a loopback client. */
  components?: Array<(ctx: ComponentContext) => Promise<{ stop(): Promise<void> | void }>>;
}

export interface ComponentContext {
  server: RunningServer;
  /** A loopback client writing as the given field manager / user agent. */
  client(manager: string): LoopbackClient;
  signal: AbortSignal;
  log(component: string): (msg: Record<string, unknown>) => void;
}

export interface RunningCluster {
  server: RunningServer;
  close(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions): Promise<RunningCluster> {
  const server = await startServer({ dataDir: opts.dataDir, port: opts.port, host: opts.host });
  const abort = new AbortController();
  const stops: Array<() => Promise<void> | void> = [];

  const client = new LoopbackClient(server.rest, 'kube-controller-manager');
  const informers = new InformerFactory(client, jsonLogger('informers'));
  const ctx: ControllerContext = {
    client,
    informers,
    now: () => new Date(),
    recorder: (component) => new EventRecorder(client, { component, log: jsonLogger(component) }),
    log: jsonLogger('controller-manager'),
    options: { ...defaultControllerOptions, ...(opts.controllerOptions ?? {}) } as ControllerOptions,
  };
  const wanted = opts.controllers ?? ['*'];
  for (const [name, factory] of Object.entries(controllerFactories)) {
    if (!wanted.includes('*') && !wanted.includes(name)) continue;
    const controller = factory(ctx);
    void controller.run(abort.signal, 2).catch((err) => ctx.log({ level: 'error', msg: 'controller stopped', controller: name, error: String(err) }));
  }
  informers.start(abort.signal);

  const componentCtx: ComponentContext = {
    server,
    client: (manager) => new LoopbackClient(server.rest, manager),
    signal: abort.signal,
    log: (component) => jsonLogger(component),
  };
  for (const start of opts.components ?? []) {
    const c = await start(componentCtx);
    stops.push(() => c.stop());
  }
  return {
    server,
    async close() {
      abort.abort();
      for (const stop of stops.reverse()) await stop();
      await server.close();
    },
  };
}
