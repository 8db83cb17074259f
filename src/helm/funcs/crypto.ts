/** @module sprig's crypto, random and uuid functions, synchronous: node:crypto keys, X.509 certificates DER-encoded as Go lays them out, bcryptjs, scrypt, AES-256-CBC. */
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomInt, randomUUID, scryptSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { isIP } from 'node:net';
import bcryptjs from 'bcryptjs';
import { GoError, goFunc, goTypeName, isGoStruct, type GoFunc, type GoObject, type GoParamType, type GoValue } from '../template/values.js';
import { formatValue, goTypeString } from '../template/fmt.js';
import { num } from './convert.js';

// ---- minimal DER
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n >>= 8;
  }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const octets = (b: Buffer) => tlv(0x04, b);
function oid(s: string): Buffer {
  const parts = s.split('.').map(Number);
  const out = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    let v = Math.floor(p / 128);
    while (v > 0) {
      chunk.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
function integer(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}
function bitString(b: Buffer, unused = 0): Buffer {
  return tlv(0x03, Buffer.from([unused]), b);
}
function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const p = (n: number) => String(n).padStart(2, '0');
  const body = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(String(y % 100).padStart(2, '0') + body));
  return tlv(0x18, Buffer.from(String(y).padStart(4, '0') + body));
}
/** A Name with one CommonName: PrintableString when the text allows it, else UTF8String (as Go encodes it). */
function name(cn: string): Buffer {
  if (cn === '') return seq();
  const tag = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(cn) ? 0x13 : 0x0c;
  return seq(set(seq(oid('2.5.4.3'), tlv(tag, Buffer.from(cn, 'utf8')))));
}
function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), octets(value));
}

/** The signature AlgorithmIdentifier and hash for a signing key, as Go picks them. */
function sigAlg(key: KeyObject): { alg: Buffer; hash: string | null } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { alg: seq(oid('1.2.840.113549.1.1.11'), tlv(0x05)), hash: 'sha256' };
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return { alg: seq(oid('1.2.840.10045.4.3.3')), hash: 'sha384' };
      if (curve === 'secp521r1') return { alg: seq(oid('1.2.840.10045.4.3.4')), hash: 'sha512' };
      return { alg: seq(oid('1.2.840.10045.4.3.2')), hash: 'sha256' };
    }
    case 'ed25519':
      return { alg: seq(oid('1.3.101.112')), hash: null };
    case 'dsa':
      return { alg: seq(oid('2.16.840.1.101.3.4.3.2')), hash: 'sha256' };
    default:
      throw new GoError('x509: only RSA, ECDSA and Ed25519 keys supported');
  }
}

interface CertTemplate {
  cn: string;
  ips: string[];
  dns: string[];
  days: number;
  isCA: boolean;
}

/** The Go certificate struct sprig returns ({{ $ca.Cert }}, {{ $ca.Key }}). */
function certificateValue(cert: string, key: string): GoObject {
  const o: GoObject = { Cert: cert, Key: key };
  Object.defineProperty(o, goTypeName, { value: 'sprig.certificate', enumerable: false });
  return o;
}

function pemEncode(type: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${type}-----\n${b64}\n-----END ${type}-----\n`;
}

function pemDecode(pem: string): { type: string; der: Buffer } | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m) return undefined;
  return { type: m[1]!, der: Buffer.from(m[2]!.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64') };
}

/** sprig's pemBlockForKey: PKCS#1 for RSA, SEC1 for EC, the DSA sequence, PKCS#8 for others. */
function keyPem(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return key.export({ type: 'pkcs1', format: 'pem' }) as string;
    case 'ec':
      return key.export({ type: 'sec1', format: 'pem' }) as string;
    case 'dsa': {
      const jwk = dsaParams(key);
      const der = seq(integer(0n), integer(jwk.p), integer(jwk.q), integer(jwk.g), integer(jwk.y), integer(jwk.x));
      return pemEncode('DSA PRIVATE KEY', der);
    }
    default:
      return key.export({ type: 'pkcs8', format: 'pem' }) as string;
  }
}

/** Reads p, q, g, x of a DSA key from its PKCS#8 DER and derives y = g^x mod p. */
function dsaParams(key: KeyObject): { p: bigint; q: bigint; g: bigint; x: bigint; y: bigint } {
  const der = key.export({ type: 'pkcs8', format: 'der' }) as Buffer;
  const ints: bigint[] = [];
  const walk = (b: Buffer) => {
    let i = 0;
    while (i < b.length) {
      const tag = b[i]!;
      let l = b[i + 1]!;
      let off = 2;
      if (l & 0x80) {
        const n = l & 0x7f;
        l = 0;
        for (let k = 0; k < n; k++) l = l * 256 + b[i + 2 + k]!;
        off += n;
      }
      const body = b.subarray(i + off, i + off + l);
      if (tag === 0x02) ints.push(BigInt('0x' + (body.toString('hex') || '0')));
      else if (tag === 0x30 || tag === 0x04) walk(body);
      i += off + l;
    }
  };
  walk(der);
  // version, p, q, g, x
  const [, p, q, g, x] = ints as [bigint, bigint, bigint, bigint, bigint];
  let y = 1n;
  let base = g % p;
  let e = x;
  while (e > 0n) {
    if (e & 1n) y = (y * base) % p;
    base = (base * base) % p;
    e >>= 1n;
  }
  return { p, q, g, x, y };
}

/** sprig's parsePrivateKeyPEM with its error texts. */
function parsePrivateKeyPem(pem: string): KeyObject {
  const block = pemDecode(pem);
  if (!block) throw new GoError('no PEM data in input');
  if (block.type === 'PRIVATE KEY') {
    try {
      return createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8' });
    } catch (e) {
      throw new GoError(`decoding PEM as PKCS#8: ${(e as Error).message}`);
    }
  }
  if (!block.type.endsWith(' PRIVATE KEY')) throw new GoError(`no private key data in PEM block of type ${block.type}`);
  const kind = block.type.slice(0, -12);
  try {
    switch (kind) {
      case 'RSA':
        return createPrivateKey({ key: block.der, format: 'der', type: 'pkcs1' });
      case 'EC':
        return createPrivateKey({ key: block.der, format: 'der', type: 'sec1' });
      case 'DSA':
        return createPrivateKey({ key: pem, format: 'pem' });
    }
  } catch (e) {
    throw new GoError(`parsing ${kind} private key from PEM: ${(e as Error).message}`);
  }
  throw new GoError(`invalid private key type ${block.type}`);
}

function stringList(v: GoValue, what: 'ip' | 'dns'): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new GoError('wrong type for value; expected []interface {}');
  return v.map((x) => {
    if (typeof x !== 'string') {
      throw new GoError(what === 'ip' ? `error parsing ip: ${formatValue(x)} is not a string` : `error processing alternate dns name: ${formatValue(x)} is not a string`);
    }
    if (what === 'ip' && isIP(x) === 0) throw new GoError(`error parsing ip: ${x}`);
    return x;
  });
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head, tail = ''] = ip.split('::');
  const parse = (s: string) => (s ? s.split(':') : []);
  let h = parse(head!);
  let t = tail !== undefined && ip.includes('::') ? parse(tail) : [];
  const v4 = (arr: string[]) => {
    const last = arr[arr.length - 1];
    if (last && last.includes('.')) {
      const b = last.split('.').map(Number);
      arr.splice(arr.length - 1, 1, ((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16));
    }
    return arr;
  };
  h = v4(h);
  t = v4(t);
  const fill = 8 - h.length - t.length;
  const groups = [...h, ...Array(ip.includes('::') ? fill : 0).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** x509.CreateCertificate for sprig's templates. */
function createCertificate(tpl: CertTemplate, subjectKey: KeyObject, issuer: { cn: Buffer; key: KeyObject; skid?: Buffer }, now: Date): string {
  const pub = createPublicKey(subjectKey);
  const spki = pub.export({ type: 'spki', format: 'der' }) as Buffer;
  const serial = BigInt('0x' + randomBytes(16).toString('hex'));
  const { alg, hash } = sigAlg(issuer.key);
  const exts: Buffer[] = [];
  exts.push(extension('2.5.29.15', true, tpl.isCA ? bitString(Buffer.from([0xa4]), 2) : bitString(Buffer.from([0xa0]), 5)));
  exts.push(extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))));
  exts.push(extension('2.5.29.19', true, tpl.isCA ? seq(tlv(0x01, Buffer.from([0xff]))) : seq()));
  let skid: Buffer | undefined;
  if (tpl.isCA) {
    // Go derives a CA's subject key id from the SHA-1 of the public key bits.
    skid = createHash('sha1').update(spkiKeyBits(spki)).digest();
    exts.push(extension('2.5.29.14', false, octets(skid)));
  }
  const subject = name(tpl.cn);
  if (issuer.skid && !issuer.cn.equals(subject)) exts.push(extension('2.5.29.35', false, seq(tlv(0x80, issuer.skid))));
  if (tpl.dns.length || tpl.ips.length) {
    const names = [...tpl.dns.map((d) => tlv(0x82, Buffer.from(d, 'utf8'))), ...tpl.ips.map((ip) => tlv(0x87, ipBytes(ip)))];
    exts.push(extension('2.5.29.17', false, seq(...names)));
  }
  const notAfter = new Date(now.getTime() + tpl.days * 86400000);
  const tbs = seq(tlv(0xa0, integer(2n)), integer(serial), alg, issuer.cn, seq(time(now), time(notAfter)), subject, spki, tlv(0xa3, seq(...exts)));
  const sig = sign(hash, tbs, issuer.key);
  return pemEncode('CERTIFICATE', seq(tbs, alg, bitString(sig)));
}

function spkiKeyBits(spki: Buffer): Buffer {
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING }: the bit string's bytes.
  let i = 0;
  const read = (): [number, number, number] => {
    const tag = spki[i]!;
    let l = spki[i + 1]!;
    let off = 2;
    if (l & 0x80) {
      const n = l & 0x7f;
      l = 0;
      for (let k = 0; k < n; k++) l = l * 256 + spki[i + 2 + k]!;
      off += n;
    }
    return [tag, off, l];
  };
  const [, o1] = read();
  i += o1;
  const [, o2, l2] = read();
  i += o2 + l2;
  const [, o3, l3] = read();
  return spki.subarray(i + o3 + 1, i + o3 + l3);
}

function genRsa(bits: number): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537 }).privateKey;
}

function certFuncs(now: () => Date): Record<string, GoFunc> {
  const ca = (cn: string, days: GoValue, key: KeyObject) => {
    const issuerName = name(cn);
    return certificateValue(createCertificate({ cn, ips: [], dns: [], days: num(days), isCA: true }, key, { cn: issuerName, key }, now()), keyPem(key));
  };
  const selfSigned = (cn: string, ips: GoValue, dns: GoValue, days: GoValue, key: KeyObject) => {
    const tpl = { cn, ips: stringList(ips, 'ip'), dns: stringList(dns, 'dns'), days: num(days), isCA: false };
    return certificateValue(createCertificate(tpl, key, { cn: name(cn), key }, now()), keyPem(key));
  };
  const signed = (cn: string, ips: GoValue, dns: GoValue, days: GoValue, caCert: GoValue, key: () => KeyObject) => {
    if (!isGoStruct(caCert) || caCert[goTypeName] !== 'sprig.certificate') throw new GoError(`wrong type for value; expected sprig.certificate; got ${goTypeString(caCert)}`);
    const block = pemDecode(String(caCert.Cert ?? ''));
    if (!block) throw new GoError('unable to decode certificate');
    let signer: X509Certificate;
    try {
      signer = new X509Certificate(block.der);
    } catch (e) {
      throw new GoError(`error parsing certificate: decodedSignerCert.Bytes: ${(e as Error).message}`);
    }
    let signerKey: KeyObject;
    try {
      signerKey = parsePrivateKeyPem(String(caCert.Key ?? ''));
    } catch (e) {
      throw new GoError(`error parsing private key: ${(e as Error).message}`);
    }
    const tpl = { cn, ips: stringList(ips, 'ip'), dns: stringList(dns, 'dns'), days: num(days), isCA: false };
    const k = key();
    const issuerCn = subjectDer(block.der);
    const skid = subjectKeyId(signer);
    return certificateValue(createCertificate(tpl, k, { cn: issuerCn, key: signerKey, skid }, now()), keyPem(k));
  };
  const withKey = (pem: string) => {
    try {
      return parsePrivateKeyPem(pem);
    } catch (e) {
      throw new GoError(`parsing private key: ${(e as Error).message}`);
    }
  };
  const C = 'sprig.certificate';
  // Checked by `signed` (see dates.ts TIME on named parameter types).
  const CERT: GoParamType = 'interface{}';
  const L = '[]interface{}';
  return {
    genCA: goFunc(['string', 'int'], (cn: string, days) => ca(cn, days, genRsa(2048)), { result: C }),
    genCAWithKey: goFunc(['string', 'int', 'string'], (cn: string, days, pem: string) => ca(cn, days, withKey(pem)), { result: C }),
    genSelfSignedCert: goFunc(['string', L, L, 'int'], (cn: string, ips, dns, days) => selfSigned(cn, ips, dns, days, genRsa(2048)), { result: C }),
    genSelfSignedCertWithKey: goFunc(['string', L, L, 'int', 'string'], (cn: string, ips, dns, days, pem: string) => selfSigned(cn, ips, dns, days, withKey(pem)), { result: C }),
    genSignedCert: goFunc(['string', L, L, 'int', CERT], (cn: string, ips, dns, days, caCert) => signed(cn, ips, dns, days, caCert, () => genRsa(2048)), { result: C }),
    genSignedCertWithKey: goFunc(['string', L, L, 'int', CERT, 'string'], (cn: string, ips, dns, days, caCert, pem: string) => signed(cn, ips, dns, days, caCert, () => withKey(pem)), { result: C }),
    buildCustomCert: goFunc(['string', 'string'], (b64cert: string, b64key: string) => {
      const cert = decodeB64Strict(b64cert, 'unable to decode base64 certificate');
      const key = decodeB64Strict(b64key, 'unable to decode base64 private key');
      const block = pemDecode(cert);
      if (!block) throw new GoError('unable to decode certificate');
      try {
        new X509Certificate(block.der);
      } catch (e) {
        throw new GoError(`error parsing certificate: decodedCert.Bytes: ${(e as Error).message}`);
      }
      try {
        parsePrivateKeyPem(key);
      } catch (e) {
        throw new GoError(`error parsing private key: ${(e as Error).message}`);
      }
      return certificateValue(cert, key);
    }, { result: C }),
  };
}

function decodeB64Strict(s: string, msg: string): string {
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(s) || s.replace(/[\r\n]/g, '').length % 4 !== 0) throw new GoError(msg);
  return Buffer.from(s, 'base64').toString('utf8');
}

/** The raw subject Name of a DER certificate (the issuer of certificates it signs). */
function subjectDer(der: Buffer): Buffer {
  const items = (b: Buffer): Buffer[] => {
    const out: Buffer[] = [];
    let i = 0;
    while (i < b.length) {
      let l = b[i + 1]!;
      let off = 2;
      if (l & 0x80) {
        const n = l & 0x7f;
        l = 0;
        for (let k = 0; k < n; k++) l = l * 256 + b[i + 2 + k]!;
        off += n;
      }
      out.push(b.subarray(i, i + off + l));
      i += off + l;
    }
    return out;
  };
  const content = (b: Buffer) => items(b)[0]!.subarray(b[1]! & 0x80 ? 2 + (b[1]! & 0x7f) : 2);
  const tbs = items(content(der))[0]!;
  const fields = items(content(tbs));
  // [0] version, serial, signature, issuer, validity, subject
  const start = fields[0]![0] === 0xa0 ? 1 : 0;
  return fields[start + 4]!;
}

function subjectKeyId(cert: X509Certificate): Buffer | undefined {
  const der = cert.raw;
  const idx = der.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0e]));
  if (idx < 0) return undefined;
  // OID, OCTET STRING { OCTET STRING keyid }
  let i = idx + 5;
  if (der[i] === 0x01) i += 3;
  const inner = i + 2;
  return der.subarray(inner + 2, inner + 2 + der[inner + 1]!);
}

// ---- derivePassword (Master Password algorithm)
const TEMPLATES: Record<string, string[]> = {
  maximum: ['anoxxxxxxxxxxxxxxxxx', 'axxxxxxxxxxxxxxxxxno'],
  long: ['CvcvnoCvcvCvcv', 'CvcvCvcvnoCvcv', 'CvcvCvcvCvcvno', 'CvccnoCvcvCvcv', 'CvccCvcvnoCvcv', 'CvccCvcvCvcvno', 'CvcvnoCvccCvcv', 'CvcvCvccnoCvcv', 'CvcvCvccCvcvno', 'CvcvnoCvcvCvcc', 'CvcvCvcvnoCvcc', 'CvcvCvcvCvccno', 'CvccnoCvccCvcv', 'CvccCvccnoCvcv', 'CvccCvccCvcvno', 'CvcvnoCvccCvcc', 'CvcvCvccnoCvcc', 'CvcvCvccCvccno', 'CvccnoCvcvCvcc', 'CvccCvcvnoCvcc', 'CvccCvcvCvccno'],
  medium: ['CvcnoCvc', 'CvcCvcno'],
  short: ['Cvcn'],
  basic: ['aaanaaan', 'aannaaan', 'aaannaaa'],
  pin: ['nnnn'],
};
const CHARS: Record<string, string> = {
  V: 'AEIOU',
  C: 'BCDFGHJKLMNPQRSTVWXYZ',
  v: 'aeiou',
  c: 'bcdfghjklmnpqrstvwxyz',
  A: 'AEIOUBCDFGHJKLMNPQRSTVWXYZ',
  a: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz',
  n: '0123456789',
  o: "@&%?,=[]_:-+*$#!'^~;()/.",
  x: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()',
};
function derivePassword(counter: number, type: string, password: string, user: string, site: string): string {
  const templates = TEMPLATES[type];
  if (!templates) return `cannot find password template ${type}`;
  const seed = 'com.lyndir.masterpassword';
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return b;
  };
  const userB = Buffer.from(user, 'utf8');
  const salt = Buffer.concat([Buffer.from(seed), u32(userB.length), userB]);
  const key = scryptSync(Buffer.from(password, 'utf8'), salt, 64, { N: 32768, r: 8, p: 2, maxmem: 256 * 1024 * 1024 });
  const siteB = Buffer.from(site, 'utf8');
  const mac = createHmac('sha256', key).update(Buffer.concat([Buffer.from(seed), u32(siteB.length), siteB, u32(counter)])).digest();
  const tpl = templates[mac[0]! % templates.length]!;
  let out = '';
  for (let i = 0; i < tpl.length; i++) {
    const chars = CHARS[tpl[i]!]!;
    out += chars[mac[i + 1]! % chars.length];
  }
  return out;
}

// ---- AES as sprig does it: key = password bytes in 32 zero bytes, random IV prepended, PKCS#7.
function aesKey(password: string): Buffer {
  const key = Buffer.alloc(32);
  Buffer.from(password, 'utf8').copy(key, 0, 0, 32);
  return key;
}
function encryptAES(password: string, plaintext: string): string {
  if (plaintext === '') return '';
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', aesKey(password), iv);
  return Buffer.concat([iv, c.update(plaintext, 'utf8'), c.final()]).toString('base64');
}
function decryptAES(password: string, crypt64: string): string {
  if (crypt64 === '') return '';
  if (!/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(crypt64) || crypt64.replace(/[\r\n]/g, '').length % 4 !== 0) throw new GoError(`illegal base64 data at input byte ${Math.max(0, crypt64.search(/[^A-Za-z0-9+/=\r\n]/))}`);
  const crypt = Buffer.from(crypt64, 'base64');
  if (crypt.length < 16) throw new GoError(`runtime error: slice bounds out of range [:16] with capacity ${crypt.length}`);
  const body = crypt.subarray(16);
  if (body.length % 16 !== 0) throw new GoError('crypto/cipher: input not full blocks');
  if (body.length === 0) throw new GoError('runtime error: index out of range [-1]');
  const d = createDecipheriv('aes-256-cbc', aesKey(password), crypt.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(body), d.final()]);
  const pad = plain[plain.length - 1]!;
  if (pad > plain.length) throw new GoError(`runtime error: slice bounds out of range [:${plain.length - pad}]`);
  return plain.subarray(0, plain.length - pad).toString('utf8');
}

export interface RandomSource {
  /** A uniform integer in [0, n). */
  int(n: number): number;
}

/** goutils.CryptoRandom for the sprig variants. */
function randomString(count: number, kind: 'alnum' | 'alpha' | 'ascii' | 'numeric', rnd: RandomSource): string {
  if (count === 0) return '';
  if (count < 0) return '';
  const set =
    kind === 'ascii'
      ? Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')
      : kind === 'numeric'
        ? '0123456789'
        : kind === 'alpha'
          ? 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
          : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < count; i++) out += set[rnd.int(set.length)];
  return out;
}

function lookupHost(host: string): string[] {
  if (isIP(host)) return [host];
  try {
    const out = execFileSync('getent', ['ahosts', host], { encoding: 'utf8', timeout: 5000 });
    return [...new Set(out.split('\n').map((l) => l.split(/\s+/)[0]!).filter((a) => a && isIP(a)))];
  } catch {
    return [];
  }
}

export function cryptoFuncs(opts: { now: () => Date; random?: () => number }): Record<string, GoFunc> {
  const rnd: RandomSource = opts.random ? { int: (n) => Math.floor(opts.random!() * n) } : { int: (n) => randomInt(n) };
  const S = 'string';
  const intn = (n: number) => {
    if (n <= 0) throw new GoError('invalid argument to Intn');
    return rnd.int(n);
  };
  return {
    ...certFuncs(opts.now),
    genPrivateKey: goFunc([S], (typ: string) => {
      switch (typ) {
        case '':
        case 'rsa':
          return keyPem(genRsa(4096));
        case 'dsa':
          return keyPem(generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).privateKey);
        case 'ecdsa':
          return keyPem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
        case 'ed25519':
          return keyPem(generateKeyPairSync('ed25519').privateKey);
        default:
          return 'Unknown type ' + typ;
      }
    }, { result: S }),
    derivePassword: goFunc(['uint32', S, S, S, S], (c, t: string, p: string, u: string, s: string) => derivePassword(num(c), t, p, u, s), { result: S }),
    bcrypt: goFunc([S], (s: string) => bcryptHash(s), { result: S }),
    htpasswd: goFunc([S, S], (u: string, p: string) => (u.includes(':') ? `invalid username: ${u}` : `${u}:${bcryptHash(p)}`), { result: S }),
    encryptAES: goFunc([S, S], (p: string, t: string) => encryptAES(p, t), { result: S }),
    decryptAES: goFunc([S, S], (p: string, t: string) => decryptAES(p, t), { result: S }),
    randBytes: goFunc(['int'], (n) => {
      const c = num(n);
      if (c < 0) throw new GoError('runtime error: makeslice: len out of range');
      const b = Buffer.alloc(c);
      for (let i = 0; i < c; i++) b[i] = rnd.int(256);
      return b.toString('base64');
    }, { result: S }),
    uuidv4: goFunc([], () => (opts.random ? uuidFrom(rnd) : randomUUID()), { result: S }),
    randAlphaNum: goFunc(['int'], (n) => randomString(num(n), 'alnum', rnd), { result: S }),
    randAlpha: goFunc(['int'], (n) => randomString(num(n), 'alpha', rnd), { result: S }),
    randAscii: goFunc(['int'], (n) => randomString(num(n), 'ascii', rnd), { result: S }),
    randNumeric: goFunc(['int'], (n) => randomString(num(n), 'numeric', rnd), { result: S }),
    randInt: goFunc(['int', 'int'], (min, max) => BigInt(intn(num(max) - num(min)) + num(min)), { result: 'int' }),
    shuffle: goFunc([S], (s: string) => {
      const r = [...s];
      for (let i = r.length - 1; i > 0; i--) {
        const j = rnd.int(i + 1);
        [r[i], r[j]] = [r[j]!, r[i]!];
      }
      return r.join('');
    }, { result: S }),
    getHostByName: goFunc([S], (h: string) => {
      const addrs = lookupHost(h);
      return addrs[intn(addrs.length)]!;
    }, { result: S }),
  };
}

/** golang.org/x/crypto/bcrypt at DefaultCost: the same hash, with Go's $2a$ prefix. */
function bcryptHash(s: string): string {
  return bcryptjs.hashSync(s, 10).replace(/^\$2b\$/, '$2a$');
}

function uuidFrom(rnd: RandomSource): string {
  const b = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) b[i] = rnd.int(256);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
