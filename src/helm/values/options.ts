/**
 * @module The user values of one helm command (pkg/cli/values Options.MergeValues): `-f`
 * files merged in order, then `--set-json`, `--set`, `--set-string`, `--set-file` and
 * `--set-literal`, each applied to the result of the previous ones, in Helm's order.
 */
import { readFileSync } from 'node:fs';
import { mergeMaps, type Values } from './coalesce.js';
import { parseInto, parseIntoFile, parseIntoString, parseJson, parseLiteralInto, StrvalsError } from './strvals.js';
import { parseValuesYaml, YamlError } from './yaml.js';

export interface ValueOptions {
  /** -f/--values: YAML files (or "-" for stdin), later ones win. */
  valueFiles?: string[];
  /** --set */
  values?: string[];
  /** --set-string */
  stringValues?: string[];
  /** --set-file: key=path, the file's content becomes the value. */
  fileValues?: string[];
  /** --set-json */
  jsonValues?: string[];
  /** --set-literal */
  literalValues?: string[];
}

/** Bad user values; the message is Helm's ("failed parsing --set data: …"). */
export class ValuesError extends Error {
  override name = 'ValuesError';
}

function errnoMessage(path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `open ${path}: no such file or directory`;
  if (code === 'EISDIR') return `read ${path}: is a directory`;
  if (code === 'EACCES') return `open ${path}: permission denied`;
  return (e as Error).message;
}

function readInput(path: string, readStdin: () => string): string {
  if (path === '-') return readStdin();
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ValuesError(errnoMessage(path, e));
  }
}

/** Merges the user-supplied values as Helm's CLI does. */
export function mergeUserValues(opts: ValueOptions, readStdin: () => string = () => readFileSync(0, 'utf8')): Values {
  let base: Values = {};
  for (const file of opts.valueFiles ?? []) {
    const text = readInput(file, readStdin);
    let current: Values;
    try {
      current = parseValuesYaml(text);
    } catch (e) {
      throw new ValuesError(`failed to parse ${file}: ${(e as Error).message}`);
    }
    base = mergeMaps(base, current);
  }
  const wrap = (flag: string, value: string, fn: () => void, withValue = false) => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ValuesError) throw e;
      if (withValue) throw new ValuesError(`failed parsing ${flag} data ${value}`);
      throw new ValuesError(`failed parsing ${flag} data: ${e instanceof StrvalsError || e instanceof YamlError ? e.message : (e as Error).message}`);
    }
  };
  for (const v of opts.jsonValues ?? []) wrap('--set-json', v, () => parseJson(v, base), true);
  for (const v of opts.values ?? []) wrap('--set', v, () => parseInto(v, base));
  for (const v of opts.stringValues ?? []) wrap('--set-string', v, () => parseIntoString(v, base));
  for (const v of opts.fileValues ?? []) {
    wrap('--set-file', v, () =>
      parseIntoFile(v, base, (path) => {
        try {
          return readFileSync(path, 'utf8');
        } catch (e) {
          throw new ValuesError(`failed parsing --set-file data: ${errnoMessage(path, e)}`);
        }
      }),
    );
  }
  for (const v of opts.literalValues ?? []) wrap('--set-literal', v, () => parseLiteralInto(v, base));
  return base;
}
