import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lookupPatchMeta, plainJsonMeta } from '../../api/patch/patch-meta.js';
import { strategicMergePatch } from '../../api/patch/strategic-merge.js';
import { threeWayPatch } from './threeway.js';

const meta = lookupPatchMeta('apps', 'v1', 'Deployment');
const deploy = (containers: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: { replicas: 2, template: { spec: { containers } }, ...extra },
});

describe('three-way patch (Helm 3 upgrade)', () => {
  it('changes what the chart changed and keeps what was added by hand', () => {
    const original = deploy([{ name: 'api', image: 'api:1' }]);
    const modified = deploy([{ name: 'api', image: 'api:2' }]);
    const live = deploy([{ name: 'api', image: 'api:1' }, { name: 'sidecar', image: 'proxy' }]);
    (live.metadata as Record<string, unknown>).annotations = { 'by-hand': 'yes' };
    const patch = threeWayPatch(original, modified, live, meta);
    assert.deepEqual(patch, { spec: { template: { spec: { containers: [{ name: 'api', image: 'api:2' }] } } } });
    const result = strategicMergePatch(live, patch, meta) as typeof live & { metadata: { annotations: Record<string, string> } };
    assert.deepEqual(result.spec.template.spec.containers, [{ name: 'api', image: 'api:2' }, { name: 'sidecar', image: 'proxy' }]);
    assert.equal(result.metadata.annotations['by-hand'], 'yes');
  });

  it('keeps a hand-changed field the chart does not set, resets one it sets', () => {
    const original = deploy([{ name: 'api', image: 'api:1' }]);
    const live = deploy([{ name: 'api', image: 'api:1', imagePullPolicy: 'Always' }], { replicas: 7 });
    const patch = threeWayPatch(original, original, live, meta);
    assert.deepEqual(patch, { spec: { replicas: 2 } });
  });

  it('deletes fields and list items the chart dropped', () => {
    const original = deploy([{ name: 'api', image: 'api:1', args: ['--x'] }, { name: 'redis', image: 'redis' }], { minReadySeconds: 5 });
    const modified = deploy([{ name: 'api', image: 'api:1' }]);
    const patch = threeWayPatch(original, modified, original, meta);
    assert.deepEqual(patch, {
      spec: { minReadySeconds: null, template: { spec: { containers: [{ name: 'api', args: null }, { name: 'redis', $patch: 'delete' }] } } },
    });
    const result = strategicMergePatch(original, patch, meta) as Record<string, any>;
    assert.deepEqual(result.spec.template.spec.containers, [{ name: 'api', image: 'api:1' }]);
    assert.equal('minReadySeconds' in result.spec, false);
  });

  it('is empty when nothing changed, and replaces lists whole for kinds without merge metadata', () => {
    const o = { spec: { items: [1, 2], a: { b: 1 } } };
    assert.deepEqual(threeWayPatch(o, o, o, meta), {});
    assert.deepEqual(threeWayPatch(o, { spec: { items: [3], a: { b: 1 } } }, o, plainJsonMeta, false), { spec: { items: [3] } });
  });
});
