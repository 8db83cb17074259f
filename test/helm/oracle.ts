/**
 * @module Node loader of the template oracle: Go's real text/template with sprig v3 and
 * Helm 3's functions, compiled to WebAssembly by scripts/build-template-oracle.sh into
 * .cache/template-oracle/. Differential tests render the same templates here and with
 * skiff's engine. Loaded once per process; a batch of renders is one synchronous call.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInThisContext } from 'node:vm';

export interface OracleRequest {
  /** Template name → text, parsed in this order (the first one names the set). */
  templates: Record<string, string>;
  /** The template to execute. */
  entry: string;
  /**
   * The data (`.`), sent as JSON: numbers arrive as float64 as Helm values do. A bigint
   * arrives as Go int, `{ $int64: '5' }` as int64, a Uint8Array as []byte.
   */
  data: unknown;
  /**
   * 'text': missingkey=default; 'helm': missingkey=zero and "<no value>" removed from the
   * output as Helm's engine does; 'helm-strict': missingkey=error. Default 'text'.
   */
  mode?: 'text' | 'helm' | 'helm-strict';
  /**
   * 'none': only the builtins and the t_* test functions (test/helm-oracle/main.go);
   * 'helm': plus sprig (without env/expandenv) and Helm's toYaml…include/tpl/required/fail.
   * Default 'none' in text mode, 'helm' otherwise.
   */
  funcs?: 'none' | 'helm';
  /** The name of the template set (Helm's engine: "gotpl"); default: the first template's. */
  root?: string;
}

export type OracleResult = { output: string } | { error: string };

/** The repository root, from dist/test/helm/oracle.js or test/helm/oracle.ts. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = resolve(dir, '..');
  }
  return process.cwd();
}

export const oracleDir = join(repoRoot(), '.cache', 'template-oracle');

/** Whether the oracle has been built (scripts/build-template-oracle.sh). */
export function oracleAvailable(): boolean {
  return existsSync(join(oracleDir, 'oracle.wasm')) && existsSync(join(oracleDir, 'wasm_exec.js'));
}

type RenderFn = (json: string) => string;
/** The WebAssembly global (not in this project's ES-only lib typings). */
interface Wasm {
  compile(bytes: Uint8Array): Promise<unknown>;
  instantiate(module: unknown, imports: unknown): Promise<unknown>;
}
const WebAssembly = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
interface GoInstance {
  importObject: unknown;
  run(instance: unknown): Promise<void>;
  exited: boolean;
}

let module: unknown;
let go: GoInstance | undefined;
let render: RenderFn | undefined;

/** Loads (or reloads after a Go exit) the oracle; resolves when it can render. */
export async function loadOracle(): Promise<void> {
  if (render && go && !go.exited) return;
  if (!oracleAvailable()) throw new Error(`template oracle not built: run scripts/build-template-oracle.sh (${oracleDir})`);
  const g = globalThis as unknown as { Go?: new () => GoInstance; skiffTemplateOracle?: RenderFn };
  if (!g.Go) runInThisContext(readFileSync(join(oracleDir, 'wasm_exec.js'), 'utf8'), { filename: 'wasm_exec.js' });
  module ??= await WebAssembly.compile(readFileSync(join(oracleDir, 'oracle.wasm')));
  const inst = new g.Go!();
  const instance = await WebAssembly.instantiate(module, inst.importObject);
  // run() executes Go's main until it blocks, which is after it registered the function.
  void inst.run(instance);
  if (typeof g.skiffTemplateOracle !== 'function') throw new Error('template oracle did not start');
  go = inst;
  render = g.skiffTemplateOracle;
}

/** JSON for the oracle, with Go-typed values encoded as the markers main.go decodes. */
function toOracleJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return { $int: x.toString() };
    if (x instanceof Uint8Array) return { $bytes: Buffer.from(x).toString('base64') };
    if (x && typeof x === 'object' && (x as { type?: unknown }).type === 'int64' && typeof (x as { value?: unknown }).value === 'bigint') {
      return { $int64: String((x as { value: bigint }).value) };
    }
    return x;
  });
}

/** Renders synchronously; loadOracle() must have resolved. */
export function goRenderManySync(reqs: OracleRequest[]): OracleResult[] {
  if (!render || !go || go.exited) throw new Error('template oracle not loaded (await loadOracle())');
  const wire = reqs.map((r) => ({
    templates: Object.entries(r.templates),
    entry: r.entry,
    data: r.data === undefined ? null : r.data,
    mode: r.mode ?? 'text',
    funcs: r.funcs ?? '',
    root: r.root ?? '',
  }));
  const out = JSON.parse(render(toOracleJson(wire))) as OracleResult[] | { fatal: string };
  if (!Array.isArray(out)) throw new Error(`template oracle: ${out.fatal}`);
  return out;
}

/** Renders a batch with Go's text/template. */
export async function goRenderMany(reqs: OracleRequest[]): Promise<OracleResult[]> {
  await loadOracle();
  return goRenderManySync(reqs);
}

/** Renders one request with Go's text/template. */
export async function goRender(req: OracleRequest): Promise<OracleResult> {
  return (await goRenderMany([req]))[0]!;
}
