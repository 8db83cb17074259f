/** @module An in-memory ObjectSource for tests (kube's fake listers): objects by reference key, change notification by hand. */
import type { KObject } from '../../api/types.js';
import { referenceKey, type ObjectSource, type ReferencedResource, type TokenRequestSpec } from './sources.js';

export class FakeObjectSource implements ObjectSource {
  readonly objects = new Map<string, KObject>();
  serviceList: KObject[] = [];
  /** When set, requestToken answers with it; otherwise it throws as an API without TokenRequest would. */
  token?: string;
  private readonly owners = new Map<string, { refs: string[]; onChange: () => void }>();

  put(resource: ReferencedResource, obj: KObject): void {
    const key = referenceKey(resource, resource === 'persistentvolumes' ? undefined : obj.metadata?.namespace, obj.metadata?.name ?? '');
    this.objects.set(key, obj);
    this.changed(key);
  }

  remove(resource: ReferencedResource, namespace: string | undefined, name: string): void {
    const key = referenceKey(resource, namespace, name);
    this.objects.delete(key);
    this.changed(key);
  }

  async get(resource: ReferencedResource, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    return this.objects.get(referenceKey(resource, resource === 'persistentvolumes' ? undefined : namespace, name));
  }

  async services(namespace: string): Promise<KObject[]> {
    return this.serviceList.filter((s) => s.metadata?.namespace === namespace || s.metadata?.namespace === 'default');
  }

  async requestToken(_pod: KObject, spec: TokenRequestSpec): Promise<string> {
    if (this.token === undefined) throw new Error(`serviceaccounts "${spec.serviceAccountName}" token requests are not served`);
    return this.token;
  }

  track(owner: string, refs: string[], onChange: () => void): void {
    this.owners.set(owner, { refs, onChange });
  }

  untrack(owner: string): void {
    this.owners.delete(owner);
  }

  tracked(owner: string): string[] | undefined {
    return this.owners.get(owner)?.refs;
  }

  private changed(key: string): void {
    for (const o of this.owners.values()) if (o.refs.includes(key)) o.onChange();
  }
}
