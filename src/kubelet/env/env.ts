/**
 * @module A container's final environment, as kubelet's makeEnvironmentVariables builds
 * it: envFrom sources (ConfigMaps and Secrets, with prefix and optional), then env in
 * order — literal values with `$(VAR)` expansion over what came before and the service
 * variables, or valueFrom configMapKeyRef / secretKeyRef / fieldRef / resourceFieldRef —
 * then the service variables the pod did not set itself. Failures are kubelet's
 * CreateContainerConfigError, with its messages.
 */
import type { KObject } from '../../api/types.js';
import { containerResourceValue, podFieldValue, type DownwardAPIContext } from './downward-api.js';
import { expand, mappingFor } from './expansion.js';
import { serviceEnvMap, type EnvVar } from './service-env.js';
import { referenceKey, type ObjectSource } from './sources.js';

/** kubelet's CreateContainerConfigError: the container cannot be configured (yet); retried on later syncs. */
export class CreateContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'CreateContainerConfigError';
  }
}

export interface EnvironmentInput extends DownwardAPIContext {
  pod: KObject;
  container: KObject;
  source: ObjectSource;
}

function list(v: unknown): KObject[] {
  return Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as KObject[]) : [];
}

/** Secret data is base64 on the wire; the process sees the decoded bytes as text. */
function decoded(secret: KObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((secret.data ?? {}) as Record<string, string>)) out[k] = Buffer.from(String(v), 'base64').toString('utf8');
  return out;
}

/** The ConfigMaps and Secrets a container's env names (so their creation re-syncs a waiting pod). */
export function containerEnvReferences(namespace: string, container: KObject): string[] {
  const refs = new Set<string>();
  for (const f of list(container.envFrom)) {
    if (f.configMapRef?.name) refs.add(referenceKey('configmaps', namespace, f.configMapRef.name));
    if (f.secretRef?.name) refs.add(referenceKey('secrets', namespace, f.secretRef.name));
  }
  for (const e of list(container.env)) {
    const cm = e.valueFrom?.configMapKeyRef;
    const s = e.valueFrom?.secretKeyRef;
    if (cm?.name) refs.add(referenceKey('configmaps', namespace, cm.name));
    if (s?.name) refs.add(referenceKey('secrets', namespace, s.name));
  }
  return [...refs];
}

/**
 * Resolves the environment of input.container. Throws CreateContainerConfigError with
 * kubelet's message ('configmap "x" not found', "couldn't find key k in ConfigMap ns/x").
 */
export async function makeEnvironmentVariables(input: EnvironmentInput): Promise<EnvVar[]> {
  try {
    return await resolveEnvironment(input);
  } catch (err) {
    // Any failure to configure the container is reported the same way (generateContainerConfig).
    if (err instanceof CreateContainerConfigError) throw err;
    throw new CreateContainerConfigError(err instanceof Error ? err.message : String(err));
  }
}

async function resolveEnvironment(input: EnvironmentInput): Promise<EnvVar[]> {
  const { pod, container, source } = input;
  const ns: string = pod.metadata?.namespace ?? '';
  const services = await source.services(ns);
  const serviceEnv = serviceEnvMap(services, ns, pod.spec?.enableServiceLinks !== false);

  const configMaps = new Map<string, Record<string, string> | undefined>();
  const secrets = new Map<string, Record<string, string> | undefined>();
  const configMapData = async (name: string): Promise<Record<string, string> | undefined> => {
    if (!configMaps.has(name)) {
      const cm = await source.get('configmaps', ns, name);
      configMaps.set(name, cm ? { ...((cm.data ?? {}) as Record<string, string>) } : undefined);
    }
    return configMaps.get(name);
  };
  const secretData = async (name: string): Promise<Record<string, string> | undefined> => {
    if (!secrets.has(name)) {
      const s = await source.get('secrets', ns, name);
      secrets.set(name, s ? decoded(s) : undefined);
    }
    return secrets.get(name);
  };

  const env = new Map<string, string>();
  for (const from of list(container.envFrom)) {
    const prefix: string = from.prefix ?? '';
    if (from.configMapRef) {
      const data = await configMapData(from.configMapRef.name);
      if (!data) {
        if (from.configMapRef.optional) continue;
        throw new CreateContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(data)) env.set(prefix + k, v);
    } else if (from.secretRef) {
      const data = await secretData(from.secretRef.name);
      if (!data) {
        if (from.secretRef.optional) continue;
        throw new CreateContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(data)) env.set(prefix + k, v);
    }
  }

  // Values expand against what is already set, then the service variables.
  const mapping = mappingFor(env, serviceEnv);
  for (const e of list(container.env)) {
    let value: string;
    if (typeof e.value === 'string' && e.value !== '') value = expand(e.value, mapping);
    else if (e.valueFrom) {
      const from = e.valueFrom;
      if (from.fieldRef) value = podFieldValue(pod, from.fieldRef.fieldPath, input);
      else if (from.resourceFieldRef) value = containerResourceValue(pod, from.resourceFieldRef, container.name, input);
      else if (from.configMapKeyRef) {
        const { name, key, optional } = from.configMapKeyRef;
        const data = await configMapData(name);
        if (!data) {
          if (optional) continue;
          throw new CreateContainerConfigError(`configmap "${name}" not found`);
        }
        if (!Object.hasOwn(data, key)) {
          if (optional) continue;
          throw new CreateContainerConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
        }
        value = data[key];
      } else if (from.secretKeyRef) {
        const { name, key, optional } = from.secretKeyRef;
        const data = await secretData(name);
        if (!data) {
          if (optional) continue;
          throw new CreateContainerConfigError(`secret "${name}" not found`);
        }
        if (!Object.hasOwn(data, key)) {
          if (optional) continue;
          throw new CreateContainerConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
        }
        value = data[key];
      } else value = '';
    } else value = '';
    env.set(e.name, value);
  }

  const out: EnvVar[] = [...env].map(([name, value]) => ({ name, value }));
  // The pod's own variables win over generated service variables of the same name.
  for (const [name, value] of serviceEnv) if (!env.has(name)) out.push({ name, value });
  return out;
}

/** Expands `$(VAR)` in command and args with the container's final environment (kube's ExpandContainerCommandAndArgs). */
export function expandCommandAndArgs(container: KObject, env: EnvVar[]): { command?: string[]; args?: string[] } {
  const mapping = mappingFor(new Map(env.map((e) => [e.name, e.value])));
  const ex = (v: unknown) => (Array.isArray(v) ? v.map((s) => expand(String(s), mapping)) : undefined);
  return { command: ex(container.command), args: ex(container.args) };
}
