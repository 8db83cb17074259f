import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ansic, formatTable, goTimeString } from './output.js';
import { sortManifests, manifestString } from './manifests.js';

describe('helm output', () => {
  it('pads every cell and separates with tabs, as uitable', () => {
    assert.equal(formatTable([['REVISION', 'DESCRIPTION'], [1, 'Release mock']]), 'REVISION\tDESCRIPTION \n1       \tRelease mock\n');
  });

  it('formats Go times (local time is UTC under TZ=UTC)', { skip: new Date().getTimezoneOffset() !== 0 ? 'local time zone is not UTC' : undefined }, () => {
    assert.equal(ansic('1977-09-02T22:04:05Z'), 'Fri Sep  2 22:04:05 1977');
    assert.match(goTimeString('2019-09-04T11:05:37.546547000Z'), /^2019-09-04 11:05:37\.546547 \+0000 \S+$/);
    assert.match(goTimeString('2019-09-04T11:05:37Z'), /^2019-09-04 11:05:37 \+0000/);
  });

  it('splits hooks from manifests and orders both by kind', () => {
    const sorted = sortManifests([
      { name: 'c/templates/a.yaml', content: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d }\n---\napiVersion: v1\nkind: Service\nmetadata: { name: s }\n' },
      { name: 'c/templates/_helpers.tpl', content: 'ignored' },
      { name: 'c/templates/NOTES.txt', content: 'notes' },
      { name: 'c/templates/empty.yaml', content: '# only a comment\n' },
      {
        name: 'c/templates/hook.yaml',
        content: 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: "3"\n    helm.sh/hook-delete-policy: hook-succeeded\n',
      },
      { name: 'c/templates/old.yaml', content: 'kind: Job\nmetadata:\n  name: x\n  annotations: { helm.sh/hook: crd-install }\n' },
    ]);
    assert.deepEqual(sorted.manifests.map((m) => m.kind), ['Service', 'Deployment']);
    assert.equal(sorted.hooks.length, 1);
    assert.deepEqual(sorted.hooks[0].events, ['pre-install', 'pre-upgrade']);
    assert.equal(sorted.hooks[0].weight, 3);
    assert.deepEqual(sorted.hooks[0].delete_policies, ['hook-succeeded']);
    assert.equal(manifestString(sorted.manifests), '---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: Service\nmetadata: { name: s }\n---\n# Source: c/templates/a.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d }\n');
  });
});
