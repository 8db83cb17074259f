/**
 * @module kube-apiserver's DefaultIngressClass and DefaultStorageClass admission plugins:
 * an Ingress or PersistentVolumeClaim created without a class gets the cluster's default
 * one (the class annotated `…/is-default-class: "true"`; the newest when several are),
 * so `kubectl get ingress` shows its CLASS and claims bind without naming one. The
 * classes are followed through the store hooks, so admission never reads the store.
 */
import type { KObject, ResourceDef } from '../api/types.js';
import type { RestStorage } from './rest.js';
import { defaultIngressClassAnnotation } from '../api/kinds/ingressclass.js';
import { betaDefaultStorageClassAnnotation, defaultStorageClassAnnotation } from '../api/kinds/storageclass.js';

interface DefaultClassRule {
  /** The class kind (IngressClass, StorageClass) and the annotations that make one the default. */
  classDef: ResourceDef;
  annotations: string[];
  /** The kind that names a class, how it names one, and objects the plugin leaves alone. */
  targetDef: ResourceDef;
  isUnset(obj: KObject): boolean;
  set(obj: KObject, className: string): void;
}

/** Installs one rule's hooks; `classes` are the stored classes at start-up. */
export function installDefaultClassAdmission(rest: RestStorage, rule: DefaultClassRule, classes: KObject[]): void {
  const defaults = new Map<string, string>();
  const track = (obj: KObject) => {
    const name = String(obj.metadata?.name ?? '');
    if (rule.annotations.some((a) => obj.metadata?.annotations?.[a] === 'true')) defaults.set(name, String(obj.metadata?.creationTimestamp ?? ''));
    else defaults.delete(name);
  };
  for (const c of classes) track(c);
  rest.hooks.set(rule.classDef, {
    beginCreate: (obj, dryRun) => (ok) => ok && !dryRun && track(obj),
    beginUpdate: (obj, _old, dryRun) => (ok) => ok && !dryRun && track(obj),
    afterDelete: (obj) => defaults.delete(String(obj.metadata?.name ?? '')),
  });
  rest.hooks.set(rule.targetDef, {
    beginCreate: (obj) => {
      if (defaults.size > 0 && rule.isUnset(obj)) {
        // Several defaults: the most recently created one wins (kube 1.28+).
        const [name] = [...defaults.entries()].sort((a, b) => (a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : a[0] < b[0] ? -1 : 1))[0];
        rule.set(obj, name);
      }
      return () => {};
    },
  });
}

/** The two rules kube-apiserver enables by default. */
export function defaultClassRules(lookup: (group: string, version: string, plural: string) => ResourceDef | undefined): DefaultClassRule[] {
  const rules: DefaultClassRule[] = [];
  const ingressClass = lookup('networking.k8s.io', 'v1', 'ingressclasses');
  const ingress = lookup('networking.k8s.io', 'v1', 'ingresses');
  if (ingressClass && ingress)
    rules.push({
      classDef: ingressClass,
      annotations: [defaultIngressClassAnnotation],
      targetDef: ingress,
      // The legacy annotation names a class too.
      isUnset: (o) => o.spec?.ingressClassName == null && !o.metadata?.annotations?.['kubernetes.io/ingress.class'],
      set: (o, name) => {
        o.spec ??= {};
        o.spec.ingressClassName = name;
      },
    });
  const storageClass = lookup('storage.k8s.io', 'v1', 'storageclasses');
  const claim = lookup('', 'v1', 'persistentvolumeclaims');
  if (storageClass && claim)
    rules.push({
      classDef: storageClass,
      // The beta annotation still counts, as in kube's storage helpers.
      annotations: [defaultStorageClassAnnotation, betaDefaultStorageClassAnnotation],
      targetDef: claim,
      // "" asks for no class at all; only an absent one is defaulted.
      isUnset: (o) => o.spec?.storageClassName == null && !o.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'],
      set: (o, name) => {
        o.spec ??= {};
        o.spec.storageClassName = name;
      },
    });
  return rules;
}
