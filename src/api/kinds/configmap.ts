/**
 * @module core/v1 ConfigMap: key validation (config keys, no key in both data and
 * binaryData, 1 MiB total), the `immutable` rule, and the NAME DATA AGE printer.
 */
import { type FieldError, forbidden, invalid, tooLong } from '../errors.js';
import { age } from '../print.js';
import type { KObject, ResourceDef } from '../types.js';
import { ageColumn, column, deepEqual, nameColumn } from './kind-util.js';
import { configMapKeyErrors } from './podspec.js';

/** core.MaxSecretSize: also the ConfigMap limit. */
export const maxDataSize = 1024 * 1024;

const immutableMessage = 'field is immutable when `immutable` is set';

export const configMapDef: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  singular: 'configmap',
  namespaced: true,
  shortNames: ['cm'],
  tracksGeneration: false,
  validate(obj) {
    const errs: FieldError[] = [];
    let size = 0;
    const data: Record<string, unknown> = obj.data ?? {};
    const binary: Record<string, unknown> = obj.binaryData ?? {};
    for (const [k, v] of Object.entries(data)) {
      for (const m of configMapKeyErrors(k)) errs.push(invalid(`data[${k}]`, k, m));
      if (Object.prototype.hasOwnProperty.call(binary, k)) errs.push(invalid(`data[${k}]`, k, 'duplicate of key present in binaryData'));
      size += Buffer.byteLength(String(v ?? ''));
    }
    for (const [k, v] of Object.entries(binary)) {
      for (const m of configMapKeyErrors(k)) errs.push(invalid(`binaryData[${k}]`, k, m));
      if (Object.prototype.hasOwnProperty.call(data, k)) errs.push(invalid(`binaryData[${k}]`, k, 'duplicate of key present in data'));
      size += Buffer.from(String(v ?? ''), 'base64').length;
    }
    if (size > maxDataSize) errs.push(tooLong('', '', maxDataSize));
    return errs;
  },
  validateUpdate(obj: KObject, old: KObject) {
    const errs: FieldError[] = [];
    if (old.immutable === true) {
      if (obj.immutable !== true) errs.push(forbidden('immutable', immutableMessage));
      if (!deepEqual(obj.data, old.data)) errs.push(forbidden('data', immutableMessage));
      if (!deepEqual(obj.binaryData, old.binaryData)) errs.push(forbidden('binaryData', immutableMessage));
    }
    return errs;
  },
  table: {
    columns: [
      nameColumn,
      column(
        'Data',
        'string',
        "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
      ),
      ageColumn,
    ],
    cells: (obj, now) => [
      obj.metadata?.name ?? '',
      Object.keys(obj.data ?? {}).length + Object.keys(obj.binaryData ?? {}).length,
      age(obj.metadata?.creationTimestamp, now),
    ],
  },
};
