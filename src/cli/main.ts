#!/usr/bin/env node
/**
 * @module The `skiff` command: `server` starts the control plane (and, with later
 * issues, a local node); more verbs (`agent`, `helm`) join as they are built.
 */
import { Command, InvalidArgumentError } from 'commander';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { startCluster } from './cluster.js';

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

const program = new Command();
program.name('skiff').description('A Kubernetes-compatible container orchestrator').version('0.1.0');

program
  .command('server')
  .description('start the control plane on this machine')
  .option('--data-dir <dir>', 'where the store, certificates and kubeconfig live', join(homedir(), '.skiff'))
  .option('--port <port>', 'HTTPS port of the API server (0 picks a free one)', parsePort, 6443)
  .option('--bind-address <addr>', 'address to listen on', '127.0.0.1')
  .option('--runtime <runtime>', 'container runtime: auto, process or hollow', 'auto')
  .action(async (opts: { dataDir: string; port: number; bindAddress: string }) => {
    const started = Date.now();
    const cluster = await startCluster({ dataDir: resolve(opts.dataDir), port: opts.port, host: opts.bindAddress });
    const server = cluster.server;
    process.stdout.write(`skiff server ready at ${server.url} in ${Date.now() - started} ms\n`);
    process.stdout.write(`kubeconfig: ${server.kubeconfigPath}\n`);
    process.stdout.write(`try: KUBECONFIG=${server.kubeconfigPath} kubectl get namespaces\n`);
    const stop = async () => {
      await cluster.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`skiff: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
