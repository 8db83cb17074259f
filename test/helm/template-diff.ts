/**
 * @module Helpers of the template differential tests: the corpus loader, generated values
 * and templates, and the engine side of a render in the oracle's modes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { repoRoot, type OracleRequest, type OracleResult } from './oracle.js';
import { oracleTestFuncs } from './oracle-funcs.js';
import { GoTyped, TemplateSet, type GoValue } from '../../src/helm/template/index.js';

export interface Case {
  name: string;
  t: string;
  defs?: Record<string, string>;
  data?: unknown;
  gen?: boolean;
  mode?: 'text' | 'helm' | 'helm-strict' | 'all';
  /** A documented difference from Go 1.19: the case is rendered but not compared. */
  diff?: string;
}

export interface Run {
  label: string;
  req: OracleRequest;
}

/** A seeded generator, so the generated values are the same on every run. */
export function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

const strings = ['', 'x', 'hello world', 'ünïcødé', '<a&b>', '0', 'true', 'a,b', ' ', 'line\nbreak', '%d'];
const numbers = [0, 1, -1, 2.5, -0.5, 3, 1e21, 0.1, 123456789, 1e-7, 100];

function genValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 1 ? 6 : 8));
  switch (k) {
    case 0:
      return strings[Math.floor(r() * strings.length)];
    case 1:
      return numbers[Math.floor(r() * numbers.length)];
    case 2:
      return r() < 0.5;
    case 3:
      return null;
    case 4:
      return BigInt(Math.floor(r() * 10) - 3);
    case 5:
      return strings[Math.floor(r() * strings.length)];
    case 6: {
      const n = Math.floor(r() * 4);
      return Array.from({ length: n }, () => genValue(r, depth + 1));
    }
    default: {
      const n = Math.floor(r() * 4);
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) o[['a', 'b', 'k', 'name', 'z'][Math.floor(r() * 5)]!] = genValue(r, depth + 1);
      return o;
    }
  }
}

/** Generated data sets: the same keys with values of changing kinds. */
export function generatedData(count: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng(1000 + i * 7919);
    out.push({
      a: genValue(r, 0),
      b: genValue(r, 0),
      s: strings[i % strings.length],
      n: numbers[i % numbers.length],
      i: BigInt(i - 2),
      t: i % 2 === 0,
      z: null,
      list: Array.from({ length: i % 4 }, () => genValue(r, 1)),
      m: Object.fromEntries(Array.from({ length: i % 3 }, (_, j) => [['b', 'a', 'c'][j]!, genValue(r, 1)])),
      nested: { x: { y: genValue(r, 1) }, l: [genValue(r, 2)] },
    });
  }
  return out;
}

/** The data as the engine sees it, with the oracle's $int/$int64/$bytes markers decoded. */
/**
 * Random templates from a small grammar of text/template (fields, variables, constants,
 * builtins, pipelines, if/with/range/else, declarations), so combinations nobody wrote
 * down are compared too. Most of them fail with some type error, which is the point:
 * the messages must match as well.
 */
export function generatedTemplates(count: number, seed = 42): string[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const fields = ['.a', '.b', '.s', '.n', '.i', '.t', '.z', '.list', '.m', '.m.a', '.nested.x.y', '.nested.l', '.a.k', '.nope', '$', '.'];
  const consts = ['1', '0', '-2', '1.5', '"s"', '""', 'true', 'false', '"%v"', '3'];
  const fns1 = ['not', 'len', 'print', 'html', 'js', 'urlquery', 'println', 't_str', 't_int', 't_float', 't_any', 't_bool', 't_list', 't_map', 't_int64', 'printf "%d"', 'printf "%s"', 'printf "%q"', 'printf "%x"', 'printf "%5.2f"', 'printf "%T"', 'printf "%+v"'];
  const fns2 = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'index', 'slice', 'print', 't_vari "p"', 'printf "%v-%v"', 'call t_fn'];
  const expr = (depth: number, vars: string[]): string => {
    const k = r();
    if (k < 0.35 || depth > 2) return r() < 0.75 ? pick([...fields, ...vars]) : pick(consts);
    if (k < 0.55) return `(${pick(fns1)} ${expr(depth + 1, vars)})`;
    if (k < 0.85) return `(${pick(fns2)} ${expr(depth + 1, vars)} ${expr(depth + 1, vars)})`;
    return `(${expr(depth + 1, vars)} | ${pick(fns1)})`;
  };
  const pipeline = (vars: string[]): string => {
    const e = expr(0, vars).replace(/^\((.*)\)$/, '$1');
    return r() < 0.2 ? `${e} | ${pick(fns1)}` : e;
  };
  const block = (depth: number, vars: string[]): string => {
    let out = '';
    const n = 1 + Math.floor(r() * (depth === 0 ? 3 : 2));
    for (let i = 0; i < n; i++) {
      const k = r();
      const trimL = r() < 0.3 ? '- ' : ' ';
      const trimR = r() < 0.3 ? ' -' : ' ';
      if (k < 0.3 || depth > 1) out += `{{${trimL}${pipeline(vars)}${trimR}}}` + pick(['', ' ', '\n', ',']);
      else if (k < 0.45) out += `{{ if ${pipeline(vars)} }}${block(depth + 1, vars)}{{ else }}${block(depth + 1, vars)}{{ end }}`;
      else if (k < 0.6) out += `{{ with ${pipeline(vars)} }}${block(depth + 1, vars)}{{ end }}`;
      else if (k < 0.75) {
        const v = `$v${depth}`;
        out += `{{ range $k${depth}, ${v} := ${pipeline(vars)} }}${block(depth + 1, [...vars, v, `$k${depth}`])}{{ else }}-{{ end }}`;
      } else if (k < 0.85) {
        const v = `$x${depth}${i}`;
        out += `{{ ${v} := ${pipeline(vars)} }}${block(depth + 1, [...vars, v])}`;
      } else if (k < 0.9 && vars.some((v) => v.startsWith('$x'))) {
        out += `{{ ${vars.find((v) => v.startsWith('$x'))} = ${pipeline(vars)} }}`;
      } else if (k < 0.93 && vars.some((v) => v.startsWith('$v'))) {
        out += `{{ if ${pipeline(vars)} }}{{ ${pick(['break', 'continue'])} }}{{ end }}`;
      } else if (k < 0.96) {
        out += `{{ define "d${depth}${i}" }}${block(depth + 1, [])}{{ end }}{{ template "d${depth}${i}" ${pipeline(vars)} }}`;
      } else out += pick(['text', ' ', '\n', 'é']);
    }
    return out;
  };
  return Array.from({ length: count }, () => block(0, []));
}

function toGo(v: unknown): GoValue {
  if (Array.isArray(v)) return v.map(toGo);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o[keys[0]!] === 'string') {
      const s = o[keys[0]!] as string;
      if (keys[0] === '$int') return BigInt(s);
      if (keys[0] === '$int64') return new GoTyped('int64', BigInt(s));
      if (keys[0] === '$bytes') return new Uint8Array(Buffer.from(s, 'base64'));
    }
    return Object.fromEntries(keys.map((k) => [k, toGo(o[k])]));
  }
  return v as GoValue;
}

export function loadCorpus(): Case[] {
  const dir = join(repoRoot(), 'test', 'helm', 'corpus');
  const cases: Case[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.yaml')) continue;
    const doc = YAML.parse(readFileSync(join(dir, f), 'utf8')) as Case[];
    for (const c of doc) cases.push({ ...c, name: `${f.replace(/\.yaml$/, '')}/${c.name}` });
  }
  return cases;
}

export function runs(cases: Case[], gen: unknown[]): Run[] {
  const out: Run[] = [];
  for (const c of cases) {
    const modes = c.mode === 'all' ? (['text', 'helm', 'helm-strict'] as const) : [c.mode ?? 'text'];
    const datas = c.gen ? gen : [c.data ?? null];
    for (const mode of modes) {
      datas.forEach((data, i) => {
        out.push({
          label: `${c.name}${modes.length > 1 ? ` [${mode}]` : ''}${datas.length > 1 ? ` #${i}` : ''}`,
          req: { templates: { t: c.t, ...(c.defs ?? {}) }, entry: 't', data, mode, funcs: 'none' },
        });
      });
    }
  }
  return out;
}

/** Renders a request with the engine, as the oracle's modes do. */
export function engineRender(req: OracleRequest): OracleResult {
  const mode = req.mode ?? 'text';
  const set = new TemplateSet({ missingKey: mode === 'text' ? 'default' : mode === 'helm' ? 'zero' : 'error', funcs: oracleTestFuncs });
  try {
    for (const [name, text] of Object.entries(req.templates)) set.parse(name, text);
    const out = set.execute(req.entry, toGo(req.data));
    return { output: mode === 'helm' ? out.replaceAll('<no value>', '') : out };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * Known, documented differences in messages: the wasm build of Go has maxExecDepth 1000
 * (native 100000), and range over an integer is Go 1.22's (with two variables it fails with
 * 1.22's message where 1.19 rejects any integer).
 */
export function normalize(r: OracleResult): OracleResult {
  if ('error' in r) {
    return {
      error: r.error
        .replace('exceeded maximum template depth (1000)', 'exceeded maximum template depth (100000)')
        .replace(/: can't use (-?\d+) to iterate over more than one variable$/, ": range can't iterate over $1"),
    };
  }
  return r;
}

