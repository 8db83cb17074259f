/**
 * @module The parser of Go's text/template (Go 1.19): the node tree, `{{define}}`/`{{block}}`
 * trees, variable scoping, function checks at parse time, and Go's parse error messages
 * ("template: NAME:LINE: unexpected …").
 */
import { Lexer, T, itemString, type Item } from './lex.js';
import { quote, unquote, unquoteChar } from './strconv.js';

/** The source a node was parsed from, for error locations. */
export interface TreeInfo {
  /** The top-level template being parsed (file name), used in locations. */
  parseName: string;
  text: string;
}

interface Base {
  pos: number;
  tree: TreeInfo;
}

export interface ListNode extends Base { type: 'list'; nodes: Node[] }
export interface TextNode extends Base { type: 'text'; text: string }
export interface CommentNode extends Base { type: 'comment'; text: string }
export interface ActionNode extends Base { type: 'action'; line: number; pipe: PipeNode }
export interface PipeNode extends Base { type: 'pipe'; line: number; isAssign: boolean; decl: VariableNode[]; cmds: CommandNode[] }
export interface CommandNode extends Base { type: 'command'; args: ArgNode[] }
export interface IdentifierNode extends Base { type: 'identifier'; ident: string }
export interface VariableNode extends Base { type: 'variable'; ident: string[] }
export interface DotNode extends Base { type: 'dot' }
export interface NilNode extends Base { type: 'nil' }
export interface FieldNode extends Base { type: 'field'; ident: string[] }
export interface ChainNode extends Base { type: 'chain'; node: ArgNode; field: string[] }
export interface BoolNode extends Base { type: 'bool'; value: boolean }
export interface NumberNode extends Base {
  type: 'number';
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  isComplex: boolean;
  int64: bigint;
  uint64: bigint;
  float64: number;
  text: string;
}
export interface StringNode extends Base { type: 'string'; quoted: string; text: string }
export interface BranchNode extends Base { type: 'if' | 'range' | 'with'; line: number; pipe: PipeNode; list: ListNode; elseList: ListNode | null }
export interface TemplateNode extends Base { type: 'template'; line: number; name: string; pipe: PipeNode | null }
export interface BreakNode extends Base { type: 'break'; line: number }
export interface ContinueNode extends Base { type: 'continue'; line: number }
interface EndNode extends Base { type: 'end' }
interface ElseNode extends Base { type: 'else'; line: number }

export type ArgNode = IdentifierNode | VariableNode | DotNode | NilNode | FieldNode | ChainNode | BoolNode | NumberNode | StringNode | PipeNode;
export type Node = ListNode | TextNode | CommentNode | ActionNode | PipeNode | CommandNode | ArgNode | BranchNode | TemplateNode | BreakNode | ContinueNode | EndNode | ElseNode;

/** A parsed template: its name and root list. */
export interface Tree {
  name: string;
  root: ListNode;
  info: TreeInfo;
}

/** The node as Go's String() prints it (error contexts). */
export function nodeString(n: Node): string {
  switch (n.type) {
    case 'list':
      return n.nodes.map(nodeString).join('');
    case 'text':
      return n.text;
    case 'comment':
      return '{{' + n.text + '}}';
    case 'action':
      return '{{' + nodeString(n.pipe) + '}}';
    case 'pipe': {
      let s = '';
      if (n.decl.length > 0) s = n.decl.map(nodeString).join(', ') + ' := ';
      return s + n.cmds.map(nodeString).join(' | ');
    }
    case 'command':
      return n.args.map((a) => (a.type === 'pipe' ? '(' + nodeString(a) + ')' : nodeString(a))).join(' ');
    case 'identifier':
      return n.ident;
    case 'variable':
      return n.ident.join('.');
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'field':
      return n.ident.map((i) => '.' + i).join('');
    case 'chain':
      return (n.node.type === 'pipe' ? '(' + nodeString(n.node) + ')' : nodeString(n.node)) + n.field.map((f) => '.' + f).join('');
    case 'bool':
      return n.value ? 'true' : 'false';
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
    case 'if':
    case 'range':
    case 'with':
      return `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}${n.elseList ? '{{else}}' + nodeString(n.elseList) : ''}{{end}}`;
    case 'template':
      return `{{template ${quote(n.name)}${n.pipe ? ' ' + nodeString(n.pipe) : ''}}}`;
    case 'break':
      return '{{break}}';
    case 'continue':
      return '{{continue}}';
    case 'end':
      return '{{end}}';
    case 'else':
      return '{{else}}';
  }
}

/** A parse failure; the message is Go's complete error string. */
export class ParseError extends Error {}

/** unicode.IsSpace, which bytes.TrimSpace uses (JavaScript's \s also counts U+FEFF). */
const goSpaceOnly = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

/** parse.IsEmptyTree. */
export function isEmptyTree(n: Node | null): boolean {
  if (!n) return true;
  switch (n.type) {
    case 'comment':
      return true;
    case 'list':
      return n.nodes.every(isEmptyTree);
    case 'text':
      return goSpaceOnly.test(n.text);
    default:
      return false;
  }
}

export interface ParseOptions {
  /** Whether a function name is defined (template funcs or builtins). */
  hasFunction: (name: string) => boolean;
}

/**
 * Parses one template text named `name`: returns the trees it defines (the top-level one
 * under `name`, plus every `{{define}}`/`{{block}}`), with Go's add() rules within one parse.
 */
export function parse(name: string, text: string, opts: ParseOptions): Map<string, Tree> {
  const treeSet = new Map<string, Tree>();
  const info: TreeInfo = { parseName: name, text };
  const lex = new Lexer(name, text, !opts.hasFunction('break'), !opts.hasFunction('continue'));
  const shared: Shared = { lex, treeSet, opts, info };
  const p = new Parser(name, shared);
  p.vars = ['$'];
  p.parseTop();
  p.add();
  return treeSet;
}

/** What the trees of one parse share (each tree has its own lookahead, as in Go). */
interface Shared {
  lex: Lexer;
  treeSet: Map<string, Tree>;
  opts: ParseOptions;
  info: TreeInfo;
}

class Parser {
  root: ListNode | null = null;
  vars: string[] = ['$'];
  rangeDepth = 0;
  private token: [Item, Item, Item] = [{ typ: T.Error, pos: 0, val: '', line: 0 }, null!, null!];
  private peekCount = 0;
  private actionLine = 0;

  constructor(
    public name: string,
    private s: Shared,
  ) {}

  next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.s.lex.nextItem();
    return this.token[this.peekCount]!;
  }
  backup(): void {
    this.peekCount++;
  }
  backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }
  backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }
  peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1]!;
    this.peekCount = 1;
    this.token[0] = this.s.lex.nextItem();
    return this.token[0];
  }
  nextNonSpace(): Item {
    let t: Item;
    do t = this.next();
    while (t.typ === T.Space);
    return t;
  }
  peekNonSpace(): Item {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  errorf(msg: string): never {
    this.root = null;
    throw new ParseError(`template: ${this.s.info.parseName}:${this.token[0].line}: ${msg}`);
  }

  expect(expected: T, context: string): Item {
    const t = this.nextNonSpace();
    if (t.typ !== expected) this.unexpected(t, context);
    return t;
  }

  expectOneOf(e1: T, e2: T, context: string): Item {
    const t = this.nextNonSpace();
    if (t.typ !== e1 && t.typ !== e2) this.unexpected(t, context);
    return t;
  }

  unexpected(t: Item, context: string): never {
    if (t.typ === T.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at ${this.s.info.parseName}:${this.actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${itemString(t)}${extra}`);
    }
    this.errorf(`unexpected ${itemString(t)} in ${context}`);
  }

  newList(pos: number): ListNode {
    return { type: 'list', nodes: [], pos: pos, tree: this.s.info };
  }

  add(): void {
    const tree = this.s.treeSet.get(this.name);
    if (!tree || isEmptyTree(tree.root)) {
      this.s.treeSet.set(this.name, { name: this.name, root: this.root!, info: this.s.info });
      return;
    }
    if (!isEmptyTree(this.root)) this.errorf(`template: multiple definition of template ${quote(this.name)}`);
  }

  parseTop(): void {
    this.root = this.newList(this.peek().pos);
    while (this.peek().typ !== T.EOF) {
      if (this.peek().typ === T.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === T.Define) {
          const sub = new Parser('definition', this.s);
          sub.parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') this.errorf(`unexpected ${nodeString(n)}`);
      this.root!.nodes.push(n);
    }
  }

  parseDefinition(): void {
    const context = 'define clause';
    const nameTok = this.expectOneOf(T.String, T.RawString, context);
    try {
      this.name = unquote(nameTok.val);
    } catch (e) {
      this.errorf((e as Error).message);
    }
    this.expect(T.RightDelim, context);
    const [list, end] = this.itemList();
    this.root = list;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.add();
  }

  itemList(): [ListNode, Node] {
    const list = this.newList(this.peekNonSpace().pos);
    while (this.peekNonSpace().typ !== T.EOF) {
      const n = this.textOrAction();
      if (n.type === 'end' || n.type === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  textOrAction(): Node {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case T.Text:
        return { type: 'text', text: t.val, pos: t.pos, tree: this.s.info };
      case T.LeftDelim: {
        this.actionLine = t.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      case T.Comment:
        return { type: 'comment', text: t.val, pos: t.pos, tree: this.s.info };
    }
    this.unexpected(t, 'input');
  }

  action(): Node {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case T.Block:
        return this.blockControl();
      case T.Break:
        return this.breakControl(t.pos, t.line, 'break');
      case T.Continue:
        return this.breakControl(t.pos, t.line, 'continue');
      case T.Else:
        return this.elseControl();
      case T.End:
        return { type: 'end', pos: this.expect(T.RightDelim, 'end').pos, tree: this.s.info };
      case T.If:
        return this.branch('if', true);
      case T.Range:
        return this.branch('range', false);
      case T.Template:
        return this.templateControl();
      case T.With:
        return this.branch('with', false);
    }
    this.backup();
    const tok = this.peek();
    return { type: 'action', line: tok.line, pipe: this.pipeline('command', T.RightDelim), pos: tok.pos, tree: this.s.info };
  }

  breakControl(pos: number, line: number, kind: 'break' | 'continue'): Node {
    const t = this.nextNonSpace();
    if (t.typ !== T.RightDelim) this.unexpected(t, `{{${kind}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${kind}}} outside {{range}}`);
    return { type: kind, line, pos: pos, tree: this.s.info };
  }

  pipeline(context: string, end: T): PipeNode {
    const tok = this.peekNonSpace();
    const pipe: PipeNode = { type: 'pipe', line: tok.line, isAssign: false, decl: [], cmds: [], pos: tok.pos, tree: this.s.info };
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.typ === T.Variable) {
        this.next();
        const after = this.peek();
        const nxt = this.peekNonSpace();
        if (nxt.typ === T.Assign || nxt.typ === T.Declare) {
          pipe.isAssign = nxt.typ === T.Assign;
          this.nextNonSpace();
          pipe.decl.push(this.newVariable(v.pos, v.val));
          this.vars.push(v.val);
        } else if (nxt.typ === T.Char && nxt.val === ',') {
          this.nextNonSpace();
          pipe.decl.push(this.newVariable(v.pos, v.val));
          this.vars.push(v.val);
          if (context === 'range' && pipe.decl.length < 2) {
            const k = this.peekNonSpace().typ;
            if (k === T.Variable || k === T.RightDelim || k === T.RightParen) continue decls;
            this.errorf('range can only initialize variables');
          }
          this.errorf(`too many declarations in ${context}`);
        } else if (after.typ === T.Space) this.backup3(v, after);
        else this.backup2(v);
      }
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      switch (t.typ) {
        case end:
          this.checkPipeline(pipe, context);
          return pipe;
        case T.Bool:
        case T.CharConstant:
        case T.Complex:
        case T.Dot:
        case T.Field:
        case T.Identifier:
        case T.Number:
        case T.Nil:
        case T.RawString:
        case T.String:
        case T.Variable:
        case T.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      const k = pipe.cmds[i]!.args[0]!.type;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  branch(context: 'if' | 'range' | 'with', allowElseIf: boolean): BranchNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, T.RightDelim);
      if (context === 'range') this.rangeDepth++;
      let [list, next] = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.type === 'else') {
        // "{{else if …}}" and (Go 1.23) "{{else with …}}" nest the next branch in the else list.
        if (allowElseIf && this.peek().typ === T.If) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branch('if', true));
        } else if (context === 'with' && this.peek().typ === T.With) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branch('with', false));
        } else {
          [elseList, next] = this.itemList();
          if (next.type !== 'end') this.errorf(`expected end; found ${nodeString(next)}`);
        }
      }
      return { type: context, line: pipe.line, pipe, list, elseList, pos: pipe.pos, tree: this.s.info };
    } finally {
      this.vars.length = mark;
    }
  }

  elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.typ === T.If || peek.typ === T.With) return { type: 'else', line: peek.line, pos: peek.pos, tree: this.s.info };
    const t = this.expect(T.RightDelim, 'else');
    return { type: 'else', line: t.line, pos: t.pos, tree: this.s.info };
  }

  blockControl(): Node {
    const context = 'block clause';
    const tok = this.nextNonSpace();
    const name = this.parseTemplateName(tok, context);
    const pipe = this.pipeline(context, T.RightDelim);
    const block = new Parser(name, this.s);
    const [list, end] = block.itemList();
    block.root = list;
    if (end.type !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    block.add();
    return { type: 'template', line: tok.line, name, pipe, pos: tok.pos, tree: this.s.info };
  }

  templateControl(): Node {
    const context = 'template clause';
    const tok = this.nextNonSpace();
    const name = this.parseTemplateName(tok, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().typ !== T.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, T.RightDelim);
    }
    return { type: 'template', line: tok.line, name, pipe, pos: tok.pos, tree: this.s.info };
  }

  parseTemplateName(tok: Item, context: string): string {
    if (tok.typ === T.String || tok.typ === T.RawString) {
      try {
        return unquote(tok.val);
      } catch (e) {
        this.errorf((e as Error).message);
      }
    }
    this.unexpected(tok, context);
  }

  command(): CommandNode {
    const cmd: CommandNode = { type: 'command', args: [], pos: this.peekNonSpace().pos, tree: this.s.info };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.typ === T.Space) continue;
      if (t.typ === T.RightDelim || t.typ === T.RightParen) this.backup();
      else if (t.typ !== T.Pipe) this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  operand(): ArgNode | null {
    let node = this.term();
    if (!node) return null;
    if (this.peek().typ === T.Field) {
      const chainPos = this.peek().pos;
      const fields: string[] = [];
      while (this.peek().typ === T.Field) fields.push(this.next().val.slice(1));
      switch (node.type) {
        case 'field':
          node = { type: 'field', ident: [...node.ident, ...fields], pos: chainPos, tree: this.s.info };
          break;
        case 'variable':
          node = { type: 'variable', ident: [...node.ident, ...fields], pos: chainPos, tree: this.s.info };
          break;
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          this.errorf(`unexpected . after term ${quote(nodeString(node))}`);
        default:
          node = { type: 'chain', node, field: fields, pos: chainPos, tree: this.s.info };
      }
    }
    return node;
  }

  term(): ArgNode | null {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case T.Identifier:
        if (!this.s.opts.hasFunction(t.val)) this.errorf(`function ${quote(t.val)} not defined`);
        return { type: 'identifier', ident: t.val, pos: t.pos, tree: this.s.info };
      case T.Dot:
        return { type: 'dot', pos: t.pos, tree: this.s.info };
      case T.Nil:
        return { type: 'nil', pos: t.pos, tree: this.s.info };
      case T.Variable:
        return this.useVar(t.pos, t.val);
      case T.Field:
        return { type: 'field', ident: t.val.slice(1).split('.'), pos: t.pos, tree: this.s.info };
      case T.Bool:
        return { type: 'bool', value: t.val === 'true', pos: t.pos, tree: this.s.info };
      case T.CharConstant:
      case T.Complex:
      case T.Number:
        return this.newNumber(t.pos, t.val, t.typ);
      case T.LeftParen:
        return this.pipeline('parenthesized pipeline', T.RightParen);
      case T.String:
      case T.RawString: {
        let s = '';
        try {
          s = unquote(t.val);
        } catch (e) {
          this.errorf((e as Error).message);
        }
        return { type: 'string', quoted: t.val, text: s, pos: t.pos, tree: this.s.info };
      }
    }
    this.backup();
    return null;
  }

  newVariable(pos: number, ident: string): VariableNode {
    return { type: 'variable', ident: ident.split('.'), pos: pos, tree: this.s.info };
  }

  useVar(pos: number, name: string): VariableNode {
    const v = this.newVariable(pos, name);
    if (this.vars.includes(v.ident[0]!)) return v;
    this.errorf(`undefined variable ${quote(v.ident[0]!)}`);
  }

  newNumber(pos: number, text: string, typ: T): NumberNode {
    const n: NumberNode = { type: 'number', isInt: false, isUint: false, isFloat: false, isComplex: false, int64: 0n, uint64: 0n, float64: 0, text, pos: pos, tree: this.s.info };
    if (typ === T.CharConstant) {
      let r;
      try {
        r = unquoteChar(text.slice(1), text[0]!);
      } catch (e) {
        this.errorf((e as Error).message);
      }
      if (r.tail !== "'") this.errorf(`malformed character constant: ${text}`);
      n.int64 = BigInt(r.value);
      n.uint64 = n.int64;
      n.float64 = r.value;
      n.isInt = n.isUint = n.isFloat = true;
      return n;
    }
    if (typ === T.Complex || text.endsWith('i')) {
      // Complex constants: only real-valued ones (0i, 1+0i) are usable as numbers; Go's
      // complex128 type is not part of the value model.
      const im = typ === T.Complex ? text.match(/^(.*?[0-9.])([+-][^+-]*)i$/) : null;
      const real = im ? parseGoFloat(im[1]!) : 0;
      const imag = im ? parseGoFloat(im[2]!) : parseGoFloat(text.slice(0, -1));
      if (real === undefined || imag === undefined) this.errorf(`illegal number syntax: ${quote(text)}`);
      n.isComplex = true;
      if (imag === 0) {
        n.isFloat = true;
        n.float64 = real;
        if (Number.isInteger(real) && Math.abs(real) < 2 ** 63) {
          n.isInt = true;
          n.int64 = BigInt(real);
          if (real >= 0) {
            n.isUint = true;
            n.uint64 = n.int64;
          }
        }
      }
      return n;
    }
    const u = parseGoInt(text, false);
    if (u !== undefined) {
      n.isUint = true;
      n.uint64 = u;
    }
    const i = parseGoInt(text, true);
    if (i !== undefined) {
      n.isInt = true;
      n.int64 = i;
      if (i === 0n) {
        n.isUint = true;
        n.uint64 = 0n;
      }
    }
    if (n.isInt) {
      n.isFloat = true;
      n.float64 = Number(n.int64);
    } else if (n.isUint) {
      n.isFloat = true;
      n.float64 = Number(n.uint64);
    } else {
      const f = parseGoFloat(text);
      if (f !== undefined) {
        if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${quote(text)}`);
        n.isFloat = true;
        n.float64 = f;
        if (Number.isInteger(f) && f >= -(2 ** 63) && f < 2 ** 63) {
          n.isInt = true;
          n.int64 = BigInt(f);
        }
        if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) {
          n.isUint = true;
          n.uint64 = BigInt(f);
        }
      }
    }
    if (!n.isInt && !n.isUint && !n.isFloat) this.errorf(`illegal number syntax: ${quote(text)}`);
    return n;
  }
}

/** strconv.ParseInt/ParseUint with base 0 (prefixes, underscores only after a prefix or between digits). */
function parseGoInt(text: string, signed: boolean): bigint | undefined {
  let s = text;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    if (!signed) return undefined;
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let base = 10;
  let digits = s;
  let prefixed = false;
  if (/^0[xX]/.test(s)) [base, digits, prefixed] = [16, s.slice(2), true];
  else if (/^0[oO]/.test(s)) [base, digits, prefixed] = [8, s.slice(2), true];
  else if (/^0[bB]/.test(s)) [base, digits, prefixed] = [2, s.slice(2), true];
  else if (/^0[0-9_]/.test(s)) [base, digits, prefixed] = [8, s.slice(1), true];
  if (digits.includes('_')) {
    if (!underscoreOK((prefixed ? '0x' : '') + digits)) return undefined;
    digits = digits.replace(/_/g, '');
  }
  if (digits === '') return prefixed && base === 8 && !/[oO]/.test(s) ? 0n : undefined;
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base as 2 | 8 | 10 | 16];
  if (!valid.test(digits)) return undefined;
  let v = 0n;
  const b = BigInt(base);
  for (const c of digits) v = v * b + BigInt(parseInt(c, base));
  if (neg) v = -v;
  if (signed ? v < -(2n ** 63n) || v >= 2n ** 63n : v >= 2n ** 64n) return undefined;
  return v;
}

/** Go's rule: underscores only between digits or after a base prefix. */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 2 && s[0] === '0' && /[xXoObB]/.test(s[1]!)) {
    i = 2;
    saw = '0';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (/[0-9a-fA-F]/.test(c)) saw = '0';
    else if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
    } else {
      if (saw === '_') return false;
      saw = '!';
    }
  }
  return saw !== '_';
}

/** strconv.ParseFloat(s, 64) for decimal and hex floats with underscores. */
function parseGoFloat(text: string): number | undefined {
  let s = text;
  if (s.includes('_')) {
    if (!underscoreOK(s.replace(/^[+-]/, ''))) return undefined;
    s = s.replace(/_/g, '');
  }
  const m = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(s);
  if (m) {
    const intPart = m[2] ?? '';
    const frac = m[3] ?? '';
    if (intPart === '' && frac === '') return undefined;
    let v = 0;
    for (const c of intPart + frac) v = v * 16 + parseInt(c, 16);
    v = v * 2 ** (parseInt(m[4]!, 10) - 4 * frac.length);
    return m[1] === '-' ? -v : v;
  }
  if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(s)) {
    if (/^[+-]?(inf|infinity|nan)$/i.test(s)) return undefined;
    return undefined;
  }
  const f = Number(s);
  if (!Number.isFinite(f)) return undefined;
  return f;
}
