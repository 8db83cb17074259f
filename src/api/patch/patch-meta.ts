/**
 * @module Merge metadata of the served kinds, written as data: which fields are lists
 * merged by key (Go struct tags `patchStrategy`/`patchMergeKey` for strategic merge patch,
 * `+listType`/`+listMapKey` markers for server-side apply), which structs and maps are
 * atomic, and which structs a Go zero value always carries. `lookupPatchMeta` returns a
 * walker over this graph; fields it does not know behave like plain JSON (maps merge
 * key by key, lists are replaced whole / owned atomically), as kube does for lists
 * without markers.
 */

/** How server-side apply treats a list (`+listType`). Lists without a marker are atomic. */
export type ListType = 'atomic' | 'set' | 'map';

/**
 * The shape of one position in an object:
 * - `struct`: an object with named fields (declared or not); a field is a struct field.
 * - `map`: a Go `map[string]T` (labels, data, limits): each key is an entry of the map.
 * - `atomic`: a struct or map owned and replaced as a whole by server-side apply
 *   (`+structType=atomic`, `+mapType=atomic`); strategic merge patch still merges it.
 * - `list`: see `listType` and `patchStrategy`.
 */
export type MetaKind = 'struct' | 'map' | 'atomic' | 'list';

/** Walker over the merge metadata of one kind. */
export interface PatchMeta {
  readonly kind: MetaKind;
  /** Type name, for messages and debugging ("PodSpec", "object" for undeclared). */
  readonly typeName: string;
  /** Strategic merge patch strategy of this field: lists `merge` by key (or by value for scalars); maps `replace`. */
  readonly patchStrategy?: 'merge' | 'replace';
  /** `patchStrategy:"retainKeys"` (Deployment strategy) or `merge,retainKeys` (volumes). */
  readonly retainKeys: boolean;
  /** `patchMergeKey` of a merge list of maps. */
  readonly patchMergeKey?: string;
  /** Server-side apply list semantics; `atomic` for non-lists too. */
  readonly listType: ListType;
  /** `+listMapKey` names of a `listType=map` list, in declaration order. */
  readonly listMapKeys: readonly string[];
  /** Defaults of key fields (ports' protocol is "TCP"), used when an item omits them. */
  readonly keyDefaults: Readonly<Record<string, string>>;
  /** Whether the Go zero value of the parent carries this field: `{}` for a non-pointer struct, null for a list without omitempty. */
  readonly zero: boolean;
  /** Metadata of a struct field or map entry (undeclared names get plain JSON semantics). */
  field(name: string): PatchMeta;
  /** Metadata of the items of a list. */
  readonly elem: PatchMeta;
  /** False for entries of a `map[string]T`, true for struct fields. */
  isField(name: string): boolean;
  /** The JSON of this type's Go zero value: `{}` plus every `zero` field, recursively. */
  zeroValue(): Record<string, unknown>;
}

/*
 * Field spec grammar: "<type> [attr...]".
 *   type:  TypeName | object | atomic | map | scalar | []<type>
 *   attr:  zero                       the Go zero value carries it ({} for structs, null for lists)
 *          smp:merge | smp:merge,retainKeys | smp:retainKeys | smp:replace
 *          key:<patchMergeKey>
 *          ssa:set | ssa:map:<k>[=default],<k2>...
 * Undeclared fields are `object`: granular maps whose lists are atomic.
 */
type TypeDefs = Record<string, Record<string, string>>;

const CONDITIONS = '[]object smp:merge key:type ssa:map:type';

const TYPES: TypeDefs = {
  // meta/v1
  ObjectMeta: {
    labels: 'map',
    annotations: 'map',
    ownerReferences: '[]atomic smp:merge key:uid ssa:map:uid',
    finalizers: '[]scalar smp:merge ssa:set',
  },

  // core/v1 pod template and pod
  PodTemplateSpec: { metadata: 'ObjectMeta zero', spec: 'PodSpec zero' },
  PodSpec: {
    volumes: '[]object smp:merge,retainKeys key:name ssa:map:name',
    initContainers: '[]Container smp:merge key:name ssa:map:name',
    // No omitempty in Go: the zero PodSpec carries `containers: null`.
    containers: '[]Container smp:merge key:name ssa:map:name zero',
    ephemeralContainers: '[]Container smp:merge key:name ssa:map:name',
    nodeSelector: 'atomic',
    imagePullSecrets: '[]atomic smp:merge key:name ssa:map:name',
    affinity: 'Affinity',
    hostAliases: '[]object smp:merge key:ip ssa:map:ip',
    topologySpreadConstraints:
      '[]TopologySpreadConstraint smp:merge key:topologyKey ssa:map:topologyKey,whenUnsatisfiable',
    overhead: 'map',
    schedulingGates: '[]object smp:merge key:name ssa:map:name',
    resourceClaims: '[]object smp:merge,retainKeys key:name ssa:map:name',
  },
  Container: {
    ports: '[]object smp:merge key:containerPort ssa:map:containerPort,protocol=TCP',
    env: '[]EnvVar smp:merge key:name ssa:map:name',
    resources: 'ResourceRequirements',
    volumeMounts: '[]object smp:merge key:mountPath ssa:map:mountPath',
    volumeDevices: '[]object smp:merge key:devicePath ssa:map:devicePath',
  },
  EnvVar: { valueFrom: 'EnvVarSource' },
  EnvVarSource: { fieldRef: 'atomic', resourceFieldRef: 'atomic', configMapKeyRef: 'atomic', secretKeyRef: 'atomic' },
  ResourceRequirements: { limits: 'map', requests: 'map', claims: '[]object ssa:map:name' },
  Affinity: { nodeAffinity: 'NodeAffinity' },
  NodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: 'atomic' },
  TopologySpreadConstraint: { labelSelector: 'atomic' },
  PodStatus: {
    conditions: CONDITIONS,
    podIPs: '[]object smp:merge key:ip ssa:map:ip',
    hostIPs: '[]object smp:merge key:ip',
    resourceClaimStatuses: '[]object smp:merge,retainKeys key:name ssa:map:name',
  },
  Pod: { metadata: 'ObjectMeta zero', spec: 'PodSpec zero', status: 'PodStatus zero' },
  PodTemplate: { metadata: 'ObjectMeta zero', template: 'PodTemplateSpec zero' },
  ReplicationController: {
    metadata: 'ObjectMeta zero',
    spec: 'ReplicationControllerSpec zero',
    status: 'ConditionsStatus zero',
  },
  ReplicationControllerSpec: { selector: 'atomic', template: 'PodTemplateSpec' },
  ConditionsStatus: { conditions: CONDITIONS },

  // core/v1 others
  Service: { metadata: 'ObjectMeta zero', spec: 'ServiceSpec zero', status: 'ServiceStatus zero' },
  ServiceSpec: {
    ports: '[]object smp:merge key:port ssa:map:port,protocol=TCP',
    selector: 'atomic',
  },
  ServiceStatus: { conditions: CONDITIONS, loadBalancer: 'object zero' },
  Endpoints: { metadata: 'ObjectMeta zero' },
  Node: { metadata: 'ObjectMeta zero', spec: 'NodeSpec zero', status: 'NodeStatus zero' },
  NodeSpec: { podCIDRs: '[]scalar smp:merge ssa:set' },
  NodeStatus: {
    conditions: CONDITIONS,
    addresses: '[]object smp:merge key:type',
    capacity: 'map',
    allocatable: 'map',
    daemonEndpoints: 'object zero',
    nodeInfo: 'object zero',
  },
  Namespace: { metadata: 'ObjectMeta zero', spec: 'object zero', status: 'ConditionsStatus zero' },
  ConfigMap: { metadata: 'ObjectMeta zero', data: 'map', binaryData: 'map' },
  Secret: { metadata: 'ObjectMeta zero', data: 'map', stringData: 'map' },
  ServiceAccount: { metadata: 'ObjectMeta zero', secrets: '[]atomic smp:merge key:name ssa:map:name' },
  PersistentVolume: { metadata: 'ObjectMeta zero', spec: 'PersistentVolumeSpec zero', status: 'object zero' },
  PersistentVolumeSpec: { capacity: 'map', claimRef: 'atomic', nodeAffinity: 'VolumeNodeAffinity' },
  VolumeNodeAffinity: { required: 'atomic' },
  PersistentVolumeClaim: {
    metadata: 'ObjectMeta zero',
    spec: 'PersistentVolumeClaimSpec zero',
    status: 'PersistentVolumeClaimStatus zero',
  },
  PersistentVolumeClaimSpec: { selector: 'atomic', dataSource: 'atomic' },
  PersistentVolumeClaimStatus: { conditions: CONDITIONS, capacity: 'map', allocatedResources: 'map' },
  Event: { metadata: 'ObjectMeta zero', involvedObject: 'atomic zero', related: 'atomic', source: 'object zero' },
  EventV1: { metadata: 'ObjectMeta zero', regarding: 'atomic zero', related: 'atomic' },

  // apps/v1
  Deployment: { metadata: 'ObjectMeta zero', spec: 'DeploymentSpec zero', status: 'ConditionsStatus zero' },
  DeploymentSpec: {
    selector: 'atomic',
    template: 'PodTemplateSpec zero',
    strategy: 'object zero smp:retainKeys',
  },
  ReplicaSet: { metadata: 'ObjectMeta zero', spec: 'ReplicaSetSpec zero', status: 'ConditionsStatus zero' },
  ReplicaSetSpec: { selector: 'atomic', template: 'PodTemplateSpec zero' },
  StatefulSet: { metadata: 'ObjectMeta zero', spec: 'StatefulSetSpec zero', status: 'ConditionsStatus zero' },
  StatefulSetSpec: { selector: 'atomic', template: 'PodTemplateSpec zero', updateStrategy: 'object zero' },
  DaemonSet: { metadata: 'ObjectMeta zero', spec: 'DaemonSetSpec zero', status: 'ConditionsStatus zero' },
  DaemonSetSpec: { selector: 'atomic', template: 'PodTemplateSpec zero', updateStrategy: 'object zero' },
  ControllerRevision: { metadata: 'ObjectMeta zero' },

  // batch/v1
  Job: { metadata: 'ObjectMeta zero', spec: 'JobSpec zero', status: 'JobStatus zero' },
  JobSpec: { selector: 'atomic', template: 'PodTemplateSpec zero' },
  // JobStatus.conditions merges by type for SMP but is +listType=atomic.
  JobStatus: { conditions: '[]object smp:merge key:type' },
  CronJob: { metadata: 'ObjectMeta zero', spec: 'CronJobSpec zero', status: 'object zero' },
  CronJobSpec: { jobTemplate: 'JobTemplateSpec zero' },
  JobTemplateSpec: { metadata: 'ObjectMeta zero', spec: 'JobSpec zero' },

  // autoscaling
  HorizontalPodAutoscalerV1: {
    metadata: 'ObjectMeta zero',
    spec: 'HorizontalPodAutoscalerSpec zero',
    status: 'object zero',
  },
  HorizontalPodAutoscaler: {
    metadata: 'ObjectMeta zero',
    spec: 'HorizontalPodAutoscalerSpec zero',
    status: 'ConditionsStatus zero',
  },
  HorizontalPodAutoscalerSpec: { scaleTargetRef: 'object zero' },

  // networking.k8s.io/v1, discovery.k8s.io/v1, coordination.k8s.io/v1, policy/v1
  Ingress: { metadata: 'ObjectMeta zero', spec: 'object zero', status: 'object zero' },
  IngressClass: { metadata: 'ObjectMeta zero', spec: 'object zero' },
  NetworkPolicy: { metadata: 'ObjectMeta zero', spec: 'NetworkPolicySpec zero' },
  NetworkPolicySpec: { podSelector: 'atomic zero' },
  EndpointSlice: { metadata: 'ObjectMeta zero' },
  Lease: { metadata: 'ObjectMeta zero', spec: 'object zero' },
  PodDisruptionBudget: {
    metadata: 'ObjectMeta zero',
    spec: 'PodDisruptionBudgetSpec zero',
    status: 'ConditionsStatus zero',
  },
  PodDisruptionBudgetSpec: { selector: 'atomic smp:replace' },

  // rbac.authorization.k8s.io/v1
  Role: { metadata: 'ObjectMeta zero' },
  ClusterRole: { metadata: 'ObjectMeta zero' },
  RoleBinding: { metadata: 'ObjectMeta zero', roleRef: 'atomic zero' },
  ClusterRoleBinding: { metadata: 'ObjectMeta zero', roleRef: 'atomic zero' },

  // Kinds we do not know: metadata is still ObjectMeta.
  Object: { metadata: 'ObjectMeta zero' },
};

/** group/version/kind → root type; `*` matches any version of the group. */
const KINDS: Record<string, string> = {
  '/v1/Pod': 'Pod',
  '/v1/PodTemplate': 'PodTemplate',
  '/v1/ReplicationController': 'ReplicationController',
  '/v1/Service': 'Service',
  '/v1/Endpoints': 'Endpoints',
  '/v1/Node': 'Node',
  '/v1/Namespace': 'Namespace',
  '/v1/ConfigMap': 'ConfigMap',
  '/v1/Secret': 'Secret',
  '/v1/ServiceAccount': 'ServiceAccount',
  '/v1/PersistentVolume': 'PersistentVolume',
  '/v1/PersistentVolumeClaim': 'PersistentVolumeClaim',
  '/v1/Event': 'Event',
  'events.k8s.io/v1/Event': 'EventV1',
  'apps/*/Deployment': 'Deployment',
  'apps/*/ReplicaSet': 'ReplicaSet',
  'apps/*/StatefulSet': 'StatefulSet',
  'apps/*/DaemonSet': 'DaemonSet',
  'apps/*/ControllerRevision': 'ControllerRevision',
  'batch/*/Job': 'Job',
  'batch/*/CronJob': 'CronJob',
  'autoscaling/v1/HorizontalPodAutoscaler': 'HorizontalPodAutoscalerV1',
  'autoscaling/*/HorizontalPodAutoscaler': 'HorizontalPodAutoscaler',
  'networking.k8s.io/*/Ingress': 'Ingress',
  'networking.k8s.io/*/IngressClass': 'IngressClass',
  'networking.k8s.io/*/NetworkPolicy': 'NetworkPolicy',
  'discovery.k8s.io/*/EndpointSlice': 'EndpointSlice',
  'coordination.k8s.io/*/Lease': 'Lease',
  'policy/*/PodDisruptionBudget': 'PodDisruptionBudget',
  'rbac.authorization.k8s.io/*/Role': 'Role',
  'rbac.authorization.k8s.io/*/ClusterRole': 'ClusterRole',
  'rbac.authorization.k8s.io/*/RoleBinding': 'RoleBinding',
  'rbac.authorization.k8s.io/*/ClusterRoleBinding': 'ClusterRoleBinding',
};

interface NodeInit {
  kind: MetaKind;
  typeName: string;
  fields?: Record<string, string>;
  elemSpec?: string;
  patchStrategy?: 'merge' | 'replace';
  retainKeys?: boolean;
  patchMergeKey?: string;
  listType?: ListType;
  listMapKeys?: string[];
  keyDefaults?: Record<string, string>;
  zero?: boolean;
}

class MetaNode implements PatchMeta {
  readonly kind: MetaKind;
  readonly typeName: string;
  readonly patchStrategy?: 'merge' | 'replace';
  readonly retainKeys: boolean;
  readonly patchMergeKey?: string;
  readonly listType: ListType;
  readonly listMapKeys: readonly string[];
  readonly keyDefaults: Readonly<Record<string, string>>;
  readonly zero: boolean;
  private readonly fields?: Record<string, string>;
  private readonly elemSpec?: string;
  private readonly children = new Map<string, MetaNode>();
  private elemNode?: MetaNode;

  constructor(init: NodeInit) {
    this.kind = init.kind;
    this.typeName = init.typeName;
    this.patchStrategy = init.patchStrategy;
    this.retainKeys = init.retainKeys ?? false;
    this.patchMergeKey = init.patchMergeKey;
    this.listType = init.listType ?? 'atomic';
    this.listMapKeys = init.listMapKeys ?? [];
    this.keyDefaults = init.keyDefaults ?? {};
    this.zero = init.zero ?? false;
    this.fields = init.fields;
    this.elemSpec = init.elemSpec;
  }

  field(name: string): PatchMeta {
    const spec = this.kind === 'struct' ? this.fields?.[name] : undefined;
    if (spec === undefined) return OBJECT;
    let child = this.children.get(name);
    if (!child) {
      child = buildNode(spec);
      this.children.set(name, child);
    }
    return child;
  }

  get elem(): PatchMeta {
    if (this.kind !== 'list' || this.elemSpec === undefined) return OBJECT;
    this.elemNode ??= buildNode(this.elemSpec);
    return this.elemNode;
  }

  isField(_name: string): boolean {
    return this.kind !== 'map';
  }

  zeroValue(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.kind !== 'struct' || !this.fields) return out;
    for (const name of Object.keys(this.fields)) {
      const child = this.field(name);
      if (child.zero) out[name] = child.kind === 'list' ? null : child.zeroValue();
    }
    return out;
  }
}

/** Undeclared positions: a granular object whose keys are fields and whose lists are atomic. */
const OBJECT = new MetaNode({ kind: 'struct', typeName: 'object' });

const typeCache = new Map<string, MetaNode>();

function buildNode(spec: string): MetaNode {
  const [typeSpec, ...attrs] = spec.trim().split(/\s+/);
  const init: NodeInit = { kind: 'struct', typeName: typeSpec };
  if (typeSpec.startsWith('[]')) {
    init.kind = 'list';
    init.elemSpec = typeSpec.slice(2) || 'object';
  } else if (typeSpec === 'atomic') {
    init.kind = 'atomic';
  } else if (typeSpec === 'map') {
    init.kind = 'map';
  } else if (typeSpec === 'object' || typeSpec === 'scalar') {
    init.kind = 'struct';
  } else {
    const fields = TYPES[typeSpec];
    if (!fields) throw new Error(`patch-meta: unknown type ${typeSpec}`);
    init.fields = fields;
  }
  for (const attr of attrs) {
    if (attr === 'zero') init.zero = true;
    else if (attr.startsWith('smp:')) {
      const strategies = attr.slice(4).split(',');
      for (const s of strategies) {
        if (s === 'merge' || s === 'replace') init.patchStrategy = s;
        else if (s === 'retainKeys') init.retainKeys = true;
        else throw new Error(`patch-meta: bad strategy ${attr}`);
      }
    } else if (attr.startsWith('key:')) init.patchMergeKey = attr.slice(4);
    else if (attr === 'ssa:set') init.listType = 'set';
    else if (attr === 'ssa:atomic') init.listType = 'atomic';
    else if (attr.startsWith('ssa:map:')) {
      init.listType = 'map';
      init.listMapKeys = [];
      init.keyDefaults = {};
      for (const k of attr.slice(8).split(',')) {
        const [name, def] = k.split('=');
        init.listMapKeys.push(name);
        if (def !== undefined) init.keyDefaults[name] = def;
      }
    } else throw new Error(`patch-meta: bad attribute ${attr}`);
  }
  return new MetaNode(init);
}

function rootType(name: string): MetaNode {
  let node = typeCache.get(name);
  if (!node) {
    node = buildNode(name);
    typeCache.set(name, node);
  }
  return node;
}

function rootTypeName(group: string, version: string, kind: string): string | undefined {
  return KINDS[`${group}/${version}/${kind}`] ?? KINDS[`${group}/*/${kind}`];
}

/**
 * Merge metadata for a kind. Unknown kinds get a walker where only `metadata` is
 * known (ObjectMeta) and everything else merges like plain JSON.
 */
export function lookupPatchMeta(group: string, version: string, kind: string): PatchMeta {
  return rootType(rootTypeName(group, version, kind) ?? 'Object');
}

/** Whether the kind's merge metadata is declared here (kube answers 415 to strategic merge patches of kinds without Go types). */
export function hasPatchMeta(group: string, version: string, kind: string): boolean {
  return rootTypeName(group, version, kind) !== undefined;
}

/** Merge metadata for an object from its apiVersion and kind. */
export function patchMetaFor(obj: { apiVersion?: string; kind?: string } | undefined): PatchMeta {
  const apiVersion = obj?.apiVersion ?? '';
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return lookupPatchMeta(group, version, obj?.kind ?? '');
}

/** The walker for undeclared positions: plain JSON semantics. */
export const plainJsonMeta: PatchMeta = OBJECT;
