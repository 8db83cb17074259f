/**
 * @module Child process of the ingress benchmark: the real ingress controller over an
 * in-memory API server, routing `bench.local` to backends on 127.0.0.1 whose ports come
 * as arguments (their EndpointSlices go straight into the informer cache: the API refuses
 * loopback endpoints). Prints "ready HTTP_PORT" once listening.
 */
import { Resources } from '../src/client/index.js';
import { SeededInformerFactory } from '../src/client/testing.js';
import { ControllerTestEnv } from '../src/controllers/common/test-env.js';
import { startIngressController } from '../src/ingress/index.js';

const ports = process.argv.slice(2).map(Number);
const env = await ControllerTestEnv.create(new Date());
const c = env.client;
await c.create(Resources.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] } });
await c.create(Resources.ingresses, 'default', {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'web' },
  spec: { rules: [{ host: 'bench.local', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
});
const informers = new SeededInformerFactory(c, [Resources.endpointslices]);
informers.for(Resources.endpointslices).seed(
  ports.map((port, i) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `web-${i}`, namespace: 'default', resourceVersion: String(i + 1), labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port }],
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
  })),
);
const abort = new AbortController();
const controller = await startIngressController({ client: c, informers, signal: abort.signal, log: () => {}, address: '127.0.0.1', httpPort: 0, httpsPort: 0 });
informers.start(abort.signal);
process.stdout.write(`ready ${controller.httpPort}\n`);
process.once('SIGTERM', () => {
  abort.abort();
  void controller.stop().then(() => env.close()).then(() => process.exit(0));
});
