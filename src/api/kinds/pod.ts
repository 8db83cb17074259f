/**
 * @module core/v1 Pod: defaults (SetDefaults_Pod/PodSpec), PrepareForCreate (phase Pending,
 * QoS class, scheduling-gated condition) with the defaults the admission chain adds
 * (service account, priority, not-ready/unreachable tolerations), ValidatePodCreate /
 * ValidatePodUpdate, field selectors, and the printer with kubectl's STATUS and RESTARTS logic.
 */
import { type FieldError, forbidden, invalid, required } from '../errors.js';
import { age, humanDuration } from '../print.js';
import type { KObject, ResourceDef, StrategyContext } from '../types.js';
import { ageColumn, column, deepEqual, inclusiveRangeError, nameColumn, specDiff, withDecodeErrors, objectList } from './kind-util.js';
import { defaultPodSpec, isRestartableInitContainer, podQOSClass, validatePodSpec, validateTolerations } from './podspec.js';


/** The fields a pod update may change, as ValidatePodUpdate lists them. */
export const podUpdatableFieldsMessage =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** Built-in PriorityClasses the Priority admission plugin knows without a lookup. */
export const systemPriorityClasses: Record<string, number> = {
  'system-node-critical': 2000001000,
  'system-cluster-critical': 2000000000,
};

/** DefaultTolerationSeconds admission: pods ride out a not-ready/unreachable node for 300s. */
export const defaultNotReadyTolerationSeconds = 300;
export const defaultUnreachableTolerationSeconds = 300;

/** Pods created through the API in this very request (ValidatePodCreate-only rules). */
const creating = new WeakSet<object>();

/** Mirror pods (static pods reflected by the kubelet) skip service account admission. */
const mirrorPodAnnotation = 'kubernetes.io/config.mirror';

/**
 * The admission defaults kube-apiserver's default plugin chain applies to a new pod:
 * ServiceAccount (serviceAccountName "default"), Priority (0 and PreemptLowerPriority
 * without a class) and DefaultTolerationSeconds.
 */
export function admitNewPod(pod: KObject): void {
  const spec = (pod.spec ??= {});
  if (!pod.metadata?.annotations?.[mirrorPodAnnotation]) {
    spec.serviceAccountName ||= 'default';
    spec.serviceAccount = spec.serviceAccountName;
  }
  if (!spec.priorityClassName) {
    spec.priority ??= 0;
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
  } else if (spec.priorityClassName in systemPriorityClasses) {
    spec.priority ??= systemPriorityClasses[spec.priorityClassName];
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
  }
  const tolerations = objectList(spec.tolerations);
  const tolerates = (key: string) =>
    tolerations.some((t) => (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute'));
  const added: KObject[] = [];
  if (!tolerates('node.kubernetes.io/not-ready'))
    added.push({ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultNotReadyTolerationSeconds });
  if (!tolerates('node.kubernetes.io/unreachable'))
    added.push({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultUnreachableTolerationSeconds });
  if (added.length) spec.tolerations = [...tolerations, ...added];
}

/**
 * The projected service account token volume and mounts the ServiceAccount admission
 * plugin adds ("kube-api-access-<suffix>"). Not applied by default: it needs the kubelet to
 * serve projected tokens and the kube-root-ca.crt ConfigMap in every namespace.
 */
export function addServiceAccountTokenVolume(pod: KObject, suffix: string): void {
  const spec = (pod.spec ??= {});
  if (spec.automountServiceAccountToken === false) return;
  const mountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
  const all = [...objectList(spec.containers), ...objectList(spec.initContainers)];
  if (all.some((c) => objectList(c.volumeMounts).some((m) => m.mountPath === mountPath))) return;
  const name = `kube-api-access-${suffix}`;
  spec.volumes = [
    ...objectList(spec.volumes),
    {
      name,
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    },
  ];
  for (const c of all) c.volumeMounts = [...objectList(c.volumeMounts), { name, readOnly: true, mountPath }];
}

/** The v1 conversion keeps podIP/podIPs[0] and hostIP/hostIPs[0] in step. */
function syncStatusIPs(status: KObject | undefined): void {
  if (!status || typeof status !== 'object') return;
  for (const [one, many] of [
    ['podIP', 'podIPs'],
    ['hostIP', 'hostIPs'],
  ]) {
    const ips = objectList(status[many]);
    if (status[one] && ips.length === 0) status[many] = [{ ip: status[one] }];
    else if (!status[one] && ips.length > 0 && ips[0].ip) status[one] = ips[0].ip;
  }
}

function validateContainerUpdates(next: unknown, prev: unknown, path: string): { errs: FieldError[]; stop: boolean } {
  const a = objectList(next);
  const b = objectList(prev);
  if (a.length !== b.length) return { errs: [forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  a.forEach((c, i) => {
    if (!c.image) errs.push(required(`${path}[${i}].image`, ''));
    else if (String(c.image).trim() !== c.image) errs.push(invalid(`${path}[${i}].image`, c.image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

/** ValidatePodUpdate: only images, activeDeadlineSeconds, added tolerations and removed scheduling gates may change. */
export function validatePodUpdate(pod: KObject, old: KObject): FieldError[] {
  const spec = pod.spec ?? {};
  const oldSpec = old.spec ?? {};
  const errs: FieldError[] = [];
  for (const f of ['containers', 'initContainers']) {
    const r = validateContainerUpdates(spec[f], oldSpec[f], `spec.${f}`);
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    if (typeof ads !== 'number' || ads < 0 || ads > 2147483647) return [...errs, invalid('spec.activeDeadlineSeconds', ads, inclusiveRangeError(0, 2147483647))];
    if (typeof oldSpec.activeDeadlineSeconds === 'number' && oldSpec.activeDeadlineSeconds < ads)
      return [...errs, invalid('spec.activeDeadlineSeconds', ads, 'must be less than or equal to previous value')];
  } else if (oldSpec.activeDeadlineSeconds !== undefined && oldSpec.activeDeadlineSeconds !== null) {
    errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  const newTolerations = objectList(spec.tolerations);
  for (const t of objectList(oldSpec.tolerations)) {
    const kept = newTolerations.some((n) => deepEqual({ ...t, tolerationSeconds: n.tolerationSeconds }, n));
    if (!kept) {
      errs.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
      break;
    }
  }
  if (oldSpec.tolerations !== undefined || spec.tolerations !== undefined) errs.push(...validateTolerations(spec.tolerations, 'spec.tolerations'));
  const oldGates = objectList(oldSpec.schedulingGates).map((g) => g.name);
  if (objectList(spec.schedulingGates).some((g) => !oldGates.includes(g.name)))
    errs.push(forbidden('spec.schedulingGates', 'only deletion is allowed, but found new scheduling gate'));
  if (deepEqual(spec, oldSpec)) return errs;

  // The new spec with every allowed change put back to its old value must equal the old spec.
  const munged: KObject = structuredClone(spec);
  for (const f of ['containers', 'initContainers'])
    objectList(munged[f]).forEach((c, i) => {
      const oldImage = objectList(oldSpec[f])[i]?.image;
      if (oldImage === undefined) delete c.image;
      else c.image = oldImage;
    });
  for (const f of ['activeDeadlineSeconds', 'tolerations', 'schedulingGates']) {
    if (oldSpec[f] === undefined) delete munged[f];
    else munged[f] = structuredClone(oldSpec[f]);
  }
  if (typeof oldSpec.terminationGracePeriodSeconds === 'number' && oldSpec.terminationGracePeriodSeconds < 0 && munged.terminationGracePeriodSeconds === 1)
    munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  // Gated pods may add node selectors (and node affinity) before they are scheduled.
  if (objectList(oldSpec.schedulingGates).length > 0) {
    const oldSel: Record<string, string> = oldSpec.nodeSelector ?? {};
    const newSel: Record<string, string> = spec.nodeSelector ?? {};
    if (Object.entries(oldSel).every(([k, v]) => newSel[k] === v)) {
      if (oldSpec.nodeSelector === undefined) delete munged.nodeSelector;
      else munged.nodeSelector = structuredClone(oldSpec.nodeSelector);
    }
  }
  if (!deepEqual(munged, oldSpec)) errs.push(forbidden('spec', `${podUpdatableFieldsMessage}\n${specDiff('core.PodSpec', oldSpec, munged)}`));
  return errs;
}

// ---------------------------------------------------------------------------------------
// Printing

function time(ts: unknown): number | undefined {
  if (typeof ts !== 'string') return undefined;
  const t = Date.parse(ts);
  return Number.isNaN(t) ? undefined : t;
}

function conditionTrue(status: KObject, type: string): boolean {
  return objectList(status.conditions).some((c) => c.type === type && c.status === 'True');
}

/** The READY, STATUS and RESTARTS cells as printPod computes them. */
export function podStatusSummary(pod: KObject, now: Date): { ready: string; status: string; restarts: string } {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const phase: string = status.phase ?? '';
  let reason: string = status.reason || phase;
  for (const c of objectList(status.conditions)) if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';

  const initSpecs = new Map<string, KObject>();
  let total = objectList(spec.containers).length;
  for (const c of objectList(spec.initContainers)) {
    initSpecs.set(c.name, c);
    if (isRestartableInitContainer(c)) total++;
  }

  let restarts = 0;
  let sidecarRestarts = 0;
  let readyCount = 0;
  let lastRestart: number | undefined;
  let lastSidecarRestart: number | undefined;
  const later = (a: number | undefined, b: number | undefined) => (b !== undefined && (a === undefined || a < b) ? b : a);

  let initializing = false;
  const initStatuses = objectList(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    restarts += c.restartCount ?? 0;
    const finished = time(c.lastState?.terminated?.finishedAt);
    lastRestart = later(lastRestart, finished);
    const sidecar = isRestartableInitContainer(initSpecs.get(c.name));
    if (sidecar) {
      sidecarRestarts += c.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, finished);
    }
    const terminated = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (sidecar && c.started === true) {
      if (c.ready) readyCount++;
      continue;
    }
    if (terminated) {
      if (!terminated.reason) reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode ?? 0}`;
      else reason = `Init:${terminated.reason}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${objectList(spec.initContainers).length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(status, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = objectList(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += c.restartCount ?? 0;
      lastRestart = later(lastRestart, time(c.lastState?.terminated?.finishedAt));
      const waiting = c.state?.waiting;
      const terminated = c.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyCount++;
      }
    }
    // A pod whose last container completed but another still runs is Running (or NotReady).
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(status, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) restartsCell = `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)`;
  return { ready: `${readyCount}/${total}`, status: reason, restarts: restartsCell };
}

function readinessGatesCell(pod: KObject): string {
  const gates = objectList(pod.spec?.readinessGates);
  if (gates.length === 0) return '<none>';
  const conds = objectList(pod.status?.conditions);
  let n = 0;
  for (const g of gates) {
    const c = conds.find((x) => x.type === g.conditionType);
    if (c?.status === 'True') n++;
  }
  return `${n}/${gates.length}`;
}

function podIP(pod: KObject): string {
  return objectList(pod.status?.podIPs)[0]?.ip || pod.status?.podIP || '';
}

export const podDef: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  subresources: { status: true },
  extraSubresources: ['binding', 'eviction', 'log', 'exec', 'attach', 'portforward', 'ephemeralcontainers', 'proxy'],
  // Pods carry no metadata.generation in 1.32.
  tracksGeneration: false,
  defaults(obj) {
    withDecodeErrors('Pod', 'v1', () => {
      obj.spec ??= {};
      defaultPodSpec(obj.spec, { pod: true });
      syncStatusIPs(obj.status);
    });
  },
  prepareForCreate(obj) {
    admitNewPod(obj);
    const status: KObject = { phase: 'Pending', qosClass: podQOSClass(obj.spec) };
    if (objectList(obj.spec?.schedulingGates).length > 0)
      status.conditions = [
        { type: 'PodScheduled', status: 'False', reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates', lastProbeTime: null, lastTransitionTime: null },
      ];
    obj.status = status;
    creating.add(obj);
  },
  prepareForUpdate(obj, old, ctx: StrategyContext) {
    // Old kubelets corrupt owner references on status writes; pods/status keeps them.
    if (ctx.subresource === 'status') {
      if (old.metadata?.ownerReferences === undefined) delete obj.metadata!.ownerReferences;
      else obj.metadata!.ownerReferences = structuredClone(old.metadata.ownerReferences);
    }
  },
  validate(obj) {
    const errs = validatePodSpec(obj.spec, 'spec', { podMeta: obj.metadata });
    if (creating.has(obj)) {
      creating.delete(obj);
      if (objectList(obj.spec?.ephemeralContainers).length > 0) errs.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
    }
    return errs;
  },
  validateUpdate: validatePodUpdate,
  fieldSelectors: {
    'spec.nodeName': (o) => o.spec?.nodeName ?? '',
    'spec.restartPolicy': (o) => o.spec?.restartPolicy ?? '',
    'spec.schedulerName': (o) => o.spec?.schedulerName ?? '',
    'spec.serviceAccountName': (o) => o.spec?.serviceAccountName ?? '',
    'spec.hostNetwork': (o) => String(o.spec?.hostNetwork === true),
    'status.phase': (o) => o.status?.phase ?? '',
    'status.podIP': (o) => podIP(o),
    'status.nominatedNodeName': (o) => o.status?.nominatedNodeName ?? '',
  },
  table: {
    columns: [
      nameColumn,
      column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
      column('Status', 'string', 'The aggregate status of the containers in this pod.'),
      column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      ageColumn,
      column('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
      column(
        'Node',
        'string',
        'NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.',
        1,
      ),
      column(
        'Nominated Node',
        'string',
        'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.',
        1,
      ),
      column(
        'Readiness Gates',
        'string',
        'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
        1,
      ),
    ],
    cells(obj, now) {
      const s = podStatusSummary(obj, now);
      return [
        obj.metadata?.name ?? '',
        s.ready,
        s.status,
        s.restarts,
        age(obj.metadata?.creationTimestamp, now),
        podIP(obj) || '<none>',
        obj.spec?.nodeName || '<none>',
        obj.status?.nominatedNodeName || '<none>',
        readinessGatesCell(obj),
      ];
    },
  },
};
