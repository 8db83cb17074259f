/**
 * @module The real kubectl against the OpenAPI documents: a loopback server answers
 * /version, aggregated discovery for pods and deployments, and the OpenAPI endpoints;
 * `kubectl explain` must print fields with descriptions (v3 on 1.32, v2 protobuf on
 * 1.27) and `kubectl apply` must detect fieldValidation support. Skipped without kubectl.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ResourceDef } from '../types.js';
import { OpenApiService, defaultSchemasPath } from './openapi.js';

const run = promisify(execFile);
const SDK_BIN = '/usr/lib/google-cloud-sdk/bin';
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0 ? 'kubectl' : undefined;
const kubectl127 = existsSync(`${SDK_BIN}/kubectl.1.27`) ? `${SDK_BIN}/kubectl.1.27` : undefined;

const resources: ResourceDef[] = [
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true, shortNames: ['po'], categories: ['all'], subresources: { status: true } },
  {
    group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', singular: 'deployment', namespaced: true,
    shortNames: ['deploy'], categories: ['all'],
    subresources: { status: true, scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas' } },
  },
];
const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Aggregated discovery (apidiscovery.k8s.io v2 or v2beta1) for the core group or the named groups. */
function discovery(version: string, core: boolean): object {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: resources
      .filter((d) => (d.group === '') === core)
      .map((d) => ({
        metadata: { name: d.group },
        versions: [{
          version: d.version,
          freshness: 'Current',
          resources: [{
            resource: d.plural, responseKind: { group: d.group, version: d.version, kind: d.kind }, scope: 'Namespaced',
            singularResource: d.singular, verbs: VERBS, shortNames: d.shortNames, categories: d.categories,
          }],
        }],
      })),
  };
}

let dir: string;
let server: http.Server;
let schemasPath = defaultSchemasPath();
const requests: string[] = [];

function env(home: string): NodeJS.ProcessEnv {
  return { ...process.env, HOME: join(dir, home), KUBECONFIG: join(dir, 'kubeconfig') };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-openapi-kubectl-'));
  if (!existsSync(schemasPath)) {
    schemasPath = join(dir, 'schemas.json');
    const script = fileURLToPath(new URL('../../../../scripts/gen-openapi.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [script, '--force', '--out', schemasPath], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
  const openapi = new OpenApiService(resources, schemasPath, { version: 'v1.32.4-skiff' });
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    requests.push(`${req.method} ${req.url}`);
    const json = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'Content-Type': type });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/version') return json(200, { major: '1', minor: '32', gitVersion: 'v1.32.4-skiff', platform: 'linux/amd64' });
    if (url.pathname === '/api' || url.pathname === '/apis') {
      const accept = req.headers.accept ?? '';
      const version = /v=v2;/.test(accept) ? 'v2' : /v=v2beta1/.test(accept) ? 'v2beta1' : undefined;
      if (version) {
        return json(200, discovery(version, url.pathname === '/api'), `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`);
      }
    }
    if (req.method === 'POST' && url.pathname === '/apis/apps/v1/namespaces/default/deployments') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => json(201, { ...JSON.parse(body), metadata: { ...JSON.parse(body).metadata, uid: 'u1', resourceVersion: '1' } }));
      return;
    }
    const answer = openapi.respond(url.pathname, url.searchParams, req.headers);
    if (answer) {
      res.writeHead(answer.status, answer.headers);
      return res.end(answer.body);
    }
    json(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'not found', reason: 'NotFound', code: 404 });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(
    join(dir, 'kubeconfig'),
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]`,
      'users: [{name: u, user: {}}]',
      'contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]',
      'current-context: c',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'deploy.yaml'),
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n' +
      '  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: nginx, image: nginx}]}\n',
  );
});

after(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kubectl against the OpenAPI documents', () => {
  test('explain deployment.spec.strategy (v3)', { skip: !kubectl && 'kubectl not installed' }, async () => {
    const { stdout } = await run(kubectl!, ['explain', 'deployment.spec.strategy'], { env: env('home-a') });
    assert.match(stdout, /KIND:\s+Deployment/);
    assert.match(stdout, /FIELD: strategy <DeploymentStrategy>/);
    assert.match(stdout, /rollingUpdate\t<RollingUpdateDeployment>\n\s+Rolling update config params/);
    assert.match(stdout, /type\t<string>\n\s+Type of deployment/);
  });

  test('explain pod.spec.containers (v3)', { skip: !kubectl && 'kubectl not installed' }, async () => {
    const { stdout } = await run(kubectl!, ['explain', 'pod.spec.containers'], { env: env('home-b') });
    assert.match(stdout, /FIELD: containers <\[\]Container>/);
    assert.match(stdout, /name\t<string> -required-\n\s+Name of the container/);
    assert.match(stdout, /resources\t<ResourceRequirements>/);
  });

  test('kubectl 1.27 explain pod.spec from the v2 protobuf document', { skip: !kubectl127 && 'kubectl 1.27 not installed' }, async () => {
    const { stdout } = await run(kubectl127!, ['explain', 'pod.spec', '--output=plaintext-openapiv2'], { env: env('home-c') });
    assert.match(stdout, /RESOURCE: spec <Object>/);
    assert.match(stdout, /containers\t<\[\]Object> -required-\n\s+List of containers/);
  });

  for (const [name, binary] of [['kubectl', kubectl], ['kubectl 1.27', kubectl127]] as const) {
    test(`${name} apply finds fieldValidation support`, { skip: !binary && `${name} not installed` }, async () => {
      requests.length = 0;
      const { stdout } = await run(binary!, ['apply', '-f', join(dir, 'deploy.yaml')], { env: env(`home-apply-${name}`) });
      assert.match(stdout, /deployment.apps\/web created/);
      assert.ok(
        requests.some((r) => r.startsWith('POST /apis/apps/v1/namespaces/default/deployments?') && r.includes('fieldValidation=Strict')),
        requests.join('\n'),
      );
    });
  }
});
