/**
 * @module End to end with the real kubectl (the PATH dispatcher, which picks 1.32 from
 * /version): apply/create/get/describe/label/annotate/scale/delete, output formats,
 * watch, errors, explain, api-resources — against one real `skiff server` process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { Cluster, eventually } from './harness.js';

const deployment = (image: string, extraContainer = true) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: ${image}
        ports:
        - containerPort: 80
        env:
        - name: MODE
          value: prod
${extraContainer ? `      - name: sidecar
        image: busybox:1.36
        command: ["sleep", "3600"]
` : ''}---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: 80
`;

describe('kubectl against skiff', () => {
  let c: Cluster;
  before(async () => {
    c = await Cluster.start();
  });
  after(async () => {
    await c?.stop();
  });

  test('the default namespaces and the kubernetes service exist', async () => {
    const ns = await c.k(['get', 'ns']);
    assert.match(ns, /^NAME\s+STATUS\s+AGE/m);
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(ns, new RegExp(`^${n}\\s+Active\\s+\\d+s`, 'm'));
    const svc = await c.k(['get', 'svc', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.equal(svc, '10.43.0.1');
  });

  test('apply a Deployment and a Service from a file, then get them', async () => {
    const file = c.writeFile('web.yaml', deployment('nginx:1.25'));
    const out = await c.k(['apply', '-f', file]);
    assert.match(out, /deployment.apps\/web created/);
    assert.match(out, /service\/web created/);
    const get = await c.k(['get', 'deploy', 'web']);
    assert.match(get, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/m);
    // No nodes run in this suite, so no pod ever becomes available; the controllers may have created them.
    assert.match(get, /^web\s+0\/2\s+[0-2]\s+0\s+\d+s/m);
    const svc = await c.k(['get', 'svc', 'web']);
    assert.match(svc, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE/m);
    assert.match(svc, /^web\s+ClusterIP\s+\S+\s+<none>\s+80\/TCP\s+\d+s/m);
    // Server-side defaulting, as kube-apiserver: strategy, revisionHistoryLimit, pod spec defaults.
    const strategy = await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.strategy.type} {.spec.strategy.rollingUpdate.maxSurge} {.spec.revisionHistoryLimit} {.spec.template.spec.restartPolicy} {.spec.template.spec.containers[0].imagePullPolicy}']);
    assert.equal(strategy, 'RollingUpdate 25% 10 Always IfNotPresent');
  });

  test('re-apply after editing sends a strategic merge patch that keeps list items by name', async () => {
    const file = c.writeFile('web.yaml', deployment('nginx:1.26'));
    const out = await c.k(['apply', '-f', file]);
    assert.match(out, /deployment.apps\/web configured/);
    assert.match(out, /service\/web unchanged/);
    const images = await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={range .spec.template.spec.containers[*]}{.name}={.image};{end}']);
    assert.equal(images, 'nginx=nginx:1.26;sidecar=busybox:1.36;');
    const gen = await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.generation}']);
    assert.equal(gen, '2');
    // Removing the sidecar from the file deletes it from the live object ($patch: delete).
    const file2 = c.writeFile('web.yaml', deployment('nginx:1.26', false));
    await c.k(['apply', '-f', file2]);
    const names = await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[*].name}']);
    assert.equal(names, 'nginx');
    const env = await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].env[0].value}']);
    assert.equal(env, 'prod');
  });

  test('apply --server-side creates and updates with managedFields', async () => {
    const cm = (v: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
data:
  key: "${v}"
`;
    const out = await c.k(['apply', '--server-side', '-f', '-'], { stdin: cm('one') });
    assert.match(out, /configmap\/ssa serverside-applied/);
    await c.k(['apply', '--server-side', '-f', '-'], { stdin: cm('two') });
    assert.equal(await c.k(['get', 'cm', 'ssa', '-o', 'jsonpath={.data.key}']), 'two');
    const managers = await c.k(['get', 'cm', 'ssa', '--show-managed-fields', '-o', 'jsonpath={.metadata.managedFields[*].manager}:{.metadata.managedFields[*].operation}']);
    assert.equal(managers, 'kubectl:Apply');
    // Another manager changing the field makes the next apply conflict.
    await c.k(['patch', 'cm', 'ssa', '--type=merge', '-p', '{"data":{"key":"three"}}']);
    const conflict = await c.kubectl(['apply', '--server-side', '-f', '-'], { stdin: cm('four') });
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /conflict/i);
    const forced = await c.k(['apply', '--server-side', '--force-conflicts', '-f', '-'], { stdin: cm('four') });
    assert.match(forced, /serverside-applied/);
    assert.equal(await c.k(['get', 'cm', 'ssa', '-o', 'jsonpath={.data.key}']), 'four');
  });

  test('get in every output format', async () => {
    const wide = await c.k(['get', 'deploy', 'web', '-o', 'wide']);
    assert.match(wide, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR/m);
    assert.match(wide, /nginx\s+nginx:1\.26\s+app=web/);
    const yaml = await c.k(['get', 'deploy', 'web', '-o', 'yaml']);
    assert.match(yaml, /^apiVersion: apps\/v1$/m);
    assert.match(yaml, /^kind: Deployment$/m);
    assert.match(yaml, /uid: [0-9a-f-]{36}/);
    const json = JSON.parse(await c.k(['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(json.metadata.name, 'web');
    assert.match(json.metadata.resourceVersion, /^\d+$/);
    const list = JSON.parse(await c.k(['get', 'cm', '-o', 'json']));
    assert.equal(list.kind, 'List');
    assert.ok(list.items.some((i: { metadata: { name: string } }) => i.metadata.name === 'ssa'));
    assert.equal(await c.k(['get', 'deploy', '-o', 'name']), 'deployment.apps/web\n');
    assert.equal(await c.k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].port}']), '80');
    const cc = await c.k(['get', 'deploy', '-o', 'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas']);
    assert.match(cc, /^NAME\s+REPLICAS\nweb\s+2\n$/);
    const all = await c.k(['get', 'all']);
    assert.match(all, /deployment.apps\/web/);
    assert.match(all, /service\/web/);
    const allNs = await c.k(['get', 'cm', '-A']);
    assert.match(allNs, /^NAMESPACE\s+NAME\s+DATA\s+AGE/m);
    const labels = await c.k(['get', 'deploy', '--show-labels']);
    assert.match(labels, /app=web/);
  });

  test('get -w sees a change', async () => {
    const watcher = spawn('kubectl', ['get', 'cm', 'ssa', '-w', '-o', 'jsonpath={.data.key}{"\\n"}'], {
      env: { ...process.env, HOME: c.home, KUBECONFIG: c.kubeconfig },
    });
    let out = '';
    watcher.stdout.on('data', (d) => (out += d));
    try {
      await eventually(() => out.includes('four'), { what: 'initial watch output' });
      await c.k(['patch', 'cm', 'ssa', '--type=merge', '-p', '{"data":{"key":"five"}}']);
      await eventually(() => out.includes('five'), { what: 'watch event' });
    } finally {
      watcher.kill();
    }
    assert.match(out, /four\nfive/);
  });

  test('describe shows the object the way kubectl describes it', async () => {
    const d = await c.k(['describe', 'deploy', 'web']);
    assert.match(d, /^Name:\s+web$/m);
    assert.match(d, /^Namespace:\s+default$/m);
    assert.match(d, /^Selector:\s+app=web$/m);
    assert.match(d, /^StrategyType:\s+RollingUpdate$/m);
    assert.match(d, /Image:\s+nginx:1\.26/);
    const s = await c.k(['describe', 'svc', 'web']);
    assert.match(s, /^Type:\s+ClusterIP$/m);
    assert.match(s, /^Port:\s+http\s+80\/TCP$/m);
  });

  test('label, annotate and scale', async () => {
    assert.match(await c.k(['label', 'deploy', 'web', 'tier=frontend']), /deployment.apps\/web labeled/);
    assert.equal(await c.k(['get', 'deploy', '-l', 'tier=frontend', '-o', 'name']), 'deployment.apps/web\n');
    assert.equal(await c.k(['get', 'deploy', '-l', 'tier!=frontend', '-o', 'name']), '');
    await c.k(['label', 'deploy', 'web', 'tier-']);
    assert.equal(await c.k(['get', 'deploy', '-l', 'tier', '-o', 'name']), '');
    assert.match(await c.k(['annotate', 'deploy', 'web', 'owner=team-a']), /annotated/);
    assert.equal(await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.annotations.owner}']), 'team-a');
    assert.match(await c.k(['scale', 'deploy', 'web', '--replicas=5']), /deployment.apps\/web scaled/);
    assert.equal(await c.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '5');
  });

  test('kubectl create sends protobuf bodies (1.32) that decode into the right objects', async () => {
    assert.match(await c.k(['create', 'namespace', 'team-a']), /namespace\/team-a created/);
    assert.match(await c.k(['create', 'deployment', 'api', '--image=registry.local/api:1', '--replicas=3', '--port=8000', '-n', 'team-a']), /deployment.apps\/api created/);
    assert.match(await c.k(['create', 'configmap', 'cfg', '--from-literal=a=b', '-n', 'team-a']), /configmap\/cfg created/);
    assert.match(await c.k(['create', 'secret', 'generic', 'pw', '--from-literal=password=s3cret', '-n', 'team-a']), /secret\/pw created/);
    assert.match(await c.k(['create', 'service', 'clusterip', 'api', '--tcp=80:8000', '-n', 'team-a']), /service\/api created/);
    assert.equal(await c.k(['get', 'deploy', 'api', '-n', 'team-a', '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].ports[0].containerPort}']), '3 8000');
    assert.equal(await c.k(['get', 'cm', 'cfg', '-n', 'team-a', '-o', 'jsonpath={.data.a}']), 'b');
    const secret = await c.k(['get', 'secret', 'pw', '-n', 'team-a', '-o', 'jsonpath={.data.password}']);
    assert.equal(Buffer.from(secret, 'base64').toString(), 's3cret');
    assert.equal(await c.k(['get', 'svc', 'api', '-n', 'team-a', '-o', 'jsonpath={.spec.ports[0].port}:{.spec.ports[0].targetPort}']), '80:8000');
  });

  test('errors read exactly as against kube-apiserver', async () => {
    const missing = await c.kubectl(['get', 'pod', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim(), 'Error from server (NotFound): pods "nope" not found');
    const missingDeploy = await c.kubectl(['get', 'deploy', 'nope']);
    assert.equal(missingDeploy.stderr.trim(), 'Error from server (NotFound): deployments.apps "nope" not found');

    const bad = c.writeFile('bad.yaml', `apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad
spec:
  replicas: -1
  selector:
    matchLabels: {app: bad}
  template:
    metadata:
      labels: {app: bad}
    spec:
      containers:
      - name: c
        image: x
`);
    const invalid = await c.kubectl(['apply', '-f', bad]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /The Deployment "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0/);

    const unknownField = c.writeFile('unknown.yaml', `apiVersion: v1
kind: ConfigMap
metadata:
  name: strict
data: {a: b}
spec: {foo: 1}
`);
    const strict = await c.kubectl(['apply', '-f', unknownField]);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /strict decoding error: unknown field "spec"/);
    assert.equal((await c.kubectl(['get', 'cm', 'strict'])).code, 1, 'nothing half-written');

    // A stale resourceVersion on replace is a 409 Conflict.
    const live = JSON.parse(await c.k(['get', 'cm', 'ssa', '-o', 'json']));
    await c.k(['patch', 'cm', 'ssa', '--type=merge', '-p', '{"data":{"other":"x"}}']);
    const stale = c.writeFile('stale.json', JSON.stringify(live));
    const conflict = await c.kubectl(['replace', '-f', stale]);
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /Error from server \(Conflict\): error when replacing ".*stale.json": Operation cannot be fulfilled on configmaps "ssa": the object has been modified; please apply your changes to the latest version and try again/);

    // `create -f` reports the server's Status; `create configmap` wraps it, as real kubectl does.
    const dup = c.writeFile('dup.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n');
    const exists = await c.kubectl(['create', '-f', dup]);
    assert.match(exists.stderr, /Error from server \(AlreadyExists\): error when creating ".*dup.yaml": configmaps "ssa" already exists/);
    const wrapped = await c.kubectl(['create', 'configmap', 'ssa']);
    assert.equal(wrapped.stderr.trim(), 'error: failed to create configmap: configmaps "ssa" already exists');
  });

  test('api-resources and explain', async () => {
    const ar = await c.k(['api-resources']);
    assert.match(ar, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND/m);
    assert.match(ar, /^pods\s+po\s+v1\s+true\s+Pod$/m);
    assert.match(ar, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    assert.match(ar, /^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler$/m);
    assert.match(ar, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
    const ex = await c.k(['explain', 'pod.spec.containers']);
    assert.match(ex, /^KIND:\s+Pod$/m);
    assert.match(ex, /^FIELD:\s+containers <\[\]Container>$/m);
    assert.match(ex, /^\s+image\s+<string>$/m);
  });

  test('delete by file, by name and --all', async () => {
    const file = c.writeFile('web.yaml', deployment('nginx:1.26', false));
    const out = await c.k(['delete', '-f', file]);
    assert.match(out, /deployment.apps "web" deleted/);
    assert.match(out, /service "web" deleted/);
    assert.equal((await c.kubectl(['get', 'deploy', 'web'])).code, 1);
    assert.match(await c.k(['delete', 'cm', 'ssa']), /configmap "ssa" deleted/);
    await c.k(['create', 'cm', 'a1']);
    await c.k(['create', 'cm', 'a2']);
    const all = await c.k(['delete', 'cm', '--all']);
    assert.match(all, /configmap "a1" deleted/);
    assert.match(all, /configmap "a2" deleted/);
    assert.equal(await c.k(['get', 'cm', '-o', 'name']), '');
    assert.match(await c.k(['delete', '--all', 'deployments', '-n', 'team-a']), /deployment.apps "api" deleted/);
  });

  test('/metrics counts requests with kube-apiserver\'s metric names and labels', async () => {
    await c.k(['get', 'cm']);
    const text = await c.k(['get', '--raw', '/metrics']);
    assert.match(text, /^# TYPE apiserver_request_total counter$/m);
    assert.match(text, /^apiserver_request_total\{verb="LIST",group="",version="v1",resource="configmaps",subresource="",scope="namespace",dry_run="",component="apiserver",code="200"\} [1-9]\d*$/m);
    assert.match(text, /^apiserver_request_duration_seconds_bucket\{le="0.005",verb="LIST",/m);
  });

  test('requests without valid credentials are refused with 401', async () => {
    const wrongToken = c.writeFile(
      'wrong-token.yaml',
      `apiVersion: v1
kind: Config
clusters:
- cluster: {server: "${c.url}", insecure-skip-tls-verify: true}
  name: c
contexts:
- context: {cluster: c, user: u}
  name: c
current-context: c
users:
- name: u
  user: {token: not-the-token}
`,
    );
    const res = await c.kubectl(['--kubeconfig', wrongToken, 'get', 'ns']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
    const anonymous = await new Promise<{ code: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(`${c.url}/api/v1/namespaces`, { rejectUnauthorized: false }, (r) => {
        let body = '';
        r.on('data', (d) => (body += d));
        r.on('end', () => resolve({ code: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(anonymous.code, 401);
    assert.equal(JSON.parse(anonymous.body).reason, 'Unauthorized');
  });
});
