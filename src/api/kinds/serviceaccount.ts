/**
 * @module core/v1 ServiceAccount: identity (with the token subresource for discovery) and
 * the NAME SECRETS AGE printer. Names are DNS-1123 subdomains, checked with the metadata.
 */
import { age } from '../print.js';
import type { ResourceDef } from '../types.js';
import { ageColumn, column, nameColumn } from './kind-util.js';

export const serviceAccountDef: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  namespaced: true,
  shortNames: ['sa'],
  extraSubresources: ['token'],
  tracksGeneration: false,
  table: {
    columns: [
      nameColumn,
      column(
        'Secrets',
        'string',
        'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret',
      ),
      ageColumn,
    ],
    cells: (obj, now) => [
      obj.metadata?.name ?? '',
      Array.isArray(obj.secrets) ? obj.secrets.length : 0,
      age(obj.metadata?.creationTimestamp, now),
    ],
  },
};
