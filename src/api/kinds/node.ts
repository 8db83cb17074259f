/**
 * @module core/v1 Node (cluster-scoped, status subresource): allocatable defaults to
 * capacity, podCIDR/podCIDRs kept in step, taint and CIDR validation, the podCIDR and
 * providerID update rules, the spec.unschedulable field selector and the printer
 * (STATUS Ready/NotReady/Unknown + SchedulingDisabled, ROLES from node-role labels).
 */
import { isIP } from 'node:net';
import { type FieldError, duplicate, forbidden, invalid } from '../errors.js';
import { age } from '../print.js';
import { canonicalizeResourceList } from '../quantity.js';
import type { KObject, ResourceDef } from '../types.js';
import { isValidLabelValue } from '../validation.js';
import { ageColumn, column, deepEqual, nameColumn, validateEnum, validateQualifiedName, withDecodeErrors, objectList } from './kind-util.js';


export const nodeRoleLabelPrefix = 'node-role.kubernetes.io/';
export const legacyNodeRoleLabel = 'kubernetes.io/role';
const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** IsValidCIDR for spec.podCIDRs. */
export function isValidCIDR(value: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(value);
  if (!m) return false;
  const family = isIP(m[1]);
  const bits = Number(m[2]);
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}

/** The roles kubectl shows: node-role.kubernetes.io/<role> keys and the kubernetes.io/role value, sorted. */
export function nodeRoles(node: KObject): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries((node.metadata?.labels ?? {}) as Record<string, string>)) {
    if (k.startsWith(nodeRoleLabelPrefix)) {
      const role = k.slice(nodeRoleLabelPrefix.length);
      if (role) roles.add(role);
    } else if (k === legacyNodeRoleLabel && v) roles.add(v);
  }
  return [...roles].sort();
}

/** The STATUS cell: Ready / NotReady / Unknown, plus SchedulingDisabled when cordoned. */
export function nodeStatusCell(node: KObject): string {
  const status: string[] = [];
  const ready = objectList(node.status?.conditions).find((c) => c.type === 'Ready');
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  else status.push('Unknown');
  if (node.spec?.unschedulable === true) status.push('SchedulingDisabled');
  return status.join(',');
}

function address(node: KObject, type: string): string {
  return objectList(node.status?.addresses).find((a) => a.type === type)?.address ?? '<none>';
}

function validateTaints(taints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  objectList(taints).forEach((t, i) => {
    const p = `${path}[${i}]`;
    errs.push(...validateQualifiedName(String(t.key ?? ''), `${p}.key`));
    const vmsgs = isValidLabelValue(String(t.value ?? ''));
    if (vmsgs.length) errs.push(invalid(`${p}.value`, t.value ?? '', vmsgs.join(';')));
    errs.push(...validateEnum(t.effect, taintEffects, `${p}.effect`));
    const key = `${t.effect}\u0000${t.key}`;
    if (seen.has(key)) errs.push({ ...duplicate(p, t), detail: 'taints must be unique by key and effect pair' });
    seen.add(key);
  });
  return errs;
}

export const nodeDef: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  namespaced: false,
  shortNames: ['no'],
  subresources: { status: true },
  extraSubresources: ['proxy'],
  tracksGeneration: false,
  defaults(obj) {
    withDecodeErrors('Node', 'v1', () => {
      const spec = (obj.spec ??= {});
      // The v1 conversion keeps podCIDR equal to podCIDRs[0].
      if (spec.podCIDR && !(Array.isArray(spec.podCIDRs) && spec.podCIDRs.length)) spec.podCIDRs = [spec.podCIDR];
      else if (!spec.podCIDR && Array.isArray(spec.podCIDRs) && spec.podCIDRs.length) spec.podCIDR = spec.podCIDRs[0];
      const status = obj.status;
      if (status && typeof status === 'object') {
        canonicalizeResourceList(status.capacity);
        if (status.allocatable === undefined && status.capacity) status.allocatable = { ...status.capacity };
        canonicalizeResourceList(status.allocatable);
      }
    });
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const cidrs: unknown[] = Array.isArray(obj.spec?.podCIDRs) ? obj.spec.podCIDRs : [];
    cidrs.forEach((c, i) => {
      if (typeof c !== 'string' || !isValidCIDR(c))
        errs.push(invalid(`spec.podCIDRs[${i}]`, c, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
    });
    if (cidrs.length > 1) {
      const families = cidrs.map((c) => isIP(String(c).split('/')[0]));
      if (cidrs.length > 2 || families[0] === families[1])
        errs.push(invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
    }
    errs.push(...validateTaints(obj.spec?.taints, 'spec.taints'));
    return errs;
  },
  validateUpdate(obj: KObject, old: KObject) {
    const errs: FieldError[] = [];
    const oldCIDRs: unknown[] = old.spec?.podCIDRs ?? [];
    if (oldCIDRs.length > 0 && !deepEqual(obj.spec?.podCIDRs ?? [], oldCIDRs))
      errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
    if (old.spec?.providerID && obj.spec?.providerID !== old.spec.providerID)
      errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
    return errs;
  },
  fieldSelectors: {
    'spec.unschedulable': (o) => String(o.spec?.unschedulable === true),
  },
  table: {
    columns: [
      nameColumn,
      column('Status', 'string', 'The status of the node'),
      column('Roles', 'string', 'The roles of the node'),
      ageColumn,
      column('Version', 'string', 'Kubelet Version reported by the node.'),
      column(
        'Internal-IP',
        'string',
        "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/concepts/nodes/node/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).",
        1,
      ),
      column(
        'External-IP',
        'string',
        "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/concepts/nodes/node/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).",
        1,
      ),
      column('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      column('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      column('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
    ],
    cells(obj, now) {
      const info = obj.status?.nodeInfo ?? {};
      const roles = nodeRoles(obj).join(',');
      return [
        obj.metadata?.name ?? '',
        nodeStatusCell(obj),
        roles || '<none>',
        age(obj.metadata?.creationTimestamp, now),
        info.kubeletVersion ?? '',
        address(obj, 'InternalIP'),
        address(obj, 'ExternalIP'),
        info.osImage || '<unknown>',
        info.kernelVersion || '<unknown>',
        info.containerRuntimeVersion || '<unknown>',
      ];
    },
  },
};
