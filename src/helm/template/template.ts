/**
 * @module TemplateSet: a set of associated Go templates sharing functions and the
 * missingkey option (Go's *template.Template with its common part). Parse adds the file's
 * template and its {{define}}s with Go's redefinition rules; execute renders one of them.
 * Functions may re-enter the set while it executes (Helm's include and tpl).
 */
import { builtins } from './builtins.js';
import { executeTree, TemplateError, type BuiltinFunc, type ExecContext } from './exec.js';
import { ParseError, isEmptyTree, parse, type Tree } from './parse.js';
import { quote } from './strconv.js';
import type { GoFunc, GoValue } from './values.js';

export type MissingKey = 'default' | 'zero' | 'error';

export interface TemplateSetOptions {
  missingKey?: MissingKey;
  funcs?: Record<string, GoFunc>;
  /** The set's name in "no template … associated with template NAME" (Helm: "gotpl"). */
  name?: string;
}

const goodName = /^[\p{L}_][\p{L}\p{Nd}_]*$/u;

export class TemplateSet {
  missingKey: MissingKey;
  private funcs = new Map<string, GoFunc>();
  private trees = new Map<string, Tree>();
  private name: string | undefined;
  private readonly ctx: ExecContext;

  constructor(opts: TemplateSetOptions = {}) {
    this.missingKey = opts.missingKey ?? 'default';
    this.name = opts.name;
    if (opts.funcs) this.addFuncs(opts.funcs);
    const self = this;
    this.ctx = {
      lookup: (name) => self.trees.get(name),
      findFunction: (name) => {
        const f = self.funcs.get(name);
        if (f) return { fn: f, builtin: false };
        const b: BuiltinFunc | undefined = Object.prototype.hasOwnProperty.call(builtins, name) ? builtins[name] : undefined;
        return b ? { fn: b, builtin: true } : undefined;
      },
      get missingKey() {
        return self.missingKey;
      },
    };
  }

  /** Template.Funcs: adds or replaces functions (they win over builtins of the same name). */
  addFuncs(funcs: Record<string, GoFunc>): this {
    for (const [name, fn] of Object.entries(funcs)) {
      if (!goodName.test(name)) throw new TemplateError(`function name ${quote(name)} is not a valid identifier`);
      this.funcs.set(name, fn);
    }
    return this;
  }

  /** Template.New(name).Parse(text): throws TemplateError with Go's message. */
  parse(name: string, text: string): this {
    let trees: Map<string, Tree>;
    try {
      trees = parse(name, text, { hasFunction: (n) => this.funcs.has(n) || Object.prototype.hasOwnProperty.call(builtins, n) });
    } catch (e) {
      if (e instanceof ParseError) throw new TemplateError(e.message, name);
      // Go's parser recurses on a growing stack; ours ends after some thousand nested actions.
      if (e instanceof Error && e.message.includes('Maximum call stack size exceeded')) {
        throw new TemplateError(`template: ${name}: actions nested too deeply to parse`, name);
      }
      throw e;
    }
    this.name ??= name;
    for (const [n, tree] of trees) {
      const old = this.trees.get(n);
      // associate: an empty redefinition never replaces a template that has content.
      if (old && isEmptyTree(tree.root)) continue;
      this.trees.set(n, tree);
    }
    return this;
  }

  /** ExecuteTemplate: throws TemplateError with Go's message. */
  execute(name: string, data: GoValue): string {
    const tree = this.trees.get(name);
    if (!tree) throw new TemplateError(`template: no template ${quote(name)} associated with template ${quote(this.name ?? '')}`, name);
    return executeTree(this.ctx, name, tree, data);
  }

  has(name: string): boolean {
    return this.trees.has(name);
  }

  names(): string[] {
    return [...this.trees.keys()];
  }

  /**
   * A copy with the same templates and functions, for Helm's tpl. Unlike Go 1.19's Clone
   * (golang/go#43022), the missingkey option is kept.
   */
  clone(): TemplateSet {
    const c = new TemplateSet({ missingKey: this.missingKey, name: this.name });
    for (const [k, v] of this.funcs) c.funcs.set(k, v);
    for (const [k, v] of this.trees) c.trees.set(k, v);
    return c;
  }
}

export { TemplateError };
