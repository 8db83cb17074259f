/** @module kubeconfig: writes the admin kubeconfig (clientcmd v1 Config) with embedded CA and credentials. */

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { writeAtomic } from './pki.js';

export interface KubeconfigOptions {
  /** e.g. https://127.0.0.1:6443 */
  server: string;
  caPem: string;
  /** Client certificate credentials (what k3s writes for its admin). */
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Bearer token credentials, used when no client certificate is given. */
  token?: string;
  clusterName?: string;
  user?: string;
  context?: string;
  /** Default namespace of the context; kubectl uses "default" when absent. */
  namespace?: string;
}

/** Renders a kubeconfig the way `kubectl config view --raw` lays one out. */
export function renderKubeconfig(opts: KubeconfigOptions): string {
  const clusterName = opts.clusterName ?? 'skiff';
  const user = opts.user ?? 'admin';
  const context = opts.context ?? 'skiff';
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  const credentials: Record<string, string> = {};
  if (opts.clientCertPem !== undefined && opts.clientKeyPem !== undefined) {
    credentials['client-certificate-data'] = b64(opts.clientCertPem);
    credentials['client-key-data'] = b64(opts.clientKeyPem);
  } else if (opts.token !== undefined) {
    credentials.token = opts.token;
  } else {
    throw new TypeError('kubeconfig needs a client certificate and key, or a token');
  }
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { 'certificate-authority-data': b64(opts.caPem), server: opts.server } }],
    contexts: [{ name: context, context: { cluster: clusterName, user, ...(opts.namespace ? { namespace: opts.namespace } : {}) } }],
    'current-context': context,
    preferences: {},
    users: [{ name: user, user: credentials }],
  };
  // Base64 blobs are long; folding them would still parse but reads badly.
  return stringify(config, { lineWidth: 0 });
}

/** Writes the kubeconfig with mode 0600 through a temporary file and rename, so readers never see half a file. */
export async function writeKubeconfig(path: string, opts: KubeconfigOptions): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  writeAtomic(path, renderKubeconfig(opts), 0o600);
}
