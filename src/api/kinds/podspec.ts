/**
 * @module PodSpec and PodTemplateSpec as kube-apiserver treats them: the SetDefaults_* of
 * k8s.io/api core/v1 (containers, probes, volumes, resource lists), ValidatePodSpec /
 * ValidatePodTemplateSpec with kube's messages, and the QoS class of a pod.
 */
import { type FieldError, duplicate, forbidden, invalid, notSupported, required } from '../errors.js';
import { canonicalizeResourceList, parseQuantity, tryParseQuantity, type Quantity } from '../quantity.js';
import type { KObject } from '../types.js';
import { isQualifiedName, isValidLabelValue, validateAnnotations, validateLabels } from '../validation.js';
import {
  canonicalizeQuantityField,
  goStringMap,
  inclusiveRangeError,
  nonNegativeMessage,
  notFound,
  validateDNS1123Label,
  validateDNS1123Subdomain,
  validateEnum,
  validateLabelSelector,
  validateNonNegative,
  validateQualifiedName,
  objectList,
} from './kind-util.js';
import { defaultPersistentVolumeClaimSpec, validatePersistentVolumeClaimSpec } from './persistentvolumeclaim.js';

// ---------------------------------------------------------------------------------------
// Defaults

export interface PodSpecDefaultOptions {
  /**
   * True for a Pod's own spec: SetDefaults_Pod then also applies (requests default to
   * limits, enableServiceLinks, hostNetwork host ports). Templates get only the spec defaults.
   */
  pod?: boolean;
}

const isObject = (v: unknown): v is KObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The tag ParseImageName finds: "latest" when there is neither tag nor digest, "" when unparseable. */
export function imageTag(image: string): string {
  if (!image || /\s/.test(image)) return '';
  let ref = image;
  let hasDigest = false;
  const at = ref.indexOf('@');
  if (at >= 0) {
    hasDigest = true;
    ref = ref.slice(0, at);
  }
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const repo = colon > slash ? ref.slice(0, colon) : ref;
  // Repository paths are lower case (the registry host may not be).
  const path = repo.includes('/') && /[.:]|^localhost$/.test(repo.split('/')[0]) ? repo.slice(repo.indexOf('/') + 1) : repo;
  if (!path || /[A-Z]/.test(path)) return '';
  if (colon > slash) return ref.slice(colon + 1);
  return hasDigest ? '' : 'latest';
}

/** SetDefaults_Container's pull policy: Always for ":latest" or no tag, else IfNotPresent. */
export function imagePullPolicyFor(image: string): 'Always' | 'IfNotPresent' {
  return imageTag(image) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultHTTPGet(h: KObject | undefined): void {
  if (!isObject(h)) return;
  h.path ||= '/';
  h.scheme ||= 'HTTP';
}

function defaultHandler(h: KObject | undefined): void {
  if (!isObject(h)) return;
  defaultHTTPGet(h.httpGet);
  if (isObject(h.grpc) && h.grpc.service === undefined) h.grpc.service = '';
}

/** SetDefaults_Probe. */
function defaultProbe(p: KObject | undefined): void {
  if (!isObject(p)) return;
  p.timeoutSeconds ||= 1;
  p.periodSeconds ||= 10;
  p.successThreshold ||= 1;
  p.failureThreshold ||= 3;
  defaultHandler(p);
}

function defaultObjectFieldSelector(fs: KObject | undefined): void {
  if (isObject(fs)) fs.apiVersion ||= 'v1';
}

/** A zero resource.Quantity still serializes, as "0". */
function defaultResourceFieldRef(r: KObject | undefined): void {
  if (!isObject(r)) return;
  if (r.divisor === undefined || r.divisor === null) r.divisor = '0';
  else canonicalizeQuantityField(r, 'divisor');
}

/** SetDefaults_Container (also used for ephemeral containers). */
export function defaultContainer(c: KObject): void {
  if (!isObject(c)) return;
  c.terminationMessagePath ||= '/dev/termination-log';
  c.terminationMessagePolicy ||= 'File';
  c.imagePullPolicy ||= imagePullPolicyFor(typeof c.image === 'string' ? c.image : '');
  for (const p of objectList(c.ports)) p.protocol ||= 'TCP';
  for (const e of objectList(c.env)) {
    defaultObjectFieldSelector(e.valueFrom?.fieldRef);
    defaultResourceFieldRef(e.valueFrom?.resourceFieldRef);
  }
  // ResourceRequirements is a struct, so kube always serializes it, as {} when empty.
  c.resources ??= {};
  if (isObject(c.resources)) {
    canonicalizeResourceList(c.resources.limits);
    canonicalizeResourceList(c.resources.requests);
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObject(c.lifecycle)) {
    defaultHandler(c.lifecycle.postStart);
    defaultHandler(c.lifecycle.preStop);
  }
}

const defaultMode = 0o644;

function defaultDownwardAPIItems(items: unknown): void {
  for (const it of objectList(items)) {
    defaultObjectFieldSelector(it.fieldRef);
    defaultResourceFieldRef(it.resourceFieldRef);
  }
}

/** The volume source fields of core/v1 VolumeSource. */
export const volumeSourceTypes = [
  'hostPath',
  'emptyDir',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'persistentVolumeClaim',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'downwardAPI',
  'fc',
  'azureFile',
  'configMap',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'projected',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'csi',
  'ephemeral',
  'image',
];

/** SetDefaults_Volume and the defaults of each volume source. */
export function defaultVolume(v: KObject): void {
  if (!isObject(v)) return;
  if (!volumeSourceTypes.some((t) => v[t] !== undefined && v[t] !== null)) v.emptyDir = {};
  if (isObject(v.secret)) v.secret.defaultMode ??= defaultMode;
  if (isObject(v.configMap)) v.configMap.defaultMode ??= defaultMode;
  if (isObject(v.downwardAPI)) {
    v.downwardAPI.defaultMode ??= defaultMode;
    defaultDownwardAPIItems(v.downwardAPI.items);
  }
  if (isObject(v.projected)) {
    v.projected.defaultMode ??= defaultMode;
    for (const src of objectList(v.projected.sources)) {
      if (isObject(src.serviceAccountToken)) src.serviceAccountToken.expirationSeconds ??= 3600;
      if (isObject(src.downwardAPI)) defaultDownwardAPIItems(src.downwardAPI.items);
    }
  }
  if (isObject(v.hostPath)) v.hostPath.type ??= '';
  if (isObject(v.emptyDir)) canonicalizeQuantityField(v.emptyDir, 'sizeLimit');
  if (isObject(v.iscsi)) v.iscsi.iscsiInterface ||= 'default';
  if (isObject(v.rbd)) {
    v.rbd.pool ||= 'rbd';
    v.rbd.user ||= 'admin';
    v.rbd.keyring ||= '/etc/ceph/keyring';
  }
  if (isObject(v.ephemeral?.volumeClaimTemplate)) defaultPersistentVolumeClaimSpec(v.ephemeral.volumeClaimTemplate.spec);
}

/**
 * SetDefaults_PodSpec and everything beneath it (containers, volumes, probes, resource
 * lists); with opts.pod also SetDefaults_Pod. Throws QuantityParseError on a bad quantity.
 */
export function defaultPodSpec(spec: KObject | undefined, opts: PodSpecDefaultOptions = {}): void {
  if (!isObject(spec)) return;
  if (opts.pod) {
    // Requests default to limits for a Pod (not for templates), before canonicalization.
    for (const c of [...objectList(spec.containers), ...objectList(spec.initContainers)]) {
      const limits = c.resources?.limits;
      if (!isObject(limits)) continue;
      c.resources.requests ??= {};
      for (const [k, v] of Object.entries(limits)) if (c.resources.requests[k] === undefined) c.resources.requests[k] = v;
    }
    spec.enableServiceLinks ??= true;
    if (spec.hostNetwork === true)
      for (const c of [...objectList(spec.containers), ...objectList(spec.initContainers)])
        for (const p of objectList(c.ports)) if (!p.hostPort) p.hostPort = p.containerPort;
  }
  spec.dnsPolicy ||= 'ClusterFirst';
  spec.restartPolicy ||= 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ||= 'default-scheduler';
  // serviceAccount is the deprecated alias the v1 conversion keeps equal to serviceAccountName.
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  for (const v of objectList(spec.volumes)) defaultVolume(v);
  for (const c of objectList(spec.containers)) defaultContainer(c);
  for (const c of objectList(spec.initContainers)) defaultContainer(c);
  for (const c of objectList(spec.ephemeralContainers)) defaultContainer(c);
  canonicalizeResourceList(spec.overhead);
}

/** Defaults of a PodTemplateSpec: `metadata.creationTimestamp: null`, as kube serializes it, and the spec defaults. */
export function defaultPodTemplate(template: KObject | undefined): void {
  if (!isObject(template)) return;
  template.metadata ??= {};
  const meta = template.metadata as KObject;
  if (meta.creationTimestamp === undefined) meta.creationTimestamp = null;
  template.spec ??= {};
  defaultPodSpec(template.spec, { pod: false });
}

// ---------------------------------------------------------------------------------------
// Validation

export interface PodSpecValidationOptions {
  /** Pod metadata (labels/annotations), for rules that read them. */
  podMeta?: KObject;
  /** Names volumeMounts may use besides spec.volumes: a StatefulSet's volumeClaimTemplates. */
  extraVolumeNames?: string[];
}

const restartPolicies = ['Always', 'OnFailure', 'Never'];
const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const pullPolicies = ['Always', 'IfNotPresent', 'Never'];
const terminationMessagePolicies = ['File', 'FallbackToLogsOnError'];
const portProtocols = ['SCTP', 'TCP', 'UDP'];
const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const tolerationOperators = ['Equal', 'Exists'];
const httpSchemes = ['HTTP', 'HTTPS'];
const hostPathTypes = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
const preemptionPolicies = ['Never', 'PreemptLowerPriority'];
const standardContainerResources = ['cpu', 'memory', 'ephemeral-storage'];
const envFieldPaths = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
const volumeFieldPaths = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const resourceFieldRefs = [
  'limits.cpu',
  'limits.ephemeral-storage',
  'limits.memory',
  'requests.cpu',
  'requests.ephemeral-storage',
  'requests.memory',
];
const maxInt32 = 2147483647;

/** IsValidPortNum. */
export function portNumErrors(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

/** IsValidPortName (IANA_SVC_NAME). */
export function portNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  else if (!/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errs.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** validatePortNumOrName for probes and lifecycle handlers. */
function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return portNumErrors(port).map((m) => invalid(path, port, m));
  if (typeof port === 'string') {
    if (port === '') return [required(path, '')];
    return portNameErrors(port).map((m) => invalid(path, port, m));
  }
  return [invalid(path, port ?? null, 'must contain at least one letter or number (a-z, 0-9)')];
}

/** IsConfigMapKey: keys of ConfigMap/Secret data and of projected items. */
export function configMapKeyErrors(key: string): string[] {
  const errs: string[] = [];
  if (key.length > 253) errs.push('must be no more than 253 characters');
  if (!/^[-._a-zA-Z0-9]+$/.test(key))
    errs.push(
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    );
  if (key === '.') errs.push("must not be '.'");
  else if (key === '..') errs.push("must not be '..'");
  else if (key.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

/** validateLocalDescendingPath: relative, no ".." element. */
function validateLocalDescendingPath(p: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (p.startsWith('/')) errs.push(invalid(path, p, 'must be a relative path'));
  if (p.split('/').includes('..')) errs.push(invalid(path, p, "must not contain '..'"));
  return errs;
}

function validateLocalNonReservedPath(p: string, path: string): FieldError[] {
  const errs = validateLocalDescendingPath(p, path);
  if (p.startsWith('..')) errs.push(invalid(path, p, "must not start with '..'"));
  return errs;
}

function validateFileMode(mode: unknown, path: string): FieldError[] {
  if (mode === undefined || mode === null) return [];
  if (typeof mode !== 'number' || mode < 0 || mode > 0o777)
    return [invalid(path, mode, 'must be a number between 0 and 0777 (octal), both inclusive')];
  return [];
}

function validateKeyToPaths(items: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objectList(items).forEach((it, i) => {
    const p = `${path}[${i}]`;
    if (!it.key) errs.push(required(`${p}.key`, ''));
    if (!it.path) errs.push(required(`${p}.path`, ''));
    else errs.push(...validateLocalNonReservedPath(it.path, `${p}.path`));
    errs.push(...validateFileMode(it.mode, `${p}.mode`));
  });
  return errs;
}

function validateObjectFieldSelector(fs: KObject, allowed: string[], path: string): FieldError[] {
  if (!fs.apiVersion) return [required(`${path}.apiVersion`, '')];
  if (!fs.fieldPath) return [required(`${path}.fieldPath`, '')];
  const m = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(fs.fieldPath);
  if (m) {
    // Subscripts of labels/annotations are allowed wherever field refs are (env included), as
    // kube's validateObjectFieldSelector does; only whole paths are checked against `allowed`.
    const key = m[1] === 'metadata.annotations' ? m[2].toLowerCase() : m[2];
    return isQualifiedName(key).map((msg) => invalid(path, key, msg));
  }
  if (!allowed.includes(fs.fieldPath)) return [notSupported(`${path}.fieldPath`, fs.fieldPath, allowed)];
  return [];
}

function validateResourceFieldRef(r: KObject, path: string, requireContainer: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (requireContainer && !r.containerName) errs.push(required(`${path}.containerName`, ''));
  if (!r.resource) errs.push(required(`${path}.resource`, ''));
  else if (!resourceFieldRefs.includes(r.resource) && !/^(limits|requests)\.hugepages-/.test(r.resource))
    errs.push(notSupported(`${path}.resource`, r.resource, resourceFieldRefs));
  return errs;
}

function validateDownwardAPIItems(items: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objectList(items).forEach((it, i) => {
    const p = `${path}[${i}]`;
    if (!it.path) errs.push(required(`${p}.path`, ''));
    else errs.push(...validateLocalNonReservedPath(it.path, `${p}.path`));
    errs.push(...validateFileMode(it.mode, `${p}.mode`));
    const n = (it.fieldRef ? 1 : 0) + (it.resourceFieldRef ? 1 : 0);
    if (it.fieldRef) errs.push(...validateObjectFieldSelector(it.fieldRef, volumeFieldPaths, `${p}.fieldRef`));
    if (it.resourceFieldRef) errs.push(...validateResourceFieldRef(it.resourceFieldRef, `${p}.resourceFieldRef`, true));
    if (n === 0) errs.push(required(p, 'one of fieldRef and resourceFieldRef is required'));
    else if (n > 1) errs.push(invalid(p, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  });
  return errs;
}

function validateVolumeSource(v: KObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const present = volumeSourceTypes.filter((t) => v[t] !== undefined && v[t] !== null);
  if (present.length === 0) return [required(path, 'must specify a volume type')];
  for (const t of present.slice(1)) errs.push(forbidden(`${path}.${t}`, 'may not specify more than 1 volume type'));
  const t = present[0];
  const s = isObject(v[t]) ? v[t] : {};
  const p = `${path}.${t}`;
  switch (t) {
    case 'hostPath':
      if (!s.path) errs.push(required(`${p}.path`, ''));
      else if (String(s.path).split('/').includes('..')) errs.push(invalid(`${p}.path`, s.path, "must not contain '..'"));
      if (s.type !== undefined && !hostPathTypes.includes(s.type)) errs.push(notSupported(`${p}.type`, s.type, hostPathTypes));
      break;
    case 'emptyDir':
      if (s.sizeLimit !== undefined) {
        const q = tryParseQuantity(s.sizeLimit);
        if (q && q.sign() < 0) errs.push(forbidden(`${p}.sizeLimit`, 'SizeLimit field must be a valid resource quantity'));
      }
      break;
    case 'secret':
      if (!s.secretName) errs.push(required(`${p}.secretName`, ''));
      errs.push(...validateFileMode(s.defaultMode, `${p}.defaultMode`));
      errs.push(...validateKeyToPaths(s.items, `${p}.items`));
      break;
    case 'configMap':
      if (!s.name) errs.push(required(`${p}.name`, ''));
      errs.push(...validateFileMode(s.defaultMode, `${p}.defaultMode`));
      errs.push(...validateKeyToPaths(s.items, `${p}.items`));
      break;
    case 'persistentVolumeClaim':
      if (!s.claimName) errs.push(required(`${p}.claimName`, ''));
      break;
    case 'nfs':
      if (!s.server) errs.push(required(`${p}.server`, ''));
      if (!s.path) errs.push(required(`${p}.path`, ''));
      else if (!String(s.path).startsWith('/')) errs.push(invalid(`${p}.path`, s.path, 'must be an absolute path'));
      break;
    case 'downwardAPI':
      errs.push(...validateFileMode(s.defaultMode, `${p}.defaultMode`));
      errs.push(...validateDownwardAPIItems(s.items, `${p}.items`));
      break;
    case 'projected':
      errs.push(...validateFileMode(s.defaultMode, `${p}.defaultMode`));
      objectList(s.sources).forEach((src, i) => {
        const sp = `${p}.sources[${i}]`;
        const kinds = ['secret', 'configMap', 'downwardAPI', 'serviceAccountToken', 'clusterTrustBundle'].filter((k) => src[k]);
        if (kinds.length > 1) for (const k of kinds.slice(1)) errs.push(forbidden(`${sp}.${k}`, 'may not specify more than 1 volume type per source'));
        if (src.secret) errs.push(...validateKeyToPaths(src.secret.items, `${sp}.secret.items`));
        if (src.configMap) errs.push(...validateKeyToPaths(src.configMap.items, `${sp}.configMap.items`));
        if (src.downwardAPI) errs.push(...validateDownwardAPIItems(src.downwardAPI.items, `${sp}.downwardAPI.items`));
        if (src.serviceAccountToken) {
          const tok = src.serviceAccountToken;
          if (typeof tok.expirationSeconds === 'number' && tok.expirationSeconds < 600)
            errs.push(invalid(`${sp}.serviceAccountToken.expirationSeconds`, tok.expirationSeconds, 'may not specify a duration less than 10 minutes'));
          if (!tok.path) errs.push(required(`${sp}.serviceAccountToken.path`, ''));
        }
      });
      break;
    case 'csi':
      if (!s.driver) errs.push(required(`${p}.driver`, ''));
      break;
    case 'ephemeral':
      if (!isObject(s.volumeClaimTemplate)) errs.push(required(`${p}.volumeClaimTemplate`, ''));
      else errs.push(...validatePersistentVolumeClaimSpec(s.volumeClaimTemplate.spec, `${p}.volumeClaimTemplate.spec`));
      break;
    case 'image':
      if (!s.reference) errs.push(required(`${p}.reference`, ''));
      break;
  }
  return errs;
}

/** ValidateVolumes: names (DNS-1123 labels, unique) and each source. Returns the known volume names. */
function validateVolumes(volumes: unknown, path: string): { names: Set<string>; errs: FieldError[] } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  objectList(volumes).forEach((v, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateVolumeSource(v, p));
    if (!v.name) errs.push(required(`${p}.name`, ''));
    else errs.push(...validateDNS1123Label(v.name, `${p}.name`));
    if (names.has(v.name)) errs.push(duplicate(`${p}.name`, v.name));
    else if (v.name) names.add(v.name);
  });
  return { names, errs };
}

function validatePorts(ports: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  objectList(ports).forEach((port, i) => {
    const p = `${path}[${i}]`;
    if (port.name) {
      const msgs = portNameErrors(port.name);
      if (msgs.length) for (const m of msgs) errs.push(invalid(`${p}.name`, port.name, m));
      else if (names.has(port.name)) errs.push(duplicate(`${p}.name`, port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(`${p}.containerPort`, ''));
    else for (const m of portNumErrors(port.containerPort)) errs.push(invalid(`${p}.containerPort`, port.containerPort, m));
    if (port.hostPort) for (const m of portNumErrors(port.hostPort)) errs.push(invalid(`${p}.hostPort`, port.hostPort, m));
    errs.push(...validateEnum(port.protocol, portProtocols, `${p}.protocol`));
  });
  return errs;
}

/** IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation is on by default since 1.32). */
function envVarNameErrors(name: string): string[] {
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c < 32 || c > 126 || ch === '=') return ["a valid environment variable name must consist only of printable ASCII characters other than '='"];
  }
  return [];
}

function validateKeySelector(ref: KObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!ref.name) errs.push(required(`${path}.name`, ''));
  else errs.push(...validateDNS1123Subdomain(ref.name, `${path}.name`));
  if (!ref.key) errs.push(required(`${path}.key`, ''));
  else for (const m of configMapKeyErrors(ref.key)) errs.push(invalid(`${path}.key`, ref.key, m));
  return errs;
}

function validateEnv(env: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objectList(env).forEach((e, i) => {
    const p = `${path}[${i}]`;
    if (!e.name) errs.push(required(`${p}.name`, ''));
    else for (const m of envVarNameErrors(e.name)) errs.push(invalid(`${p}.name`, e.name, m));
    const vf = e.valueFrom;
    if (!isObject(vf)) return;
    const vp = `${p}.valueFrom`;
    let n = 0;
    if (vf.fieldRef) {
      n++;
      errs.push(...validateObjectFieldSelector(vf.fieldRef, envFieldPaths, `${vp}.fieldRef`));
    }
    if (vf.resourceFieldRef) {
      n++;
      errs.push(...validateResourceFieldRef(vf.resourceFieldRef, `${vp}.resourceFieldRef`, false));
    }
    if (vf.configMapKeyRef) {
      n++;
      errs.push(...validateKeySelector(vf.configMapKeyRef, `${vp}.configMapKeyRef`));
    }
    if (vf.secretKeyRef) {
      n++;
      errs.push(...validateKeySelector(vf.secretKeyRef, `${vp}.secretKeyRef`));
    }
    if (n === 0) errs.push(invalid(vp, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (e.value) errs.push(invalid(vp, '', 'may not be specified when `value` is not empty'));
    else if (n > 1) errs.push(invalid(vp, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateEnvFrom(envFrom: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objectList(envFrom).forEach((e, i) => {
    const p = `${path}[${i}]`;
    if (e.prefix) for (const m of envVarNameErrors(e.prefix)) errs.push(invalid(`${p}.prefix`, e.prefix, m));
    const n = (e.configMapRef ? 1 : 0) + (e.secretRef ? 1 : 0);
    if (e.configMapRef) {
      if (!e.configMapRef.name) errs.push(required(`${p}.configMapRef.name`, ''));
      else errs.push(...validateDNS1123Subdomain(e.configMapRef.name, `${p}.configMapRef.name`));
    }
    if (e.secretRef) {
      if (!e.secretRef.name) errs.push(required(`${p}.secretRef.name`, ''));
      else errs.push(...validateDNS1123Subdomain(e.secretRef.name, `${p}.secretRef.name`));
    }
    if (n === 0) errs.push(invalid(p, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) errs.push(invalid(p, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

function validateVolumeMounts(mounts: unknown, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  objectList(mounts).forEach((m, i) => {
    const p = `${path}[${i}]`;
    if (!m.name) errs.push(required(`${p}.name`, ''));
    if (!volumes.has(m.name)) errs.push(notFound(`${p}.name`, m.name ?? ''));
    if (!m.mountPath) errs.push(required(`${p}.mountPath`, ''));
    if (mountPoints.has(m.mountPath)) errs.push(invalid(`${p}.mountPath`, m.mountPath, 'must be unique'));
    if (m.mountPath) mountPoints.add(m.mountPath);
    if (m.subPath) errs.push(...validateLocalDescendingPath(m.subPath, `${p}.subPath`));
    if (m.subPath && m.subPathExpr) errs.push(invalid(`${p}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
    if (m.mountPropagation !== undefined)
      errs.push(...validateEnum(m.mountPropagation, ['Bidirectional', 'HostToContainer', 'None'], `${p}.mountPropagation`));
  });
  return errs;
}

function isExtendedResourceName(name: string): boolean {
  if (!name.includes('/') || name.startsWith('kubernetes.io/') || name.includes('.kubernetes.io/')) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}

function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = validateQualifiedName(name, path);
  if (!name.includes('/')) {
    if (!standardContainerResources.includes(name) && !name.startsWith('hugepages-'))
      errs.push(invalid(path, name, 'must be a standard resource for containers'));
  } else if (!name.startsWith('kubernetes.io/') && !isExtendedResourceName(name)) {
    errs.push(invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** Extended and hugepage resources cannot be overcommitted: their requests must equal their limits. */
function overcommitAllowed(name: string): boolean {
  return standardContainerResources.includes(name) || (!name.startsWith('hugepages-') && !name.includes('/'));
}

/** ValidateResourceRequirements for containers. */
export function validateResourceRequirements(res: KObject | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObject(res)) return errs;
  const limPath = `${path}.limits`;
  const reqPath = `${path}.requests`;
  const limits: Record<string, Quantity> = {};
  for (const [name, v] of Object.entries(isObject(res.limits) ? res.limits : {})) {
    const p = `${limPath}[${name}]`;
    errs.push(...validateContainerResourceName(name, p));
    const q = tryParseQuantity(v);
    if (!q) continue;
    limits[name] = q;
    if (q.sign() < 0) errs.push(invalid(p, q.toString(), nonNegativeMessage));
    if (name.includes('/') && q.milliValue() % 1000 !== 0) errs.push(invalid(p, q.toString(), 'must be an integer'));
  }
  for (const [name, v] of Object.entries(isObject(res.requests) ? res.requests : {})) {
    const p = `${reqPath}[${name}]`;
    errs.push(...validateContainerResourceName(name, p));
    const q = tryParseQuantity(v);
    if (!q) continue;
    if (q.sign() < 0) errs.push(invalid(p, q.toString(), nonNegativeMessage));
    if (name.includes('/') && q.milliValue() % 1000 !== 0) errs.push(invalid(p, q.toString(), 'must be an integer'));
    const lim = limits[name];
    if (lim) {
      if (q.cmp(lim) !== 0 && !overcommitAllowed(name))
        errs.push(invalid(reqPath, q.toString(), `must be equal to ${name} limit of ${lim.toString()}`));
      else if (q.cmp(lim) > 0) errs.push(invalid(reqPath, q.toString(), `must be less than or equal to ${name} limit of ${lim.toString()}`));
    } else if (!overcommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
  }
  return errs;
}

function validateHandler(h: KObject, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const types = ['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'].filter((t) => h[t] !== undefined && h[t] !== null);
  if (types.length === 0) return [required(path, 'must specify a handler type')];
  for (const t of types.slice(1)) errs.push(forbidden(`${path}.${t}`, 'may not specify more than 1 handler type'));
  const t = types[0];
  const s = isObject(h[t]) ? h[t] : {};
  const p = `${path}.${t}`;
  switch (t) {
    case 'exec':
      if (!Array.isArray(s.command) || s.command.length === 0) errs.push(required(`${p}.command`, ''));
      break;
    case 'httpGet':
      if (!s.path) errs.push(required(`${p}.path`, ''));
      errs.push(...validatePortNumOrName(s.port, `${p}.port`));
      if (s.scheme !== undefined && !httpSchemes.includes(s.scheme)) errs.push(notSupported(`${p}.scheme`, s.scheme, httpSchemes));
      objectList(s.httpHeaders).forEach((hh, i) => {
        if (!/^[-!#$%&'*+.^_`|~0-9A-Za-z]+$/.test(hh.name ?? ''))
          errs.push(invalid(`${p}.httpHeaders[${i}].name`, hh.name ?? '', "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"));
      });
      break;
    case 'tcpSocket':
      errs.push(...validatePortNumOrName(s.port, `${p}.port`));
      break;
    case 'grpc':
      for (const m of portNumErrors(s.port)) errs.push(invalid(`${p}.port`, s.port ?? 0, m));
      break;
    case 'sleep':
      if (typeof s.seconds !== 'number' || s.seconds < 0) errs.push(invalid(`${p}.seconds`, s.seconds ?? 0, nonNegativeMessage));
      break;
  }
  return errs;
}

function validateProbe(probe: unknown, path: string, kind: 'liveness' | 'readiness' | 'startup'): FieldError[] {
  if (!isObject(probe)) return [];
  const errs = validateHandler(probe, path);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'])
    errs.push(...validateNonNegative(probe[f], `${path}.${f}`));
  if (typeof probe.terminationGracePeriodSeconds === 'number' && probe.terminationGracePeriodSeconds <= 0)
    errs.push(invalid(`${path}.terminationGracePeriodSeconds`, probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  if (kind === 'readiness' && probe.terminationGracePeriodSeconds !== undefined)
    errs.push(invalid(`${path}.terminationGracePeriodSeconds`, probe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
  if (kind !== 'readiness' && probe.successThreshold !== undefined && probe.successThreshold !== 1)
    errs.push(invalid(`${path}.successThreshold`, probe.successThreshold, 'must be 1'));
  return errs;
}

function validateLifecycle(lc: unknown, path: string): FieldError[] {
  if (!isObject(lc)) return [];
  const errs: FieldError[] = [];
  if (lc.postStart) errs.push(...validateHandler(lc.postStart, `${path}.postStart`));
  if (lc.preStop) errs.push(...validateHandler(lc.preStop, `${path}.preStop`));
  return errs;
}

function validateIDs(sc: unknown, path: string): FieldError[] {
  if (!isObject(sc)) return [];
  const errs: FieldError[] = [];
  for (const f of ['runAsUser', 'runAsGroup', 'fsGroup']) {
    const v = sc[f];
    if (v !== undefined && (typeof v !== 'number' || v < 0 || v > maxInt32)) errs.push(invalid(`${path}.${f}`, v, inclusiveRangeError(0, maxInt32)));
  }
  return errs;
}

/** validateContainerCommon: what regular, init and ephemeral containers share. */
function validateContainerCommon(c: KObject, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(required(`${path}.name`, ''));
  else errs.push(...validateDNS1123Label(c.name, `${path}.name`));
  if (!c.image) errs.push(required(`${path}.image`, ''));
  errs.push(...validateEnum(c.terminationMessagePolicy, terminationMessagePolicies, `${path}.terminationMessagePolicy`));
  errs.push(...validatePorts(c.ports, `${path}.ports`));
  errs.push(...validateEnv(c.env, `${path}.env`));
  errs.push(...validateEnvFrom(c.envFrom, `${path}.envFrom`));
  errs.push(...validateVolumeMounts(c.volumeMounts, volumes, `${path}.volumeMounts`));
  errs.push(...validateEnum(c.imagePullPolicy, pullPolicies, `${path}.imagePullPolicy`));
  errs.push(...validateResourceRequirements(c.resources, `${path}.resources`));
  errs.push(...validateIDs(c.securityContext, `${path}.securityContext`));
  return errs;
}

/** checkHostPortConflicts: a hostIP/protocol/hostPort may be claimed once. */
function hostPortConflicts(containers: KObject[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  for (const c of containers)
    for (const p of objectList(c.ports)) {
      if (!p.hostPort) continue;
      const key = `${p.hostIP ?? ''}/${p.protocol ?? ''}/${p.hostPort}`;
      if (seen.has(key)) errs.push(duplicate(path, key));
      seen.add(key);
    }
  return errs;
}

/** An init container with restartPolicy Always is a sidecar. */
export function isRestartableInitContainer(c: KObject | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

function validateContainers(containers: unknown, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const cs = objectList(containers);
  if (cs.length === 0) errs.push(required(path, ''));
  const names = new Set<string>();
  cs.forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, p));
    if (names.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
    else names.add(c.name);
    errs.push(...validateLifecycle(c.lifecycle, `${p}.lifecycle`));
    errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`, 'liveness'));
    errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`, 'readiness'));
    errs.push(...validateProbe(c.startupProbe, `${p}.startupProbe`, 'startup'));
    if (c.restartPolicy !== undefined) errs.push(forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
  });
  errs.push(...hostPortConflicts(cs, path));
  return errs;
}

function validateInitContainers(inits: unknown, containers: unknown, volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(objectList(containers).map((c) => c.name));
  objectList(inits).forEach((c, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, p));
    if (c.restartPolicy !== undefined && c.restartPolicy !== 'Always') errs.push(notSupported(`${p}.restartPolicy`, c.restartPolicy, ['Always']));
    if (names.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
    else if (c.name) names.add(c.name);
    errs.push(...hostPortConflicts([c], path));
    if (isRestartableInitContainer(c)) {
      errs.push(...validateLifecycle(c.lifecycle, `${p}.lifecycle`));
      errs.push(...validateProbe(c.livenessProbe, `${p}.livenessProbe`, 'liveness'));
      errs.push(...validateProbe(c.readinessProbe, `${p}.readinessProbe`, 'readiness'));
      errs.push(...validateProbe(c.startupProbe, `${p}.startupProbe`, 'startup'));
    } else {
      const why = 'may not be set for init containers without restartPolicy=Always';
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) if (c[f] !== undefined) errs.push(forbidden(`${p}.${f}`, why));
    }
  });
  return errs;
}

/** ValidateTolerations. */
export function validateTolerations(tolerations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objectList(tolerations).forEach((t, i) => {
    const p = `${path}[${i}]`;
    if (t.key) errs.push(...validateQualifiedName(t.key, `${p}.key`));
    if (!t.key && t.operator !== 'Exists')
      errs.push(invalid(`${p}.operator`, t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute')
      errs.push(invalid(`${p}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    switch (t.operator ?? '') {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(String(t.value ?? ''));
        if (msgs.length) errs.push(invalid(`${p}.operator`, t.value ?? '', msgs.join(';')));
        break;
      }
      case 'Exists':
        if (t.value) errs.push(invalid(`${p}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(`${p}.operator`, t.operator, tolerationOperators));
    }
    if (t.effect) errs.push(...validateEnum(t.effect, taintEffects, `${p}.effect`));
  });
  return errs;
}

function validateTopologySpread(constraints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  objectList(constraints).forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (typeof c.maxSkew !== 'number' || c.maxSkew <= 0) errs.push(invalid(`${p}.maxSkew`, c.maxSkew ?? 0, 'must be greater than zero'));
    if (!c.topologyKey) errs.push(required(`${p}.topologyKey`, 'can not be empty'));
    else errs.push(...validateQualifiedName(c.topologyKey, `${p}.topologyKey`));
    if (!c.whenUnsatisfiable) errs.push(required(`${p}.whenUnsatisfiable`, ''));
    else errs.push(...validateEnum(c.whenUnsatisfiable, ['DoNotSchedule', 'ScheduleAnyway'], `${p}.whenUnsatisfiable`));
    const key = `${c.topologyKey}/${c.whenUnsatisfiable}`;
    if (seen.has(key)) errs.push(duplicate(`${p}.{topologyKey, whenUnsatisfiable}`, `{${c.topologyKey}, ${c.whenUnsatisfiable}}`));
    seen.add(key);
    if (c.labelSelector) errs.push(...validateLabelSelector(c.labelSelector, `${p}.labelSelector`));
  });
  return errs;
}

function validateAffinity(aff: unknown, path: string): FieldError[] {
  if (!isObject(aff)) return [];
  const errs: FieldError[] = [];
  const req = aff.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (isObject(req) && objectList(req.nodeSelectorTerms).length === 0)
    errs.push(required(`${path}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`, 'must have at least one node selector term'));
  const ops = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'];
  if (isObject(req))
    objectList(req.nodeSelectorTerms).forEach((term, i) =>
      objectList(term.matchExpressions).forEach((e, j) => {
        const p = `${path}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[${i}].matchExpressions[${j}]`;
        if (!ops.includes(e.operator)) errs.push(invalid(`${p}.operator`, e.operator ?? '', 'not a valid selector operator'));
        errs.push(...validateQualifiedName(String(e.key ?? ''), `${p}.key`));
      }),
    );
  for (const kind of ['podAffinity', 'podAntiAffinity'])
    objectList(aff[kind]?.requiredDuringSchedulingIgnoredDuringExecution).forEach((term, i) => {
      const p = `${path}.${kind}.requiredDuringSchedulingIgnoredDuringExecution[${i}]`;
      if (!term.topologyKey) errs.push(required(`${p}.topologyKey`, 'can not be empty'));
      if (term.labelSelector) errs.push(...validateLabelSelector(term.labelSelector, `${p}.labelSelector`));
    });
  return errs;
}

/** ValidatePodSpec: the rules every pod and pod template obeys. `path` is e.g. "spec" or "spec.template.spec". */
export function validatePodSpec(spec: KObject | undefined, path: string, opts: PodSpecValidationOptions = {}): FieldError[] {
  const s = isObject(spec) ? spec : {};
  const errs: FieldError[] = [];
  const { names: volumes, errs: volErrs } = validateVolumes(s.volumes, `${path}.volumes`);
  for (const n of opts.extraVolumeNames ?? []) volumes.add(n);
  errs.push(...volErrs);
  errs.push(...validateContainers(s.containers, volumes, `${path}.containers`));
  errs.push(...validateInitContainers(s.initContainers, s.containers, volumes, `${path}.initContainers`));
  if (s.hostNetwork === true)
    for (const [field, cs] of [
      ['containers', s.containers],
      ['initContainers', s.initContainers],
    ] as const)
      objectList(cs).forEach((c, i) =>
        objectList(c.ports).forEach((port, j) => {
          if (port.hostPort !== undefined && port.hostPort !== port.containerPort)
            errs.push(invalid(`${path}.${field}[${i}].ports[${j}].hostPort`, port.hostPort, 'must match `containerPort` when `hostNetwork` is true'));
        }),
      );
  errs.push(...validateEnum(s.restartPolicy, restartPolicies, `${path}.restartPolicy`));
  errs.push(...validateEnum(s.dnsPolicy, dnsPolicies, `${path}.dnsPolicy`));
  errs.push(...validateLabels(s.nodeSelector, `${path}.nodeSelector`));
  errs.push(...validateIDs(s.securityContext, `${path}.securityContext`));
  errs.push(...validateAffinity(s.affinity, `${path}.affinity`));
  if (s.dnsPolicy === 'None' && !isObject(s.dnsConfig))
    errs.push(required(`${path}.dnsConfig`, "must provide `dnsConfig` when `dnsPolicy` is None"));
  objectList(s.readinessGates).forEach((g, i) => errs.push(...validateQualifiedName(String(g.conditionType ?? ''), `${path}.readinessGates[${i}].conditionType`)));
  const gates = new Set<string>();
  objectList(s.schedulingGates).forEach((g, i) => {
    const p = `${path}.schedulingGates[${i}].name`;
    errs.push(...validateQualifiedName(String(g.name ?? ''), p));
    if (gates.has(g.name)) errs.push(duplicate(p, g.name));
    gates.add(g.name);
  });
  errs.push(...validateTopologySpread(s.topologySpreadConstraints, `${path}.topologySpreadConstraints`));
  if (s.serviceAccountName) errs.push(...validateDNS1123Subdomain(s.serviceAccountName, `${path}.serviceAccountName`));
  if (s.nodeName) errs.push(...validateDNS1123Subdomain(s.nodeName, `${path}.nodeName`));
  if (s.activeDeadlineSeconds !== undefined && s.activeDeadlineSeconds !== null) {
    const v = s.activeDeadlineSeconds;
    if (typeof v !== 'number' || v < 1 || v > maxInt32) errs.push(invalid(`${path}.activeDeadlineSeconds`, v, inclusiveRangeError(1, maxInt32)));
  }
  if (s.hostname) errs.push(...validateDNS1123Label(s.hostname, `${path}.hostname`));
  if (s.subdomain) errs.push(...validateDNS1123Label(s.subdomain, `${path}.subdomain`));
  errs.push(...validateTolerations(s.tolerations, `${path}.tolerations`));
  if (s.priorityClassName) errs.push(...validateDNS1123Subdomain(s.priorityClassName, `${path}.priorityClassName`));
  if (s.preemptionPolicy !== undefined) errs.push(...validateEnum(s.preemptionPolicy, preemptionPolicies, `${path}.preemptionPolicy`));
  if (s.runtimeClassName) errs.push(...validateDNS1123Subdomain(s.runtimeClassName, `${path}.runtimeClassName`));
  if (s.os !== undefined && isObject(s.os)) errs.push(...validateEnum(s.os.name, ['linux', 'windows'], `${path}.os.name`));
  return errs;
}

/**
 * ValidatePodTemplateSpec: template labels/annotations, the pod spec, and no ephemeral
 * containers. `path` is the template's path, e.g. "spec.template".
 */
export function validatePodTemplate(template: KObject | undefined, path: string, opts: PodSpecValidationOptions = {}): FieldError[] {
  if (!isObject(template)) return [required(path, '')];
  const errs: FieldError[] = [];
  errs.push(...validateLabels(template.metadata?.labels, `${path}.metadata.labels`));
  errs.push(...validateAnnotations(template.metadata?.annotations, `${path}.metadata.annotations`));
  errs.push(...validatePodSpec(template.spec, `${path}.spec`, { ...opts, podMeta: template.metadata }));
  if (objectList(template.spec?.ephemeralContainers).length > 0)
    errs.push(forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  return errs;
}

// ---------------------------------------------------------------------------------------
// QoS

export type PodQOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** GetPodQOS: from the cpu/memory requests and limits of containers and init containers. */
export function podQOSClass(spec: KObject | undefined): PodQOSClass {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const add = (m: Map<string, Quantity>, name: string, q: Quantity) => m.set(name, m.has(name) ? m.get(name)!.add(q) : q);
  for (const c of [...objectList(spec?.containers), ...objectList(spec?.initContainers)]) {
    for (const [name, v] of Object.entries(c.resources?.requests ?? {})) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const q = tryParseQuantity(v);
      if (q && q.sign() > 0) add(requests, name, q);
    }
    const found = new Set<string>();
    for (const [name, v] of Object.entries(c.resources?.limits ?? {})) {
      if (name !== 'cpu' && name !== 'memory') continue;
      const q = tryParseQuantity(v);
      if (q && q.sign() > 0) {
        found.add(name);
        add(limits, name, q);
      }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed)
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || lim.cmp(req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/** Parses a quantity that validation already accepted (0 when absent). */
export function quantityOf(v: unknown): Quantity {
  return tryParseQuantity(v) ?? parseQuantity('0');
}

// ---------------------------------------------------------------------------------------
// Controller templates

export interface ControllerTemplateOptions {
  /** The owning kind, for "activeDeadlineSeconds in <Kind> is not Supported". */
  kind: string;
  /** Whether the selector is non-empty (an empty selector skips the label check). */
  selectorEmpty: boolean;
  /** Whether the selector matches the template labels (a nil selector matches nothing). */
  selectorMatches: boolean;
  /** DaemonSet reports activeDeadlineSeconds as Invalid rather than Forbidden. */
  activeDeadlineInvalid?: boolean;
  /** A StatefulSet's claim templates, which its pods' volumeMounts may name (the union kube's validation describes). */
  claimTemplateNames?: string[];
}

/**
 * ValidatePodTemplateSpecForReplicaSet and its siblings: the selector must match the
 * template labels, the template must be valid, restartPolicy must be Always and
 * activeDeadlineSeconds unset. `path` is the template path ("spec.template").
 */
export function validateControllerTemplate(template: KObject | undefined, path: string, opts: ControllerTemplateOptions): FieldError[] {
  if (!isObject(template)) return [required(path, '')];
  const errs: FieldError[] = [];
  if (!opts.selectorEmpty && !opts.selectorMatches) {
    const labels = template.metadata?.labels;
    errs.push({ ...invalid(`${path}.metadata.labels`, labels ?? null, '`selector` does not match template `labels`'), valueRepr: goStringMap(labels) });
  }
  errs.push(...validatePodTemplate(template, path, { extraVolumeNames: opts.claimTemplateNames }));
  const restartPolicy = template.spec?.restartPolicy;
  if (restartPolicy !== 'Always') errs.push(notSupported(`${path}.spec.restartPolicy`, restartPolicy ?? '', ['Always']));
  const ads = template.spec?.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    const why = `activeDeadlineSeconds in ${opts.kind} is not Supported`;
    errs.push(opts.activeDeadlineInvalid ? invalid(`${path}.spec.activeDeadlineSeconds`, ads, why) : forbidden(`${path}.spec.activeDeadlineSeconds`, why));
  }
  return errs;
}
