/**
 * @module Kubernetes' `$(VAR)` expansion for env values, command, args and subPathExpr:
 * `$(NAME)` is replaced when NAME resolves and kept verbatim when it does not, `$$` is an
 * escaped `$`, and anything else after a `$` (or an unclosed `$(`) is copied as written.
 */

/** Resolves a variable name; undefined leaves the reference `$(NAME)` as it was. */
export type ExpansionMapping = (name: string) => string | undefined;

/** Expands every `$(NAME)` in input through mapping, following kube's escaping rules. */
export function expand(input: string, mapping: ExpansionMapping): string {
  let out = '';
  let copied = 0;
  for (let i = 0; i < input.length; i++) {
    // A lone trailing `$` is literal text.
    if (input[i] !== '$' || i + 1 >= input.length) continue;
    out += input.slice(copied, i);
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 1;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        // Unclosed reference: "$(" is copied and scanning resumes after it.
        out += '$(';
        i += 1;
      } else {
        const name = input.slice(i + 2, close);
        const value = mapping(name);
        out += value === undefined ? `$(${name})` : value;
        i = close;
      }
    } else {
      out += '$' + next;
      i += 1;
    }
    copied = i + 1;
  }
  return out + input.slice(copied);
}

/** kube's MappingFuncFor: the first map that has the name wins. */
export function mappingFor(...maps: Array<ReadonlyMap<string, string>>): ExpansionMapping {
  return (name) => {
    for (const m of maps) {
      const v = m.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}
