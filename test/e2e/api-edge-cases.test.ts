/**
 * @module End to end: the API server's answers to malformed, oversized, misrouted and
 * unusual requests (raw HTTPS with the admin client certificate, and the real kubectl
 * where it exposes the feature), compared with what kube-apiserver answers; the server
 * must survive all of them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import YAML from 'yaml';
import { Cluster, eventually } from './harness.js';

interface Reply {
  code: number;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Credentials {
  ca: string;
  cert: string;
  key: string;
}

function credentialsFrom(kubeconfigPath: string): Credentials {
  const kc = YAML.parse(readFileSync(kubeconfigPath, 'utf8'));
  const b = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  return {
    ca: b(kc.clusters[0].cluster['certificate-authority-data']),
    cert: b(kc.users[0].user['client-certificate-data']),
    key: b(kc.users[0].user['client-key-data']),
  };
}

const deploymentJson = (name: string, replicas: unknown, extraSpec: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
      ...extraSpec,
    },
  });

describe('API server edge cases', () => {
  let c: Cluster;
  let creds: Credentials;
  let base: URL;

  /** One HTTPS request as the admin user; `chunks` streams the body without Content-Length. */
  function call(method: string, path: string, opts: { body?: string | Buffer; chunks?: Buffer[]; headers?: Record<string, string> } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { Accept: 'application/json', ...(opts.headers ?? {}) };
      if (opts.body !== undefined) {
        headers['Content-Type'] ??= 'application/json';
        headers['Content-Length'] = Buffer.byteLength(opts.body);
      }
      if (opts.chunks) headers['Content-Type'] ??= 'application/json';
      const options: RequestOptions = { host: base.hostname, port: base.port, method, path, headers, agent: false, ...creds };
      let answered = false;
      const req = request(options, (res) => {
        answered = true;
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      });
      // The server may answer (413) before it has read the whole body.
      req.on('error', (e) => {
        if (!answered) reject(e);
      });
      if (opts.chunks) {
        for (const chunk of opts.chunks) req.write(chunk);
        req.end();
      } else req.end(opts.body);
    });
  }

  /** A request whose answer must be a failure Status; returns it after checking the envelope. */
  async function status(method: string, path: string, opts: Parameters<typeof call>[2] = {}) {
    const r = await call(method, path, opts);
    assert.match(String(r.headers['content-type']), /^application\/json/, `Status is JSON (${r.code} ${r.body.slice(0, 200)})`);
    const s = JSON.parse(r.body);
    assert.equal(s.kind, 'Status');
    assert.equal(s.apiVersion, 'v1');
    assert.equal(s.status, 'Failure');
    assert.equal(s.code, r.code, 'Status.code equals the HTTP status');
    return s as { code: number; reason: string; message: string; details?: Record<string, unknown>; metadata: Record<string, unknown> };
  }

  const cms = '/api/v1/namespaces/edge/configmaps';
  const deploys = '/apis/apps/v1/namespaces/edge/deployments';

  before(async () => {
    c = await Cluster.start();
    creds = credentialsFrom(c.kubeconfig);
    base = new URL(c.url);
    const ns = await call('POST', '/api/v1/namespaces', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'edge' } }) });
    assert.equal(ns.code, 201, ns.body);
  });
  after(async () => {
    await c?.stop();
  });

  describe('request bodies', () => {
    test('malformed JSON is 400 BadRequest naming the expected kind', async () => {
      const s = await status('POST', cms, { body: '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ' });
      assert.equal(s.code, 400);
      assert.equal(s.reason, 'BadRequest');
      assert.match(s.message, /^the object provided is unrecognized \(must be of type ConfigMap\): couldn't get version\/kind; json parse error: /);
    });

    test('a JSON array body is 400 BadRequest: cannot unmarshal array', async () => {
      const s = await status('POST', cms, { body: '[1,2]' });
      assert.equal(s.code, 400);
      assert.equal(s.reason, 'BadRequest');
      assert.match(s.message, /json: cannot unmarshal array into Go value of type struct \{ APIVersion string/);
      const scalar = await status('POST', cms, { body: '"just a string"' });
      assert.equal(scalar.code, 400);
    });

    test(
      'an undecodable body ends with kube\'s summary of the data, as transformDecodeError writes it',
      async () => {
        const s = await status('POST', cms, { body: '[1,2]' });
        assert.equal(
          s.message,
          'the object provided is unrecognized (must be of type ConfigMap): couldn\'t get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" } (5b312c325d)',
        );
      },
    );

    test(
      'an empty body is a JSON parse error (<empty>), not a missing Kind',
      async () => {
        const s = await status('POST', cms, { body: '' });
        assert.equal(s.code, 400);
        assert.equal(s.message, 'the object provided is unrecognized (must be of type ConfigMap): couldn\'t get version/kind; json parse error: unexpected end of JSON input (<empty>)');
      },
    );

    test('an apiVersion or kind in the body that does not fit the URL is 400 and stores nothing', async () => {
      const wrongGroup = await status('POST', cms, { body: JSON.stringify({ apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'x1' } }) });
      assert.equal(wrongGroup.code, 400);
      assert.equal(wrongGroup.reason, 'BadRequest');
      const unknownVersion = await status('POST', cms, { body: JSON.stringify({ apiVersion: 'nope.example.com/v9', kind: 'ConfigMap', metadata: { name: 'x2' } }) });
      assert.equal(unknownVersion.code, 400);
      const wrongKind = await status('POST', cms, { body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x3' } }) });
      assert.equal(wrongKind.code, 400);
      assert.equal(wrongKind.reason, 'BadRequest');
      for (const n of ['x1', 'x2', 'x3']) assert.equal((await call('GET', `${cms}/${n}`)).code, 404);
      // A body without apiVersion and kind takes them from the URL, as kube's decoder defaults them.
      const bare = await call('POST', cms, { body: JSON.stringify({ metadata: { name: 'bare' }, data: { a: 'b' } }) });
      assert.equal(bare.code, 201, bare.body);
      assert.equal(JSON.parse(bare.body).kind, 'ConfigMap');
    });

    test('a field of the wrong JSON type is 400: cannot unmarshal', async () => {
      const s = await status('POST', deploys, { body: deploymentJson('typed', 'three') });
      assert.equal(s.code, 400);
      assert.equal(s.reason, 'BadRequest');
      assert.match(s.message, /^Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field /);
      assert.equal((await call('GET', `${deploys}/typed`)).code, 404);
    });

    test(
      'the wrong-type message names the Go struct and the field\'s Go type, as encoding/json does',
      async () => {
        const s = await status('POST', deploys, { body: deploymentJson('typed', 'three') });
        assert.equal(s.message, 'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
        const data = await status('POST', cms, { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'typed' }, data: { a: 1 } }) });
        assert.equal(data.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string');
      },
    );

    test(
      'a wrong JSON type is fatal under every fieldValidation directive',
      async () => {
        const s = await status('POST', `${deploys}?fieldValidation=Ignore`, { body: deploymentJson('typed-ignore', 'three') });
        assert.equal(s.code, 400);
        assert.match(s.message, /cannot unmarshal string into Go struct field/);
        assert.equal((await call('GET', `${deploys}/typed-ignore`)).code, 404);
      },
    );

    test(
      'a metadata that is not an object is 400, not an internal error, on create, update and patch',
      async () => {
        const create = await status('POST', cms, { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: 'meta' }) });
        assert.equal(create.code, 400);
        assert.equal(create.reason, 'BadRequest');
        assert.match(create.message, /cannot unmarshal string into Go struct field/);
        assert.equal((await call('POST', cms, { body: JSON.stringify({ metadata: { name: 'typed-meta' } }) })).code, 201);
        const put = await status('PUT', `${cms}/typed-meta`, { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: 5 }) });
        assert.equal(put.code, 400);
        const patch = await status('PATCH', `${cms}/typed-meta`, { body: '{"metadata":"x"}', headers: { 'Content-Type': 'application/merge-patch+json' } });
        assert.equal(patch.code, 400);
      },
    );

    test('a 4 MiB body is 413 RequestEntityTooLarge, with or without Content-Length', async () => {
      const big = Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { x: 'a'.repeat(4 * 1024 * 1024) } }));
      const declared = await status('POST', cms, { body: big });
      assert.equal(declared.code, 413);
      assert.equal(declared.reason, 'RequestEntityTooLarge');
      assert.equal(declared.message, 'Request entity too large: limit is 3145728');
      const chunks: Buffer[] = [];
      for (let i = 0; i < big.length; i += 256 * 1024) chunks.push(big.subarray(i, i + 256 * 1024));
      const streamed = await status('POST', cms, { chunks });
      assert.equal(streamed.code, 413);
      assert.equal(streamed.reason, 'RequestEntityTooLarge');
      assert.equal((await call('GET', `${cms}/big`)).code, 404);
    });

    test('a YAML body (application/yaml) creates the object; Accept: application/yaml answers YAML', async () => {
      const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n  labels: {via: yaml}\ndata:\n  answer: "42"\n';
      const r = await call('POST', cms, { body: yaml, headers: { 'Content-Type': 'application/yaml' } });
      assert.equal(r.code, 201, r.body);
      assert.equal(JSON.parse(r.body).data.answer, '42');
      const got = await call('GET', `${cms}/from-yaml`, { headers: { Accept: 'application/yaml' } });
      assert.equal(got.code, 200);
      assert.match(String(got.headers['content-type']), /^application\/yaml/);
      const parsed = YAML.parse(got.body);
      assert.equal(parsed.kind, 'ConfigMap');
      assert.deepEqual(parsed.metadata.labels, { via: 'yaml' });
      const badYaml = await status('POST', cms, { body: 'metadata: [unclosed\n  name: x', headers: { 'Content-Type': 'application/yaml' } });
      assert.equal(badYaml.code, 400);
      const unsupported = await status('POST', cms, { body: 'name=x', headers: { 'Content-Type': 'text/plain' } });
      assert.equal(unsupported.code, 415);
      assert.equal(unsupported.reason, 'UnsupportedMediaType');
    });
  });

  describe('routing', () => {
    test('POST to a named resource and PUT to a collection are 405 MethodNotAllowed', async () => {
      const post = await status('POST', `${cms}/some-name`, { body: JSON.stringify({ metadata: { name: 'some-name' } }) });
      assert.equal(post.code, 405);
      assert.equal(post.reason, 'MethodNotAllowed');
      assert.equal(post.message, 'the server does not allow this method on the requested resource');
      const put = await status('PUT', cms, { body: JSON.stringify({ metadata: { name: 'x' } }) });
      assert.equal(put.code, 405);
      assert.equal(put.reason, 'MethodNotAllowed');
      assert.equal((await call('GET', `${cms}/some-name`)).code, 404, 'nothing was created');
    });

    test(
      'a name of ".." is refused and never resolves to another resource',
      async () => {
        assert.equal((await call('POST', '/api/v1/namespaces', { body: JSON.stringify({ metadata: { name: 'victim' } }) })).code, 201);
        const get = await status('GET', '/api/v1/namespaces/victim/configmaps/%2e%2e');
        assert.equal(get.code, 400);
        assert.equal(get.message, 'Name parameter invalid: "..": may not be \'..\'');
        const del = await call('DELETE', '/api/v1/namespaces/victim/configmaps/%2e%2e');
        assert.notEqual(del.code, 200, del.body);
        const ns = await call('GET', '/api/v1/namespaces/victim');
        assert.equal(ns.code, 200, 'the namespace survived a DELETE of configmaps/..');
      },
    );

    test(
      'a malformed percent-escape in the path is 400, not an internal error',
      async () => {
        const r = await call('GET', '/api/v1/namespaces/edge/configmaps/%zz');
        assert.equal(r.code, 400, r.body);
      },
    );

    test('an unknown resource, group or version is 404 NotFound', async () => {
      for (const path of ['/api/v1/frobnicators', '/api/v1/namespaces/edge/frobnicators', '/apis/nope.example.com/v1/things', '/apis/apps/v9/deployments', '/api/v1/namespaces/edge/configmaps/x/nosuchsub']) {
        const s = await status('GET', path);
        assert.equal(s.code, 404, path);
        assert.equal(s.reason, 'NotFound', path);
        assert.equal(s.message, 'the server could not find the requested resource', path);
      }
    });
  });

  describe('query parameters', () => {
    test(
      'a non-numeric limit is 400 BadRequest',
      async () => {
        const s = await status('GET', `${cms}?limit=abc`);
        assert.equal(s.code, 400);
        assert.equal(s.reason, 'BadRequest');
      },
    );

    test(
      'resourceVersionMatch without resourceVersion is 422 Invalid ListOptions',
      async () => {
        const s = await status('GET', `${cms}?resourceVersionMatch=Exact`);
        assert.equal(s.code, 422);
        assert.equal(s.reason, 'Invalid');
        assert.match(s.message, /resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided/);
      },
    );

    test(
      'an unsupported dryRun value is 422 Invalid CreateOptions',
      async () => {
        const s = await status('POST', `${cms}?dryRun=Foo`, { body: JSON.stringify({ metadata: { name: 'dry-foo' } }) });
        assert.equal(s.code, 422);
        assert.equal(s.reason, 'Invalid');
        assert.match(s.message, /dryRun: Unsupported value/);
      },
    );

    test('a list with limit pages with continue and remainingItemCount over HTTPS', async () => {
      for (const n of ['p1', 'p2', 'p3']) assert.equal((await call('POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify({ metadata: { name: n } }) })).code, 201);
      const first = JSON.parse((await call('GET', '/api/v1/namespaces/default/configmaps?limit=2')).body);
      assert.equal(first.items.length, 2);
      assert.ok(first.metadata.continue);
      assert.equal(typeof first.metadata.remainingItemCount, 'number');
      const next = JSON.parse((await call('GET', `/api/v1/namespaces/default/configmaps?limit=2&continue=${encodeURIComponent(first.metadata.continue)}`)).body);
      assert.ok(next.items.length >= 1);
      assert.equal(next.metadata.resourceVersion, first.metadata.resourceVersion);
      const garbage = await status('GET', '/api/v1/namespaces/default/configmaps?limit=2&continue=%%%garbage');
      assert.equal(garbage.code, 400);
    });
  });

  describe('through kubectl', () => {
    test('apply --dry-run=server answers as a create and stores nothing', async () => {
      const file = c.writeFile('dry.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\n  namespace: edge\ndata: {a: b}\n');
      const out = await c.k(['apply', '--dry-run=server', '-f', file]);
      assert.match(out, /configmap\/dry created \(server dry run\)/);
      const get = await c.kubectl(['get', 'cm', 'dry', '-n', 'edge']);
      assert.equal(get.code, 1);
      assert.match(get.stderr, /configmaps "dry" not found/);
    });

    test('apply --validate=warn with an unknown field warns and succeeds', async () => {
      const file = c.writeFile(
        'warn.yaml',
        `apiVersion: apps/v1
kind: Deployment
metadata:
  name: warned
  namespace: edge
spec:
  foo: bar
  replicas: 1
  selector:
    matchLabels: {app: warned}
  template:
    metadata:
      labels: {app: warned}
    spec:
      containers:
      - name: c
        image: nginx:1.27
`,
      );
      const r = await c.kubectl(['apply', '--validate=warn', '-f', file]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Warning: unknown field "spec\.foo"/);
      assert.match(r.stdout, /deployment\.apps\/warned created/);
      assert.equal(await c.k(['get', 'deploy', 'warned', '-n', 'edge', '-o', 'jsonpath={.spec.replicas}']), '1');
    });

    test(
      'an unknown field accepted under fieldValidation=Warn is dropped, not stored',
      async () => {
        const r = await call('POST', `${deploys}?fieldValidation=Warn`, { body: deploymentJson('dropped', 1, { foo: 'bar' }) });
        assert.equal(r.code, 201, r.body);
        assert.match(String(r.headers.warning), /299 - "unknown field \\"spec\.foo\\""/);
        assert.equal(JSON.parse(r.body).spec.foo, undefined);
        const stored = JSON.parse((await call('GET', `${deploys}/dropped`)).body);
        assert.equal(stored.spec.foo, undefined);
      },
    );

    test('get --chunk-size=2 over five configmaps pages with limit/continue and lists all five', async () => {
      await c.k(['create', 'namespace', 'chunks']);
      for (const n of ['c1', 'c2', 'c3', 'c4', 'c5']) await c.k(['create', 'configmap', n, '-n', 'chunks']);
      const r = await c.kubectl(['get', 'cm', '-n', 'chunks', '--chunk-size=2', '-o', 'name', '-v=6']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['configmap/c1', 'configmap/c2', 'configmap/c3', 'configmap/c4', 'configmap/c5']);
      // Go sorts query keys: the follow-up pages read "?continue=...&limit=2".
      const pages = r.stderr.split('\n').filter((l) => /GET https:\S+\/namespaces\/chunks\/configmaps\?(continue=[^&\s]+&)?limit=2 200/.test(l));
      assert.equal(pages.length, 3, `three pages of two: ${pages.join('\n')}`);
      assert.equal(pages.filter((l) => l.includes('continue=')).length, 2);
      // The table printer pages too.
      const table = await c.k(['get', 'cm', '-n', 'chunks', '--chunk-size=2']);
      assert.equal(table.split('\n').filter((l) => /^c\d\s/.test(l)).length, 5);
    });

    test('create -f of an object with generateName', async () => {
      const file = c.writeFile('gen.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\n  namespace: edge\ndata: {a: b}\n');
      const first = await c.k(['create', '-f', file]);
      const second = await c.k(['create', '-f', file]);
      const name1 = /^configmap\/(gen-[a-z0-9]{5}) created$/m.exec(first)?.[1];
      const name2 = /^configmap\/(gen-[a-z0-9]{5}) created$/m.exec(second)?.[1];
      assert.ok(name1 && name2, `${first}${second}`);
      assert.notEqual(name1, name2);
      assert.equal(await c.k(['get', 'cm', name1, '-n', 'edge', '-o', 'jsonpath={.metadata.generateName}']), 'gen-');
    });

    test('delete --wait=false of an object with a finalizer leaves it terminating until a JSON patch removes the finalizer', async () => {
      const file = c.writeFile('held.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: edge\n  finalizers: [example.com/hold]\n');
      await c.k(['create', '-f', file]);
      const del = await c.k(['delete', 'cm', 'held', '-n', 'edge', '--wait=false']);
      assert.match(del, /configmap "held" deleted/);
      const ts = await c.k(['get', 'cm', 'held', '-n', 'edge', '-o', 'jsonpath={.metadata.deletionTimestamp}']);
      assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const patched = await c.k(['patch', 'cm', 'held', '-n', 'edge', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
      assert.match(patched, /configmap\/held patched/);
      await eventually(async () => (await c.kubectl(['get', 'cm', 'held', '-n', 'edge'])).code === 1, { what: 'held to disappear' });
      const gone = await c.kubectl(['get', 'cm', 'held', '-n', 'edge']);
      assert.match(gone.stderr, /configmaps "held" not found/);
    });

    test('get --raw of a watch with timeoutSeconds ends by itself after replaying from resourceVersion', async () => {
      await c.k(['create', 'configmap', 'watched', '-n', 'default']);
      const started = Date.now();
      const r = await c.kubectl(['get', '--raw', '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1&timeoutSeconds=1'], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Date.now() - started < 15_000, 'the server closed the watch');
      const events = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
      assert.ok(events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'watched'), r.stdout.slice(0, 500));
    });
  });

  test('the server survived every request above and still answers /readyz', async () => {
    assert.equal(c.proc.exitCode, null, c.logs.stderr.slice(-2000));
    assert.equal(c.proc.signalCode, null);
    const ready = await call('GET', '/readyz', { headers: { Accept: '*/*' } });
    assert.equal(ready.code, 200);
    assert.equal(ready.body, 'ok');
    assert.equal(await c.k(['get', 'ns', 'edge', '-o', 'jsonpath={.status.phase}']), 'Active');
  });
});
