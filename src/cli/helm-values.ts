/**
 * @module The values flags every chart-rendering `skiff helm` verb shares, as Helm's
 * (pkg/cli/values): -f/--values (repeatable, comma-separated), --set, --set-string,
 * --set-file, --set-json, --set-literal (repeatable). Usage:
 * `addValuesFlags(cmd)` while declaring, `valuesFromFlags(cmd.opts())` when running.
 */
import type { Command } from 'commander';
import { mergeUserValues } from '../helm/values/options.js';
import type { Values } from '../helm/values/coalesce.js';

/** The options commander collects for addValuesFlags. */
export interface ValuesFlags {
  values?: string[];
  set?: string[];
  setString?: string[];
  setFile?: string[];
  setJson?: string[];
  setLiteral?: string[];
}

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];
/** pflag's StringSlice: repeatable and comma-separated. */
const collectSplit = (v: string, prev: string[] | undefined) => [...(prev ?? []), ...v.split(',').filter((s) => s !== '')];

export function addValuesFlags(cmd: Command): Command {
  return cmd
    .option('-f, --values <file>', 'specify values in a YAML file (can specify multiple)', collectSplit)
    .option('--set <key=value>', 'set values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)', collect)
    .option('--set-string <key=value>', 'set STRING values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)', collect)
    .option('--set-file <key=path>', 'set values from respective files specified via the command line (can specify multiple or separate values with commas: key1=path1,key2=path2)', collect)
    .option('--set-json <key=json>', 'set JSON values on the command line (can specify multiple or separate values with commas: key1=jsonval1,key2=jsonval2)', collect)
    .option('--set-literal <key=value>', 'set a literal STRING value on the command line', collect);
}

/** The user values the flags describe, merged in Helm's order. Throws ValuesError with Helm's message. */
export function valuesFromFlags(opts: ValuesFlags): Values {
  return mergeUserValues({
    valueFiles: opts.values,
    values: opts.set,
    stringValues: opts.setString,
    fileValues: opts.setFile,
    jsonValues: opts.setJson,
    literalValues: opts.setLiteral,
  });
}
