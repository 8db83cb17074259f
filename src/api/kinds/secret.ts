/**
 * @module core/v1 Secret: type Opaque by default, `stringData` merged into `data` (base64)
 * on write and dropped, base64 checked as the JSON decoder does, key and per-type
 * validation, the immutability rules, the `type` field selector and NAME TYPE DATA AGE.
 */
import { ApiError, type FieldError, forbidden, invalid, required, tooLong } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import { ageColumn, column, deepEqual, nameColumn, validateImmutable } from './kind-util.js';
import { configMapKeyErrors } from './podspec.js';
import { maxDataSize } from './configmap.js';

export const serviceAccountNameAnnotation = 'kubernetes.io/service-account.name';

const immutableMessage = 'field is immutable when `immutable` is set';

/** The byte offset Go's strict base64 decoder reports for bad input, or -1 when valid. */
export function base64ErrorOffset(value: string): number {
  const s = value.replace(/[\r\n]/g, '');
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return bad;
  const pad = s.indexOf('=');
  // Padding may only complete the last quantum.
  if (pad >= 0 && s.slice(pad) !== '=' && s.slice(pad) !== '==') return pad;
  if (s.length % 4 !== 0) return s.length - (s.length % 4);
  return -1;
}

/** Merges stringData into data (stringData wins), as the v1 → internal conversion does. */
export function mergeStringData(secret: KObject): void {
  if (secret.stringData && typeof secret.stringData === 'object') {
    secret.data ??= {};
    for (const [k, v] of Object.entries(secret.stringData as Record<string, unknown>))
      secret.data[k] = Buffer.from(String(v ?? ''), 'utf8').toString('base64');
  }
  delete secret.stringData;
}

/** A Go json error text for a malformed docker config (close enough to encoding/json's). */
function jsonError(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch {
    const trimmed = text.trimStart();
    if (trimmed === '') return 'unexpected end of JSON input';
    return `invalid character '${trimmed[0]}' looking for beginning of value`;
  }
}

export const secretDef: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  tracksGeneration: false,
  defaults(obj) {
    obj.type ||= 'Opaque';
    for (const v of Object.values((obj.data ?? {}) as Record<string, unknown>)) {
      if (v === null) continue;
      const off = base64ErrorOffset(String(v));
      if (off >= 0) throw ApiError.badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${off}`);
    }
    mergeStringData(obj);
  },
  prepareForCreate(obj) {
    mergeStringData(obj);
  },
  prepareForUpdate(obj) {
    mergeStringData(obj);
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const data: Record<string, string> = obj.data ?? {};
    let size = 0;
    for (const [k, v] of Object.entries(data)) {
      for (const m of configMapKeyErrors(k)) errs.push(invalid(`data[${k}]`, k, m));
      size += Buffer.from(String(v ?? ''), 'base64').length;
    }
    if (size > maxDataSize) errs.push(tooLong('data', '', maxDataSize));
    const has = (k: string) => Object.prototype.hasOwnProperty.call(data, k);
    const decoded = (k: string) => Buffer.from(String(data[k] ?? ''), 'base64').toString('utf8');
    switch (obj.type) {
      case 'kubernetes.io/service-account-token':
        if (!obj.metadata?.annotations?.[serviceAccountNameAnnotation])
          errs.push(required(`metadata.annotations[${serviceAccountNameAnnotation}]`, ''));
        break;
      case 'kubernetes.io/dockercfg':
      case 'kubernetes.io/dockerconfigjson': {
        const key = obj.type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
        if (!has(key)) {
          errs.push(required(`data[${key}]`, ''));
          break;
        }
        const bad = jsonError(decoded(key));
        if (bad) errs.push(invalid(`data[${key}]`, '<secret contents redacted>', bad));
        break;
      }
      case 'kubernetes.io/basic-auth':
        if (!has('username') && !has('password')) {
          errs.push(required('data[username]', ''));
          errs.push(required('data[password]', ''));
        }
        break;
      case 'kubernetes.io/ssh-auth':
        if (!data['ssh-privatekey']) errs.push(required('data[ssh-privatekey]', ''));
        break;
      case 'kubernetes.io/tls':
        if (!has('tls.crt')) errs.push(required('data[tls.crt]', ''));
        if (!has('tls.key')) errs.push(required('data[tls.key]', ''));
        break;
    }
    return errs;
  },
  validateUpdate(obj: KObject, old: KObject) {
    const errs: FieldError[] = validateImmutable(obj.type, old.type, 'type');
    if (old.immutable === true) {
      if (obj.immutable !== true) errs.push(forbidden('immutable', immutableMessage));
      if (!deepEqual(obj.data, old.data)) errs.push(forbidden('data', immutableMessage));
    }
    return errs;
  },
  fieldSelectors: {
    type: (o) => o.type ?? '',
  },
  table: {
    columns: [
      nameColumn,
      column('Type', 'string', 'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types'),
      column(
        'Data',
        'string',
        "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
      ),
      ageColumn,
    ],
    cells: (obj, now) => [obj.metadata?.name ?? '', obj.type ?? '', Object.keys(obj.data ?? {}).length, age(obj.metadata?.creationTimestamp, now)],
  },
};
