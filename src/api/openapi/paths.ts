/**
 * @module The REST operations of served resources as OpenAPI v3 path items, named and
 * shaped the way kube-apiserver publishes them (operationId, x-kubernetes-action,
 * x-kubernetes-group-version-kind, query parameters), for /openapi/v3 and /openapi/v2.
 */
import type { ResourceDef } from '../types.js';

/** A JSON schema or any other OpenAPI fragment. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export interface GroupVersionKind {
  group: string;
  kind: string;
  version: string;
}

export const SCHEMA_REF_PREFIX = '#/components/schemas/';
export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const DELETE_OPTIONS = `${META}.DeleteOptions`;
export const STATUS = `${META}.Status`;
export const PATCH = `${META}.Patch`;

/** The v3 path of a group-version as listed in the /openapi/v3 index: "api/v1", "apis/apps/v1". */
export function groupVersionPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/**
 * The names kube-apiserver gives a group in operation ids and tags: "" → Core,
 * "rbac.authorization.k8s.io" → RbacAuthorization (".k8s.io" dropped, labels camel-cased).
 */
function groupIdentifier(group: string): string {
  if (!group) return 'Core';
  return group
    .replace(/\.k8s\.io$/, '')
    .split(/[.-]/)
    .filter(Boolean)
    .map((s) => s[0].toUpperCase() + s.slice(1))
    .join('');
}

function capitalize(s: string): string {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

const JSON_YAML_PROTOBUF = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const WATCH_STREAMS = ['application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];

/**
 * Content types a PATCH accepts. application/strategic-merge-patch+json is left out on
 * purpose: when it is listed, kubectl builds strategic merge patches from these schemas,
 * which carry no patch merge keys; without it kubectl uses its compiled-in types.
 */
export const PATCH_CONTENT_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];

type ParamType = 'string' | 'boolean' | 'integer';
interface QueryParam {
  name: string;
  type: ParamType;
  description: string;
}

function q(name: string, type: ParamType, description: string): QueryParam {
  return { name, type, description };
}

const P = {
  pretty: q('pretty', 'string', "If 'true', the output is pretty printed."),
  dryRun: q('dryRun', 'string', 'When present, the request is processed without persisting anything. Allowed value: All (run every stage).'),
  fieldManager: q('fieldManager', 'string', 'Name of the actor making the change, recorded in managedFields. Required for apply patches.'),
  fieldValidation: q(
    'fieldValidation',
    'string',
    'How the server treats unknown or duplicate fields in the body: Ignore drops them silently, Warn drops them and returns a Warning header per field, Strict rejects the request.',
  ),
  force: q('force', 'boolean', 'Apply patches only: take ownership of fields that conflict with other managers. Must be unset for other patch types.'),
  allowWatchBookmarks: q('allowWatchBookmarks', 'boolean', 'Ask for BOOKMARK events in a watch; servers may ignore it.'),
  continue: q('continue', 'string', 'The continue token of a previous paged list, to fetch the next page.'),
  fieldSelector: q('fieldSelector', 'string', 'Only return objects whose fields match this selector. Defaults to everything.'),
  labelSelector: q('labelSelector', 'string', 'Only return objects whose labels match this selector. Defaults to everything.'),
  limit: q('limit', 'integer', 'Maximum number of items in one list response; a continue token is returned when more exist.'),
  resourceVersion: q('resourceVersion', 'string', 'Which state of the collection a list or watch is served from. Unset means the most recent.'),
  resourceVersionMatch: q('resourceVersionMatch', 'string', 'How resourceVersion applies to a list: Exact or NotOlderThan.'),
  sendInitialEvents: q('sendInitialEvents', 'boolean', 'With watch=true, start the watch with synthetic ADDED events for the current state.'),
  timeoutSeconds: q('timeoutSeconds', 'integer', 'Upper bound on the duration of a list or watch call.'),
  watch: q('watch', 'boolean', 'Stream add, update and delete notifications instead of returning a list.'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'integer', 'Seconds before the object is deleted; zero deletes immediately. Unset uses the kind default.'),
  orphanDependents: q('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy. Whether dependents are orphaned.'),
  propagationPolicy: q('propagationPolicy', 'string', 'How dependents are garbage collected: Orphan, Background or Foreground.'),
  ignoreStoreReadErrorWithClusterBreakingPotential: q(
    'ignoreStoreReadErrorWithClusterBreakingPotential',
    'boolean',
    'Delete objects that cannot be decoded from storage. Dangerous.',
  ),
};

const LIST_PARAMS = [
  P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion,
  P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch,
];
const DELETE_COLLECTION_PARAMS = [
  P.continue, P.dryRun, P.fieldSelector, P.gracePeriodSeconds, P.ignoreStoreReadErrorWithClusterBreakingPotential,
  P.labelSelector, P.limit, P.orphanDependents, P.propagationPolicy, P.resourceVersion, P.resourceVersionMatch,
  P.sendInitialEvents, P.timeoutSeconds,
];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.ignoreStoreReadErrorWithClusterBreakingPotential, P.orphanDependents, P.propagationPolicy];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation, P.force];

function queryParameter(p: QueryParam): Json {
  return { name: p.name, in: 'query', description: p.description, schema: { type: p.type, uniqueItems: true } };
}

function pathParameter(name: string, description: string): Json {
  return { name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } };
}

const ref = (schemaName: string): Json => ({ $ref: SCHEMA_REF_PREFIX + schemaName });

function content(types: string[], schema: Json): Json {
  return Object.fromEntries(types.map((t) => [t, { schema }]));
}

function responses(codes: string[], types: string[], schema: Json): Json {
  const out: Json = {};
  for (const code of codes) out[code] = { description: httpReason(code), content: content(types, schema) };
  out['401'] = { description: 'Unauthorized' };
  return out;
}

function httpReason(code: string): string {
  return ({ '200': 'OK', '201': 'Created', '202': 'Accepted' } as Record<string, string>)[code] ?? code;
}

/** Schema names an operation needs: looked up by GVK, synthesized when unknown. */
export interface SchemaResolver {
  /** The component schema name for a kind, e.g. io.k8s.api.apps.v1.Deployment. */
  kindSchema(gvk: GroupVersionKind): string;
}

interface OperationSpec {
  verb: 'get' | 'put' | 'post' | 'delete' | 'patch';
  action: string;
  /** operationId without group/version: "patch" + "Namespaced" + "DeploymentScale" is built by caller. */
  operationId: string;
  description: string;
  params: QueryParam[];
  body?: { schema: string; contentTypes: string[] };
  response?: { codes: string[]; schema: Json; types: string[] };
  gvk: GroupVersionKind;
}

function operation(tag: string, spec: OperationSpec): Json {
  const op: Json = {
    tags: [tag],
    description: spec.description,
    operationId: spec.operationId,
  };
  if (spec.params.length) op.parameters = spec.params.map(queryParameter);
  if (spec.body) op.requestBody = { content: content(spec.body.contentTypes, ref(spec.body.schema)), required: true };
  op.responses = spec.response
    ? responses(spec.response.codes, spec.response.types, spec.response.schema)
    : { '401': { description: 'Unauthorized' } };
  op['x-kubernetes-action'] = spec.action;
  op['x-kubernetes-group-version-kind'] = spec.gvk;
  return op;
}

const DEFAULT_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Kinds behind the subresources served by special handlers, as kube-apiserver declares them. */
const SPECIAL_SUBRESOURCES: Record<string, { gvk: (def: ResourceDef) => GroupVersionKind; verbs: ('get' | 'post' | 'put' | 'patch')[]; connect?: boolean; text?: boolean }> = {
  binding: { gvk: () => ({ group: '', kind: 'Binding', version: 'v1' }), verbs: ['post'] },
  eviction: { gvk: () => ({ group: 'policy', kind: 'Eviction', version: 'v1' }), verbs: ['post'] },
  token: { gvk: () => ({ group: 'authentication.k8s.io', kind: 'TokenRequest', version: 'v1' }), verbs: ['post'] },
  finalize: { gvk: (d) => ({ group: d.group, kind: d.kind, version: d.version }), verbs: ['put'] },
  ephemeralcontainers: { gvk: (d) => ({ group: d.group, kind: d.kind, version: d.version }), verbs: ['get', 'put', 'patch'] },
  resize: { gvk: (d) => ({ group: d.group, kind: d.kind, version: d.version }), verbs: ['get', 'put', 'patch'] },
  log: { gvk: (d) => ({ group: d.group, kind: d.kind, version: d.version }), verbs: ['get'], text: true },
  exec: { gvk: (d) => ({ group: d.group, kind: `${d.kind}ExecOptions`, version: d.version }), verbs: ['get', 'post'], connect: true },
  attach: { gvk: (d) => ({ group: d.group, kind: `${d.kind}AttachOptions`, version: d.version }), verbs: ['get', 'post'], connect: true },
  portforward: { gvk: (d) => ({ group: d.group, kind: `${d.kind}PortForwardOptions`, version: d.version }), verbs: ['get', 'post'], connect: true },
  proxy: { gvk: (d) => ({ group: d.group, kind: `${d.kind}ProxyOptions`, version: d.version }), verbs: ['get', 'post', 'put', 'patch'], connect: true },
};

/**
 * The path items of one group-version (keys like
 * "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale").
 */
export function buildPaths(defs: ResourceDef[], resolver: SchemaResolver): Json {
  const paths: Json = {};
  for (const def of [...defs].sort((a, b) => a.plural.localeCompare(b.plural))) {
    addResourcePaths(paths, def, resolver);
  }
  return Object.fromEntries(Object.keys(paths).sort().map((k) => [k, paths[k]]));
}

function addResourcePaths(paths: Json, def: ResourceDef, resolver: SchemaResolver): void {
  const G = groupIdentifier(def.group);
  const V = capitalize(def.version);
  const tag = `${G[0].toLowerCase()}${G.slice(1)}_${def.version}`;
  const prefix = `/${groupVersionPath(def.group, def.version)}`;
  const base = def.namespaced ? `${prefix}/namespaces/{namespace}/${def.plural}` : `${prefix}/${def.plural}`;
  const scope = def.namespaced ? 'Namespaced' : '';
  const verbs = new Set(def.verbs ?? DEFAULT_VERBS);
  const gvk: GroupVersionKind = { group: def.group, kind: def.kind, version: def.version };
  const kindSchema = resolver.kindSchema(gvk);
  const listSchema = resolver.kindSchema({ ...gvk, kind: `${def.kind}List` });
  const nsParam = pathParameter('namespace', 'object name and auth scope, such as for teams and projects');
  const nameParam = (what: string) => pathParameter('name', `name of the ${what}`);
  const prettyParam = queryParameter(P.pretty);
  const op = (spec: OperationSpec) => operation(tag, spec);
  const id = (verb: string, suffix = '') => `${verb}${G}${V}${scope}${def.kind}${suffix}`;

  const collection: Json = {};
  if (verbs.has('list')) {
    collection.get = op({
      verb: 'get', action: 'list', operationId: id('list'), description: `list or watch objects of kind ${def.kind}`,
      params: LIST_PARAMS, response: { codes: ['200'], schema: ref(listSchema), types: [...JSON_YAML_PROTOBUF, ...WATCH_STREAMS] }, gvk,
    });
  }
  if (verbs.has('create')) {
    collection.post = op({
      verb: 'post', action: 'post', operationId: id('create'), description: `create a ${def.kind}`, params: WRITE_PARAMS,
      body: { schema: kindSchema, contentTypes: ['*/*'] },
      response: { codes: ['200', '201', '202'], schema: ref(kindSchema), types: JSON_YAML_PROTOBUF }, gvk,
    });
  }
  if (verbs.has('deletecollection')) {
    collection.delete = op({
      verb: 'delete', action: 'deletecollection', operationId: id('deleteCollection'), description: `delete collection of ${def.kind}`,
      params: DELETE_COLLECTION_PARAMS, body: { schema: DELETE_OPTIONS, contentTypes: ['*/*'] },
      response: { codes: ['200'], schema: ref(STATUS), types: JSON_YAML_PROTOBUF }, gvk,
    });
  }
  if (Object.keys(collection).length) {
    collection.parameters = def.namespaced ? [nsParam, prettyParam] : [prettyParam];
    paths[base] = collection;
  }

  if (def.namespaced && verbs.has('list')) {
    paths[`${prefix}/${def.plural}`] = {
      get: op({
        verb: 'get', action: 'list', operationId: `list${G}${V}${def.kind}ForAllNamespaces`,
        description: `list or watch objects of kind ${def.kind}`, params: LIST_PARAMS,
        response: { codes: ['200'], schema: ref(listSchema), types: [...JSON_YAML_PROTOBUF, ...WATCH_STREAMS] }, gvk,
      }),
      parameters: [prettyParam],
    };
  }

  const itemParams = def.namespaced ? [nameParam(def.kind), nsParam, prettyParam] : [nameParam(def.kind), prettyParam];
  const item = crudItem(def, verbs, gvk, kindSchema, (verb) => id(verb), op, def.kind);
  if (Object.keys(item).length) paths[`${base}/{name}`] = { ...item, parameters: itemParams };

  if (def.subresources?.status) {
    const status = crudItem(def, verbs, gvk, kindSchema, (verb) => id(verb, 'Status'), op, `status of the specified ${def.kind}`, true);
    if (Object.keys(status).length) {
      paths[`${base}/{name}/status`] = { ...status, parameters: def.namespaced ? [nameParam(def.kind), nsParam, prettyParam] : [nameParam(def.kind), prettyParam] };
    }
  }
  if (def.subresources?.scale) {
    const scaleGvk = { group: 'autoscaling', kind: 'Scale', version: 'v1' };
    const scaleSchema = resolver.kindSchema(scaleGvk);
    const scale = crudItem(def, verbs, scaleGvk, scaleSchema, (verb) => id(verb, 'Scale'), op, `scale of the specified ${def.kind}`, true);
    if (Object.keys(scale).length) {
      paths[`${base}/{name}/scale`] = { ...scale, parameters: def.namespaced ? [pathParameter('name', 'name of the Scale'), nsParam, prettyParam] : [pathParameter('name', 'name of the Scale'), prettyParam] };
    }
  }
  for (const sub of def.extraSubresources ?? []) {
    const special = SPECIAL_SUBRESOURCES[sub];
    if (!special) continue;
    const subGvk = special.gvk(def);
    const suffix = capitalize(sub === 'portforward' ? 'PortForward' : sub === 'ephemeralcontainers' ? 'EphemeralContainers' : sub);
    const item: Json = {};
    for (const verb of special.verbs) {
      if (special.connect) {
        item[verb] = op({
          verb, action: 'connect', operationId: `connect${G}${V}${capitalize(verb)}${scope}${def.kind}${suffix}`,
          description: `connect ${verb.toUpperCase()} requests to ${sub} of ${def.kind}`, params: [],
          response: { codes: ['200'], schema: { type: 'string' }, types: ['*/*'] }, gvk: subGvk,
        });
      } else if (special.text) {
        item[verb] = op({
          verb, action: 'get', operationId: id('read', suffix), description: `read ${sub} of the specified ${def.kind}`, params: [],
          response: { codes: ['200'], schema: { type: 'string' }, types: ['text/plain', 'application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'] },
          gvk: subGvk,
        });
      } else {
        const schema = resolver.kindSchema(subGvk);
        if (verb === 'post') {
          item.post = op({
            verb, action: 'post', operationId: id('create', suffix), description: `create ${sub} of a ${def.kind}`, params: WRITE_PARAMS,
            body: { schema, contentTypes: ['*/*'] }, response: { codes: ['200', '201', '202'], schema: ref(schema), types: JSON_YAML_PROTOBUF }, gvk: subGvk,
          });
        } else {
          Object.assign(item, crudItem(def, new Set(['get', 'update', 'patch']), subGvk, schema, (v) => id(v, suffix), op, `${sub} of the specified ${def.kind}`, true, verb));
        }
      }
    }
    if (Object.keys(item).length) {
      paths[`${base}/{name}/${sub}`] = { ...item, parameters: def.namespaced ? [nameParam(def.kind), nsParam, prettyParam] : [nameParam(def.kind), prettyParam] };
    }
  }
}

/** get / put / patch (and delete on the main resource) of one object path. */
function crudItem(
  def: ResourceDef,
  verbs: Set<string>,
  gvk: GroupVersionKind,
  schema: string,
  id: (verb: string) => string,
  op: (spec: OperationSpec) => Json,
  what: string,
  subresource = false,
  only?: string,
): Json {
  const item: Json = {};
  const want = (v: string) => verbs.has(v) && (!only || only === ({ get: 'get', update: 'put', patch: 'patch' } as Record<string, string>)[v]);
  const obj = { codes: ['200'], schema: ref(schema), types: JSON_YAML_PROTOBUF };
  if (want('get')) {
    item.get = op({ verb: 'get', action: 'get', operationId: id('read'), description: `read the specified ${what}`, params: [], response: obj, gvk });
  }
  if (want('update')) {
    item.put = op({
      verb: 'put', action: 'put', operationId: id('replace'), description: `replace the specified ${what}`, params: WRITE_PARAMS,
      body: { schema, contentTypes: ['*/*'] }, response: { ...obj, codes: ['200', '201'] }, gvk,
    });
  }
  if (want('patch')) {
    item.patch = op({
      verb: 'patch', action: 'patch', operationId: id('patch'), description: `partially update the specified ${what}`, params: PATCH_PARAMS,
      body: { schema: PATCH, contentTypes: PATCH_CONTENT_TYPES }, response: { ...obj, codes: ['200', '201'] }, gvk,
    });
  }
  if (!subresource && verbs.has('delete')) {
    item.delete = op({
      verb: 'delete', action: 'delete', operationId: id('delete'), description: `delete a ${def.kind}`, params: DELETE_PARAMS,
      body: { schema: DELETE_OPTIONS, contentTypes: ['*/*'] },
      response: { codes: ['200', '202'], schema: ref(STATUS), types: JSON_YAML_PROTOBUF }, gvk,
    });
  }
  return item;
}
