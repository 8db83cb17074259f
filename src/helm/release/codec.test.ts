import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { decodeRelease, encodeRelease, releaseKey, releaseToSecret, secretToRelease } from './codec.js';
import type { Release } from './types.js';

/**
 * A release Secret's data.release as the API returns it for a Secret Helm's Go code wrote:
 * produced with encoding/json, compress/gzip (BestCompression) and base64 twice, with
 * Helm's field names (zero times as "", last_run.phase "").
 */
const goWritten = 'SDRzSUFBQUFBQUFDLzNSUzIyN2JNQXo5RllON25CeGYwdDBFN0duN2dBMWQrOUNsS0JTWmliWEtraURSTG9MQy96NVFydE1NUTk4a2d1UzU4RHlEVXdPQ2hDZmNnd0RqRGg3a014eE1UUFRRWWJEK2hCMUlhT3YycXF5M1pkMzhhbXJaMW5KYmI1cDJlL1hoNDZmUFg5N1hyYXhyRUdEVjIxUE5tMU1kV3FUY256OUpSeFBJZUFjU2JzSXhxZzRMN1lmQVRTQWdrYUl4Z1lRempnRG5DYmwwYTVLaG9pY0tzcXBZMFN4QTl5b1NheHFRVktkSThmdEZkTVJFcFFvR0JFd1kwNEpaYjlvTjAxTEIzSjZMVTVzcjRiWFNiSnJjUnFmQXExUUkxbWlWZWM4Q3JOZVBJTjFvclFEQ0lWaVZHZjQrUTUrTFZacjA1cVFHeStJelBWQ3RIZSsrKytOTmUzdnFCdnZuN3FmL0N2TzlnRW5aa2RjOFE4UU05ODJQamtDMnM0Q2tleHpVaW5rd2xodjV3eDU0ZHpCSG5tT0V2VXJJN3pGYWtCQjhvbVBFSkt1cTI4TThDeGlVTXdkTUJCTEtzdHk1ZDhXMUg2TkdXYXgrVmYrejM3bFh2MlF4TlR2M2FGd25pMnVNazlHNGM2djljdWVLZ2syUXhSUHVkdzRFOU40Ly9tUE9FKzVMWWdZQ2VBdEkrT0g1emtGUmYzRzJDeHJjblNwYWpieVFzTkJZNW5GQ1I0d0VlZnY5UzJMajZOaVBSQ29TZGcrS2xpaXVvWHV0aEQ1YkIzemhKYlVQd1Z1alRiNHQ3UEhnSTVZc3A5UVJsekRjNThPdHNkbUtyREVGcFY5U2syRCtHd0FBLy84WWg1RXpoUU1BQUE9PQ==';

const sample = (): Release => ({
  name: 'api',
  namespace: 'default',
  version: 2,
  info: { first_deployed: '2024-01-01T00:00:00.000Z', last_deployed: '2024-01-02T00:00:00.000Z', deleted: '', description: 'Upgrade complete', status: 'deployed', notes: 'hi' },
  chart: { metadata: { name: 'rest-api', version: '0.1.0', appVersion: '1.0' }, lock: null, templates: [{ name: 'templates/a.yaml', data: Buffer.from('x').toString('base64') }], values: { a: 1 }, schema: null, files: [] },
  config: { database: { url: 'postgres://x' } },
  manifest: '---\n# Source: rest-api/templates/a.yaml\nkind: ConfigMap\n',
  hooks: [],
});

describe('release codec', () => {
  it('round-trips base64(gzip(JSON)) with gzip magic', () => {
    const enc = encodeRelease(sample());
    assert.deepEqual([...Buffer.from(enc, 'base64').subarray(0, 3)], [0x1f, 0x8b, 0x08]);
    assert.deepEqual(decodeRelease(enc), sample());
  });

  it('accepts uncompressed JSON, as Helm does', () => {
    assert.equal(decodeRelease(Buffer.from(JSON.stringify(sample())).toString('base64')).name, 'api');
  });

  it('writes the Secret Helm writes: name, type, labels, data base64 twice', () => {
    const s = releaseToSecret(sample());
    assert.equal(s.metadata?.name, 'sh.helm.release.v1.api.v2');
    assert.equal(releaseKey('api', 2), 'sh.helm.release.v1.api.v2');
    assert.equal(s.type, 'helm.sh/release.v1');
    assert.deepEqual(s.metadata?.labels, { name: 'api', owner: 'helm', status: 'deployed', version: '2' });
    const once = Buffer.from(s.data.release, 'base64').toString('utf8');
    assert.match(once, /^H4sI/, 'the inner layer is base64 of gzip');
    assert.deepEqual(secretToRelease(s), sample());
  });

  it('decodes a release Secret written by Helm (Go)', () => {
    const rel = secretToRelease({ metadata: { name: 'sh.helm.release.v1.web.v3' }, type: 'helm.sh/release.v1', data: { release: goWritten } });
    assert.equal(rel.name, 'web');
    assert.equal(rel.namespace, 'apps');
    assert.equal(rel.version, 3);
    assert.equal(rel.info.status, 'deployed');
    assert.equal(rel.info.deleted, '');
    assert.equal(rel.info.first_deployed, '2024-03-01T10:20:30.123456789+02:00');
    assert.equal(rel.chart.metadata?.appVersion, '1.1.0');
    assert.equal(Buffer.from(rel.chart.templates![0].data, 'base64').toString(), 'kind: Service\n');
    assert.deepEqual(rel.config, { database: { url: 'postgres://db' } });
    assert.equal(rel.hooks?.[0].last_run.phase, '');
    assert.deepEqual(rel.hooks?.[0].events, ['test']);
  });

  it('refuses data that is not a release', () => {
    assert.throws(() => secretToRelease({ metadata: { name: 'x' }, data: { release: Buffer.from(gzipSync('nope').toString('base64')).toString('base64') } }), /invalid release data/);
    assert.throws(() => secretToRelease({ metadata: { name: 'x' }, data: {} }), /holds no release/);
  });
});
