/**
 * @module Ingress benchmark (issue 5): requests/s and latency through skiff's ingress
 * controller against Debian's nginx as a reverse proxy in front of the same two backends,
 * and straight to the backends, in one run. Backends are two Node HTTP servers on
 * 127.0.0.1 in their own process; each proxy runs in its own process with one worker.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { machineDescription, measure, percentile, root, spawnTracked, stopProcess } from './util.js';

const N = Number(process.env.BENCH_INGRESS_N ?? 20_000);
const CONCURRENCY = 32;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Waits for a line matching re on the child's stdout. */
function lineOf(proc: ChildProcess, re: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 20_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = re.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    proc.once('exit', (code) => reject(new Error(`${what} exited ${code}: ${out}`)));
  });
}

const backendSource = `
const http = require('node:http');
const body = 'x'.repeat(512);
const ports = [];
let n = 0;
for (let i = 0; i < 2; i++) {
  const s = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(body));
  s.keepAliveTimeout = 30000;
  s.listen(0, '127.0.0.1', () => { ports.push(s.address().port); if (++n === 2) console.log('ports ' + ports.join(' ')); });
}`;

async function load(port: number, host: string): Promise<{ rate: number; p50: number; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const get = (p: number) =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: p, path: '/', headers: { host }, agent }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end();
    });
  await measure(500, () => get(port), CONCURRENCY);
  const r = await measure(N, () => get(port), CONCURRENCY);
  agent.destroy();
  return { rate: r.rate, p50: percentile(r.lat, 50), p99: percentile(r.lat, 99) };
}

export async function ingressSection(work: string): Promise<string> {
  const nginxBin = ['/usr/sbin/nginx', 'nginx'].find((b) => spawnSync(b, ['-v']).status === 0);
  if (!nginxBin) return 'Not run: nginx is not installed (apt-get install nginx).';
  const backends = spawn(process.execPath, ['-e', backendSource], { stdio: ['ignore', 'pipe', 'inherit'] });
  let ingress: ChildProcess | undefined;
  let nginx: ChildProcess | undefined;
  try {
    const ports = (await lineOf(backends, /ports (\d+) (\d+)/, 'backends')).slice(1, 3).map(Number);
    ingress = spawnTracked([join(root, 'dist', 'bench', 'ingress-worker.js'), ...ports.map(String)]);
    const ingressPort = Number((await lineOf(ingress, /ready (\d+)/, 'ingress controller'))[1]);
    const dir = join(work, 'nginx');
    mkdirSync(join(dir, 'logs'), { recursive: true });
    const nginxPort = await freePort();
    writeFileSync(
      join(dir, 'nginx.conf'),
      `worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream backends { server 127.0.0.1:${ports[0]}; server 127.0.0.1:${ports[1]}; keepalive 64; }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`,
    );
    nginx = spawn(nginxBin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'inherit' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await new Promise<boolean>((r) => {
        const req = request({ host: '127.0.0.1', port: nginxPort, path: '/' }, (res) => (res.resume(), r(res.statusCode === 200)));
        req.on('error', () => r(false));
        req.end();
      });
      if (ok) break;
      if (Date.now() > deadline) throw new Error('nginx did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const direct = await load(ports[0], 'bench.local');
    const viaNginx = await load(nginxPort, 'bench.local');
    const viaSkiff = await load(ingressPort, 'bench.local');
    const row = (what: string, r: { rate: number; p50: number; p99: number }, note: string) =>
      `| ${what} | ${r.rate.toFixed(0)} req/s | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${note} |`;
    return [
      `Run: ${new Date().toISOString().slice(0, 10)} on ${machineDescription()}; ${N} GETs of 512 bytes per target, ${CONCURRENCY} keep-alive connections from one client process.`,
      '',
      '| path | throughput | p50 | p99 | notes |',
      '| --- | --- | --- | --- | --- |',
      row('straight to one backend (reference)', direct, ''),
      row('nginx 1 worker as reverse proxy (reference)', viaNginx, 'upstream keepalive 64'),
      row('skiff ingress controller', viaSkiff, `skiff/nginx = ${(viaSkiff.rate / viaNginx.rate).toFixed(2)} (throughput), ${(viaSkiff.p99 / viaNginx.p99).toFixed(2)} (p99)`),
    ].join('\n');
  } finally {
    if (nginx && nginx.exitCode === null) {
      nginx.kill('SIGQUIT');
      await new Promise((r) => nginx!.once('exit', r));
    }
    if (ingress) await stopProcess(ingress);
    backends.kill();
  }
}
