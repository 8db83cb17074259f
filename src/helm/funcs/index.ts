/** @module The template function library: sprigFuncs (sprig v3's TxtFuncMap), helmFuncs (Helm 3's engine-independent functions) and helmFuncMap (Helm's funcMap without include/tpl/lookup). */
import { parse as parseToml } from 'smol-toml';
import { GoError, GoTyped, goFunc, type GoFunc, type GoObject, type GoValue } from '../template/values.js';
import { collectionFuncs } from './collections.js';
import { cryptoFuncs } from './crypto.js';
import { dateFuncs } from './dates.js';
import { goJsonMarshal, goJsonUnmarshal, tomlMarshal, yamlMarshal, yamlUnmarshal } from './encoding.js';
import { miscFuncs } from './misc.js';
import { regexFuncs } from './regex.js';
import { semverFuncs } from './semver.js';
import { stringFuncs } from './strings.js';

export interface SprigOptions {
  /** The clock behind now, ago, date with non-time arguments, certificates' validity. */
  now?: () => Date;
  /** Uniform [0,1) source for rand*, shuffle, uuidv4, randInt; default crypto randomness. */
  random?: () => number;
}

const I = 'interface{}';
const S = 'string';

/** Every function of sprig v3's TxtFuncMap. */
export function sprigFuncs(opts: SprigOptions = {}): Record<string, GoFunc> {
  const now = opts.now ?? (() => new Date());
  return {
    ...stringFuncs(),
    ...collectionFuncs(),
    ...miscFuncs(),
    ...regexFuncs(),
    ...semverFuncs(),
    ...dateFuncs(now),
    ...cryptoFuncs({ now, random: opts.random }),
    ...jsonFuncs(),
    env: goFunc([S], (name: string) => process.env[name] ?? '', { result: S }),
    expandenv: goFunc([S], (s: string) => expandEnv(s), { result: S }),
  };
}

/** sprig's JSON functions (encoding/json; toRawJson without HTML escaping). */
function jsonFuncs(): Record<string, GoFunc> {
  const quiet = (fn: () => string) => {
    try {
      return fn();
    } catch {
      return '';
    }
  };
  return {
    toJson: goFunc([I], (v) => quiet(() => goJsonMarshal(v)), { result: S }),
    mustToJson: goFunc([I], (v) => goJsonMarshal(v), { result: S }),
    toPrettyJson: goFunc([I], (v) => quiet(() => goJsonMarshal(v, { indent: '  ' })), { result: S }),
    mustToPrettyJson: goFunc([I], (v) => goJsonMarshal(v, { indent: '  ' }), { result: S }),
    toRawJson: goFunc([I], (v) => goJsonMarshal(v, { escapeHTML: false }), { result: S }),
    mustToRawJson: goFunc([I], (v) => goJsonMarshal(v, { escapeHTML: false }), { result: S }),
    fromJson: goFunc([S], (s: string) => {
      try {
        return goJsonUnmarshal(s);
      } catch {
        return null;
      }
    }),
    mustFromJson: goFunc([S], (s: string) => goJsonUnmarshal(s)),
  };
}

/** os.ExpandEnv: $NAME and ${NAME}, unknown variables empty. */
function expandEnv(s: string): string {
  return s.replace(/\$(\{([^}]*)\}|([A-Za-z0-9_]+)|([*#$@!?\-0-9]))/g, (_m, _a, braced: string | undefined, bare: string | undefined, special: string | undefined) => process.env[braced ?? bare ?? special ?? ''] ?? '');
}

export interface HelmFuncOptions {
  /** helm lint: `required` logs instead of failing. */
  lintMode?: boolean;
  /** Receives lint-mode messages ("[INFO] Missing required value: …"). */
  onInfo?: (msg: string) => void;
}

/** Delimiters Helm wraps around `required` messages; the engine extracts the text between them. */
export const WARN_START = 'HELM_ERR_START';
export const WARN_END = 'HELM_ERR_END';

/** Helm 3's functions that need no template set or cluster. */
export function helmFuncs(opts: HelmFuncOptions = {}): Record<string, GoFunc> {
  const errorMap = (fn: () => GoValue): GoValue => {
    try {
      return fn() ?? {};
    } catch (e) {
      return { Error: (e as Error).message };
    }
  };
  const errorList = (fn: () => GoValue): GoValue => {
    try {
      return fn() ?? [];
    } catch (e) {
      return [(e as Error).message];
    }
  };
  const M = 'map[string]interface{}';
  return {
    toYaml: goFunc([I], (v) => {
      try {
        return yamlMarshal(v).replace(/\n$/, '');
      } catch {
        return '';
      }
    }, { result: S }),
    mustToYaml: goFunc([I], (v) => yamlMarshal(v).replace(/\n$/, ''), { result: S }),
    fromYaml: goFunc([S], (s: string) => errorMap(() => yamlUnmarshal(s, 'map')), { result: M }),
    fromYamlArray: goFunc([S], (s: string) => errorList(() => yamlUnmarshal(s, 'seq')), { result: '[]interface{}' }),
    toJson: goFunc([I], (v) => {
      try {
        return goJsonMarshal(v);
      } catch {
        return '';
      }
    }, { result: S }),
    mustToJson: goFunc([I], (v) => goJsonMarshal(v), { result: S }),
    fromJson: goFunc([S], (s: string) => errorMap(() => {
      const v = goJsonUnmarshal(s);
      if (v !== null && (typeof v !== 'object' || Array.isArray(v))) throw new GoError(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : 'bool'} into Go value of type map[string]interface {}`);
      return v;
    }), { result: M }),
    fromJsonArray: goFunc([S], (s: string) => errorList(() => {
      const v = goJsonUnmarshal(s);
      if (v !== null && !Array.isArray(v)) throw new GoError(`json: cannot unmarshal ${typeof v === 'object' ? 'object' : typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : 'bool'} into Go value of type []interface {}`);
      return v;
    }), { result: '[]interface{}' }),
    toToml: goFunc([I], (v) => {
      try {
        return tomlMarshal(v);
      } catch (e) {
        return (e as Error).message;
      }
    }, { result: S }),
    fromToml: goFunc([S], (s: string) => errorMap(() => fromTomlValue(parseToml(s, { integersAsBigInt: true }))), { result: M }),
    fail: goFunc([S], (msg: string) => {
      if (opts.lintMode) {
        opts.onInfo?.(`[INFO] Fail: ${msg}`);
        return '';
      }
      throw new GoError(WARN_START + msg + WARN_END);
    }, { result: S }),
    required: goFunc([S, I], (warn: string, val) => {
      if (val === null || val === undefined || val === '') {
        if (opts.lintMode) {
          opts.onInfo?.(`[INFO] Missing required value: ${warn}`);
          return '';
        }
        throw new GoError(WARN_START + warn + WARN_END);
      }
      return val;
    }),
  };
}

/** BurntSushi/toml decoding into interface{}: integers int64, floats float64. */
function fromTomlValue(v: unknown): GoValue {
  if (typeof v === 'bigint') return new GoTyped('int64', v);
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map(fromTomlValue);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object' && v !== null) {
    const out: GoObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromTomlValue(x);
    return out;
  }
  return v as GoValue;
}

let defaultHelmFuncs: Record<string, GoFunc> | undefined;

/**
 * Helm's funcMap(): sprig without env/expandenv, then Helm's functions. Returns a fresh
 * object (callers add include/tpl/lookup); the default set's functions are built once.
 */
export function helmFuncMap(opts: SprigOptions & HelmFuncOptions = {}): Record<string, GoFunc> {
  const isDefault = Object.values(opts).every((v) => v === undefined);
  if (isDefault && defaultHelmFuncs) return { ...defaultHelmFuncs };
  const f = sprigFuncs(opts);
  delete f.env;
  delete f.expandenv;
  const all = { ...f, ...helmFuncs(opts) };
  if (isDefault) defaultHelmFuncs = all;
  return { ...all };
}
