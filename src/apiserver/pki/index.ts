/** @module pki: the cluster CA and certificates, the admin kubeconfig, and request authentication. */

export * from './pki.js';
export * from './kubeconfig.js';
export * from './authn.js';
