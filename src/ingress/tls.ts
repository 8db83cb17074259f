/**
 * @module TLS for the ingress controller: one secure context per kubernetes.io/tls Secret
 * named in an Ingress's spec.tls (chosen by SNI, cached per Secret resourceVersion), and
 * a self-signed default certificate for names no Ingress covers — ingress-nginx's "Fake
 * Certificate" role.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { webcrypto } from 'node:crypto';
import type { KObject } from '../api/types.js';

export interface KeyPair {
  cert: string;
  key: string;
}

function pem(label: string, der: ArrayBuffer): string {
  const body = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

/** A self-signed ECDSA P-256 certificate for `commonName`, valid for a year. */
export async function selfSignedCertificate(commonName: string, dnsNames: string[] = []): Promise<KeyPair> {
  // @peculiar/x509 resolves its injection container through reflect-metadata at load time.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = new Date();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
      name: `CN=${commonName}`,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + 365 * 86_400_000),
      signingAlgorithm: alg,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        ...(dnsNames.length ? [new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value })))] : []),
      ],
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  return { cert: cert.toString('pem'), key: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) };
}

/** Secure contexts of TLS Secrets, rebuilt only when a Secret changes. */
export class SecretContexts {
  private readonly cache = new Map<string, { rv: string; ctx?: SecureContext }>();

  constructor(private readonly onBadSecret: (key: string, reason: string) => void = () => {}) {}

  /** The context of a Secret holding tls.crt and tls.key; undefined when missing or unusable. */
  contextOf(secret: KObject | undefined): SecureContext | undefined {
    if (!secret) return undefined;
    const key = `${secret.metadata?.namespace}/${secret.metadata?.name}`;
    const rv = String(secret.metadata?.resourceVersion ?? '');
    const hit = this.cache.get(key);
    if (hit && hit.rv === rv) return hit.ctx;
    let ctx: SecureContext | undefined;
    const crt = secret.data?.['tls.crt'];
    const pk = secret.data?.['tls.key'];
    if (typeof crt !== 'string' || typeof pk !== 'string') this.onBadSecret(key, 'the Secret has no tls.crt and tls.key');
    else {
      try {
        ctx = createSecureContext({ cert: Buffer.from(crt, 'base64'), key: Buffer.from(pk, 'base64') });
      } catch (err) {
        this.onBadSecret(key, err instanceof Error ? err.message : String(err));
      }
    }
    this.cache.set(key, { rv, ctx });
    return ctx;
  }
}
