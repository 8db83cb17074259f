/**
 * @module The executor of Go's text/template (Go 1.19 semantics, plus Go 1.22's range over
 * integers): walks parse trees against Go values, with Go's variable scoping, truth,
 * missingkey options, argument conversion as reflection does it, and Go's error messages
 * ("template: NAME:LINE:COL: executing \"NAME\" at <NODE>: …").
 */
import { compareGoStrings, formatValue } from './fmt.js';
import { nodeString, type ArgNode, type BranchNode, type ChainNode, type CommandNode, type FieldNode, type IdentifierNode, type Node, type NumberNode, type PipeNode, type TemplateNode, type Tree, type VariableNode } from './parse.js';
import { quote } from './strconv.js';
import { Iface, MISSING, argValue, assignable, canBeNil, elem, elemType, isMapValue, paramTypeString, truth, typeOf, unwrap, zeroOf, type Final, type V } from './reflect.js';
import { GoTyped, goMethods, isGoFunc, isGoStruct, type GoFunc, type GoObject, type GoParamType, type GoValue } from './values.js';

/** Go's maxExecDepth for nested {{template}} calls (native builds; the wasm oracle has 1000). */
export const maxExecDepth = 100000;

/** An execution or parse error carrying Go's message. */
export class TemplateError extends Error {
  override name = 'TemplateError';
  constructor(
    message: string,
    /** The template being executed, for ExecError-like errors. */
    readonly templateName?: string,
  ) {
    super(message);
  }
}

/** A builtin function: receives executor values (Go's reflect.Value parameters). */
export interface BuiltinFunc {
  kind: 'func';
  params: GoParamType[];
  variadic?: GoParamType;
  result?: string;
  builtin: true;
  fn: (...args: V[]) => V;
}

/** What the executor needs from the template set. */
export interface ExecContext {
  lookup(name: string): Tree | null | undefined;
  findFunction(name: string): { fn: GoFunc | BuiltinFunc; builtin: boolean } | undefined;
  missingKey: 'default' | 'zero' | 'error';
}

class Break {}
class Continue {}
const BREAK = new Break();
const CONTINUE = new Continue();

function isStackOverflow(e: unknown): boolean {
  return e instanceof Error && e.message.includes('Maximum call stack size exceeded');
}

/** Where a node is: "NAME:LINE:COL" with the column in UTF-8 bytes, as Go reports. */
export function errorLocation(n: Node): string {
  const text = n.tree.text.slice(0, n.pos);
  const nl = text.lastIndexOf('\n');
  const lineStart = nl + 1;
  const line = 1 + countChar(text, '\n');
  const col = nl === -1 ? byteLen(text) : byteLen(text.slice(lineStart));
  return `${n.tree.parseName}:${line}:${col}`;
}

function countChar(s: string, c: string): number {
  let n = 0;
  for (let i = s.indexOf(c); i !== -1; i = s.indexOf(c, i + 1)) n++;
  return n;
}

function byteLen(s: string): number {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s.length : Buffer.byteLength(s, 'utf8');
}

/** Map keys in Go's order (UTF-8 bytes; UTF-16 order is the same without surrogates). */
function sortedKeys(m: object): string[] {
  const keys = Object.keys(m);
  for (const k of keys) if (/[\ud800-\udfff]/.test(k)) return keys.sort(compareGoStrings);
  return keys.sort();
}

interface Variable {
  name: string;
  value: V;
}

/** One execution of one template (Go's state). */
export class State {
  out = '';
  node: Node | null = null;
  vars: Variable[];

  constructor(
    readonly ctx: ExecContext,
    public tmplName: string,
    dot: V,
    public depth = 0,
  ) {
    this.vars = [{ name: '$', value: dot }];
  }

  errorf(msg: string): never {
    if (!this.node) throw new TemplateError(`template: ${this.tmplName}: ${msg}`, this.tmplName);
    throw new TemplateError(`template: ${errorLocation(this.node)}: executing ${quote(this.tmplName)} at <${nodeString(this.node)}>: ${msg}`, this.tmplName);
  }

  at(n: Node): void {
    this.node = n;
  }

  push(name: string, value: V): void {
    this.vars.push({ name, value });
  }

  mark(): number {
    return this.vars.length;
  }

  pop(mark: number): void {
    this.vars.length = mark;
  }

  setVar(name: string, value: V): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  setTopVar(n: number, value: V): void {
    this.vars[this.vars.length - n]!.value = value;
  }

  varValue(name: string): V {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.errorf(`undefined variable: ${name}`);
  }

  walk(dot: V, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'comment':
        return;
      case 'if':
      case 'with':
        return this.walkIfOrWith(node, dot);
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range':
        return this.walkRange(dot, node);
      case 'template':
        return this.walkTemplate(dot, node);
      case 'text':
        this.out += node.text;
        return;
    }
    this.errorf(`unknown node: ${nodeString(node)}`);
  }

  walkIfOrWith(node: BranchNode, dot: V): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (truth(val)) this.walk(node.type === 'with' ? val : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.pop(mark);
    }
  }

  walkRange(dot: V, r: BranchNode): void {
    this.at(r);
    const outer = this.mark();
    try {
      const raw = this.evalPipeline(dot, r.pipe);
      const val = unwrap(raw);
      const mark = this.mark();
      const ndecl = r.pipe.decl.length;
      const one = (index: V, el: V) => {
        if (ndecl > 0) this.setTopVar(1, el);
        if (ndecl > 1) this.setTopVar(2, index);
        try {
          this.walk(el, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.pop(mark);
        }
      };
      let ran = false;
      if (Array.isArray(val)) {
        for (let i = 0; i < val.length; i++) one(BigInt(i), elem(val, val[i]));
        ran = val.length > 0;
      } else if (val instanceof Uint8Array) {
        for (let i = 0; i < val.length; i++) one(BigInt(i), new GoTyped('uint8', BigInt(val[i]!)));
        ran = val.length > 0;
      } else if (isMapValue(val)) {
        const keys = sortedKeys(val);
        for (const k of keys) one(k, elem(val, val[k]));
        ran = keys.length > 0;
      } else if (typeof val === 'bigint' || (val instanceof GoTyped && val.type !== 'float32')) {
        // Go 1.22: range over an integer n yields 0…n-1 of n's type; one variable only.
        if (ndecl > 1) {
          this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
        }
        const n = typeof val === 'bigint' ? val : BigInt(val.value);
        const typed = val instanceof GoTyped ? val.type : undefined;
        for (let i = 0n; i < n; i++) {
          const x = typed ? new GoTyped(typed, i) : i;
          one(x, x);
        }
        ran = n > 0n;
      } else if (val !== undefined && val !== null) {
        this.errorf(`range can't iterate over ${formatValue(val)}`);
      }
      if (!ran && r.elseList) this.walk(dot, r.elseList);
    } catch (e) {
      if (e !== BREAK) throw e;
    } finally {
      this.pop(outer);
    }
  }

  walkTemplate(dot: V, t: TemplateNode): void {
    this.at(t);
    const tmpl = this.ctx.lookup(t.name);
    if (!tmpl) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth === maxExecDepth) this.errorf(`exceeded maximum template depth (${maxExecDepth})`);
    const newDot = this.evalPipeline(dot, t.pipe);
    const inner = new State(this.ctx, t.name, newDot, this.depth + 1);
    try {
      inner.walk(newDot, tmpl.root);
    } catch (e) {
      if (!isStackOverflow(e)) throw e;
      // The JavaScript stack ends long before Go's depth limit; report what Go reports
      // for the runaway recursion this must be.
      this.at(t);
      this.errorf(`exceeded maximum template depth (${maxExecDepth})`);
    } finally {
      this.out += inner.out;
    }
  }

  evalPipeline(dot: V, pipe: PipeNode | null): V {
    if (!pipe) return undefined;
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      if (value instanceof Iface) value = value.v === null ? undefined : value.v;
    }
    const v = value as V;
    for (const variable of pipe.decl) {
      if (pipe.isAssign) this.setVar(variable.ident[0]!, v);
      else this.push(variable.ident[0]!, v);
    }
    return v;
  }

  notAFunction(args: ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  evalCommand(dot: V, cmd: CommandNode, final: Final): V {
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
  }

  idealConstant(c: NumberNode): V {
    this.at(c);
    if (c.isComplex && !c.isFloat) this.errorf(`complex constant ${c.text} is not supported`);
    const isHex = c.text.length > 2 && c.text[0] === '0' && (c.text[1] === 'x' || c.text[1] === 'X') && !/[pP]/.test(c.text);
    const isRune = c.text[0] === "'";
    if (c.isFloat && !isHex && !isRune && /[.eEpP]/.test(c.text)) return c.float64;
    if (c.isInt) return c.int64;
    if (c.isUint) this.errorf(`${c.text} overflows int`);
    if (c.isFloat) return c.float64;
    return undefined;
  }

  evalFieldNode(dot: V, field: FieldNode, args: ArgNode[] | null, final: Final): V {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  evalChainNode(dot: V, chain: ChainNode, args: ArgNode[] | null, final: Final): V {
    this.at(chain);
    if (chain.field.length === 0) this.errorf('internal error: no fields in evalChainNode');
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, null, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  evalVariableNode(dot: V, variable: VariableNode, args: ArgNode[] | null, final: Final): V {
    this.at(variable);
    const value = this.varValue(variable.ident[0]!);
    if (variable.ident.length === 1) {
      this.notAFunction(args ?? [], final);
      return value;
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final);
  }

  evalFieldChain(dot: V, receiver: V, node: Node, ident: string[], args: ArgNode[] | null, final: Final): V {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i]!, node, null, MISSING, receiver);
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver);
  }

  evalFunction(dot: V, node: IdentifierNode, cmd: Node, args: ArgNode[] | null, final: Final): V {
    this.at(node);
    const f = this.ctx.findFunction(node.ident);
    if (!f) this.errorf(`${quote(node.ident)} is not a defined function`);
    return this.evalCall(dot, f.fn, f.builtin, cmd, node.ident, args, final);
  }

  evalField(dot: V, fieldName: string, node: Node, args: ArgNode[] | null, final: Final, receiver: V): V {
    if (receiver === undefined) {
      if (this.ctx.missingKey === 'error') this.errorf(`nil data; no entry for key ${quote(fieldName)}`);
      return undefined;
    }
    const recv = receiver instanceof Iface ? receiver.v : receiver;
    if (recv === null || recv === undefined) this.errorf(`nil pointer evaluating ${typeOf(receiver)}.${fieldName}`);
    if (typeof recv === 'object') {
      const methods = (recv as GoObject)[goMethods];
      if (methods && Object.prototype.hasOwnProperty.call(methods, fieldName)) {
        return this.evalCall(dot, methods[fieldName]!, false, node, fieldName, args, final);
      }
    }
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (isGoStruct(recv)) {
      if (Object.prototype.hasOwnProperty.call(recv, fieldName)) {
        if (!/^\p{Lu}/u.test(fieldName)) this.errorf(`${fieldName} is an unexported field of struct type ${typeOf(receiver)}`);
        if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
        const v = (recv as GoObject)[fieldName];
        return v === null || v === undefined ? new Iface(null) : v;
      }
    } else if (isMapValue(recv)) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      if (Object.prototype.hasOwnProperty.call(recv, fieldName)) return elem(recv, recv[fieldName]!);
      switch (this.ctx.missingKey) {
        case 'default':
          return undefined;
        case 'zero':
          return zeroOf(elemType(recv));
        case 'error':
          this.errorf(`map has no entry for key ${quote(fieldName)}`);
      }
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typeOf(receiver)}`);
  }

  evalCall(dot: V, fun: GoFunc | BuiltinFunc, isBuiltin: boolean, node: Node, name: string, nodeArgs: ArgNode[] | null, final: Final): V {
    // nodeArgs[0] is the function's own node; the arguments follow.
    const nargs = nodeArgs ? nodeArgs.length - 1 : 0;
    const numParams = fun.params.length + (fun.variadic ? 1 : 0);
    let numIn = nargs;
    if (final !== MISSING) numIn++;
    let numFixed = nargs;
    if (fun.variadic) {
      numFixed = fun.params.length;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${nargs}`);
    } else if (numIn !== numParams) this.errorf(`wrong number of args for ${name}: want ${numParams} got ${numIn}`);

    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: V = undefined;
      for (let j = 1; j <= nargs; j++) {
        v = this.evalArg(dot, 'reflect.Value', nodeArgs![j]!);
        if (truth(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }

    const builtin = (fun as BuiltinFunc).builtin === true;
    const argv: V[] = new Array(numIn);
    let i = 0;
    for (; i < numFixed && i < nargs; i++) {
      const v = this.evalArg(dot, fun.params[i]!, nodeArgs![i + 1]!);
      argv[i] = builtin ? v : argValue(v);
    }
    if (fun.variadic) {
      for (; i < nargs; i++) {
        const v = this.evalArg(dot, fun.variadic, nodeArgs![i + 1]!);
        argv[i] = builtin ? v : argValue(v);
      }
    }
    if (final !== MISSING) {
      let t: GoParamType;
      if (fun.variadic) t = numIn - 1 < numFixed ? fun.params[numIn - 1]! : fun.variadic;
      else t = fun.params[fun.params.length - 1]!;
      const v = this.validateType(final, t);
      argv[i] = builtin ? v : argValue(v);
    }
    let result: V;
    try {
      result = builtin ? (fun as BuiltinFunc).fn(...argv) : (fun as GoFunc).fn(...(argv as GoValue[]));
    } catch (e) {
      if (isStackOverflow(e) || e === BREAK || e === CONTINUE) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (builtin) return result;
    const rt = fun.result ?? 'interface{}';
    if (result === undefined || result === null) return rt === 'interface{}' || !canBeNil(rt) ? new Iface(null) : null;
    return rt === 'interface{}' && fun.result !== undefined ? new Iface(result as GoValue) : result;
  }

  validateType(value: V, typ: GoParamType | null): V {
    if (value === undefined) {
      if (typ === null) return undefined;
      if (canBeNil(typ)) return typ === 'reflect.Value' ? undefined : zeroOf(typ);
      this.errorf(`invalid value; expected ${paramTypeString(typ)}`);
    }
    if (typ === 'reflect.Value' || typ === null) return value;
    if (!assignable(value, typ)) {
      let v: V = value;
      if (v instanceof Iface && v.v !== null) {
        v = v.v;
        if (assignable(v, typ)) return v;
      }
      this.errorf(`wrong type for value; expected ${paramTypeString(typ)}; got ${typeOf(v)}`);
    }
    return value;
  }

  evalArg(dot: V, typ: GoParamType | null, n: ArgNode): V {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ !== null && canBeNil(typ)) return typ === 'reflect.Value' ? undefined : zeroOf(typ);
        this.errorf(`cannot assign nil to ${typ === null ? '<nil>' : paramTypeString(typ)}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ);
    }
    switch (typ) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        this.errorf(`expected bool; found ${nodeString(n)}`);
      case 'float64':
        if (n.type === 'number' && n.isFloat) return n.float64;
        this.errorf(`expected float; found ${nodeString(n)}`);
      case 'int':
      case 'int64':
        if (n.type === 'number' && n.isInt) return typ === 'int' ? n.int64 : new GoTyped('int64', n.int64);
        this.errorf(`expected integer; found ${nodeString(n)}`);
      case 'uint32':
        if (n.type === 'number' && n.isUint) return new GoTyped('uint32', BigInt.asUintN(32, n.uint64));
        this.errorf(`expected unsigned integer; found ${nodeString(n)}`);
      case 'interface{}':
      case 'reflect.Value':
        return this.evalEmptyInterface(dot, n);
      case 'string':
        if (n.type === 'string') return n.text;
        this.errorf(`expected string; found ${nodeString(n)}`);
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${typ === null ? '<nil>' : paramTypeString(typ)}`);
  }

  evalEmptyInterface(dot: V, n: ArgNode): V {
    this.at(n);
    switch (n.type) {
      case 'bool':
        return n.value;
      case 'dot':
        return dot;
      case 'field':
        return this.evalFieldNode(dot, n, null, MISSING);
      case 'identifier':
        return this.evalFunction(dot, n, n, null, MISSING);
      case 'nil':
        this.errorf("evalEmptyInterface: nil (can't happen)");
      case 'number':
        return this.idealConstant(n);
      case 'string':
        return n.text;
      case 'variable':
        return this.evalVariableNode(dot, n, null, MISSING);
      case 'pipe':
        return this.evalPipeline(dot, n);
    }
    this.errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`);
  }

  printValue(n: Node, v: V): void {
    this.at(n);
    const x = v instanceof Iface ? v.v : v;
    switch (typeof x) {
      case 'string':
        this.out += x;
        return;
      case 'undefined':
        this.out += '<no value>';
        return;
      case 'boolean':
      case 'bigint':
        this.out += String(x);
        return;
    }
    if (isGoFunc(x)) this.errorf(`can't print ${nodeString(n)} of type ${typeOf(v)}`);
    this.out += formatValue(x);
  }
}

/** Executes a tree as the template `name` with data `dot`; returns the output. */
export function executeTree(ctx: ExecContext, name: string, tree: Tree, dot: GoValue): string {
  const v: V = dot === null ? undefined : dot;
  const s = new State(ctx, name, v);
  try {
    s.walk(v, tree.root);
  } catch (e) {
    if (e === BREAK || e === CONTINUE) throw new TemplateError(`template: ${name}: break/continue outside range`, name);
    if (isStackOverflow(e)) throw new TemplateError(`template: ${name}: exceeded maximum template depth (${maxExecDepth})`, name);
    throw e;
  }
  return s.out;
}
