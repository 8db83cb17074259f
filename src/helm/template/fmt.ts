/** @module Go's fmt over the Go value model: fmt.Sprint/Sprintf/Sprintln with every verb, flag, width and Go's error strings, floats formatted from their exact binary value as strconv does. */
import { GoTyped, goElemType, goMethods, goTypeName, isGoFunc, isGoMap, isGoStruct, type GoFunc, type GoObject, type GoValue } from './values.js';

/** fmt.Sprint of one value (`%v`). */
export function formatValue(v: GoValue): string {
  const p = new Printer();
  p.printArg(v, 'v');
  return p.buf;
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: GoValue[]): string {
  const p = new Printer();
  p.doPrintf(format, args);
  return p.buf;
}

/** fmt.Sprint: spaces between operands when neither is a string. */
export function sprint(args: GoValue[]): string {
  const p = new Printer();
  let prevString = false;
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && !prevString) p.buf += ' ';
    p.printArg(a, 'v');
    prevString = isString;
  });
  return p.buf;
}

/** fmt.Sprintln: always spaces, then a newline. */
export function sprintln(args: GoValue[]): string {
  const p = new Printer();
  args.forEach((a, i) => {
    if (i > 0) p.buf += ' ';
    p.printArg(a, 'v');
  });
  return p.buf + '\n';
}

/** The basic types the model keeps as JavaScript primitives or GoTyped: their type and kind share one name. */
function basicTypeName(v: GoValue): string | undefined {
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float64';
  }
  return v instanceof GoTyped ? v.type : undefined;
}

/** The Go type of a value as reflect.Type.String() (and `%T`) names it; `<nil>` for nil. */
export function goTypeString(v: GoValue): string {
  if (v === null || v === undefined) return '<nil>';
  const basic = basicTypeName(v);
  if (basic) return basic;
  if (v instanceof Uint8Array) return '[]uint8';
  if (Array.isArray(v)) return `[]${(v as { [goElemType]?: string })[goElemType] ?? 'interface {}'}`;
  if (isGoFunc(v)) return funcTypeString(v);
  if (isGoStruct(v)) return v[goTypeName] as string;
  return `map[string]${(v as { [goElemType]?: string })[goElemType] ?? 'interface {}'}`;
}

/** reflect.Kind.String() of a value (sprig's kindOf). */
export function goKindString(v: GoValue): string {
  if (v === null || v === undefined) return 'invalid';
  const basic = basicTypeName(v);
  if (basic) return basic;
  if (v instanceof Uint8Array || Array.isArray(v)) return 'slice';
  if (isGoFunc(v)) return 'func';
  if (isGoStruct(v)) return (v[goTypeName] as string).startsWith('*') ? 'ptr' : 'struct';
  return 'map';
}

function goParamString(t: string): string {
  return t.replace(/interface\{\}/g, 'interface {}');
}

function funcTypeString(f: GoFunc): string {
  const params = f.params.map(goParamString);
  if (f.variadic) params.push('...' + goParamString(f.variadic));
  const result = goParamString(f.result ?? 'interface{}');
  return `func(${params.join(', ')})${result ? ' ' + result : ''}`;
}

const UDIGITS = '0123456789ABCDEFX';
const LDIGITS = '0123456789abcdefx';

interface Flags {
  widPresent: boolean;
  precPresent: boolean;
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  prec: number;
}

function clearFlags(): Flags {
  return { widPresent: false, precPresent: false, minus: false, plus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false, wid: 0, prec: 0 };
}

/** A Go integer as (magnitude, sign), the way fmt treats every integer kind. */
interface GoInt {
  value: bigint;
  unsigned: boolean;
  type: string;
}

function asInt(v: GoValue): GoInt | undefined {
  if (typeof v === 'bigint') return { value: v, unsigned: false, type: 'int' };
  if (v instanceof GoTyped && v.type !== 'float32') return { value: BigInt(v.value), unsigned: v.type.startsWith('u'), type: v.type };
  return undefined;
}

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

class Printer {
  buf = '';
  f: Flags = clearFlags();
  erroring = false;

  // ---- padding (Go's fmt.pad / padString / writePadding)
  private padding(n: number): string {
    return n > 0 ? (this.f.zero ? '0' : ' ').repeat(n) : '';
  }
  padString(s: string): void {
    if (!this.f.widPresent || this.f.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.f.wid - runeCount(s);
    if (!this.f.minus) this.buf += this.padding(width) + s;
    else this.buf += s + this.padding(width);
  }

  doPrintf(format: string, a: GoValue[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    let reordered = false;
    let goodArgNum = true;
    const argNumber = (i: number): [number, number, boolean] => {
      if (i >= end || format[i] !== '[') return [argNum, i, false];
      reordered = true;
      const close = format.indexOf(']', i + 1);
      if (close < 0 || end - i < 3) {
        goodArgNum = false;
        return [argNum, i + 1, false];
      }
      const [n, ok, ni] = parseNum(format, i + 1, close);
      if (!ok || ni !== close) {
        goodArgNum = false;
        return [argNum, close + 1, false];
      }
      const index = n - 1;
      if (index >= 0 && index < a.length) return [index, close + 1, true];
      goodArgNum = false;
      return [argNum, close + 1, true];
    };
    let i = 0;
    formatLoop: while (i < end) {
      goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== '%') i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++;
      this.f = clearFlags();
      simple: for (; i < end; i++) {
        const c = format[i]!;
        switch (c) {
          case '#':
            this.f.sharp = true;
            break;
          case '0':
            this.f.zero = !this.f.minus;
            break;
          case '+':
            this.f.plus = true;
            break;
          case '-':
            this.f.minus = true;
            this.f.zero = false;
            break;
          case ' ':
            this.f.space = true;
            break;
          default:
            if (c >= 'a' && c <= 'z' && argNum < a.length) {
              if (c === 'v') {
                this.f.sharpV = this.f.sharp;
                this.f.sharp = false;
                this.f.plusV = this.f.plus;
                this.f.plus = false;
              }
              this.printArg(a[argNum]!, c);
              argNum++;
              i++;
              continue formatLoop;
            }
            break simple;
        }
      }
      [argNum, i, afterIndex] = argNumber(i);
      if (i < end && format[i] === '*') {
        i++;
        const [num, isInt, na] = intFromArg(a, argNum);
        this.f.wid = num;
        this.f.widPresent = isInt;
        argNum = na;
        if (!isInt) this.buf += '%!(BADWIDTH)';
        if (this.f.wid < 0) {
          this.f.wid = -this.f.wid;
          this.f.minus = true;
          this.f.zero = false;
        }
        afterIndex = false;
      } else {
        [this.f.wid, this.f.widPresent, i] = parseNum(format, i, end);
        if (afterIndex && this.f.widPresent) goodArgNum = false;
      }
      if (i + 1 < end && format[i] === '.') {
        i++;
        if (afterIndex) goodArgNum = false;
        [argNum, i, afterIndex] = argNumber(i);
        if (i < end && format[i] === '*') {
          i++;
          const [num, isInt, na] = intFromArg(a, argNum);
          this.f.prec = num;
          this.f.precPresent = isInt;
          argNum = na;
          if (this.f.prec < 0) {
            this.f.prec = 0;
            this.f.precPresent = false;
          }
          if (!this.f.precPresent) this.buf += '%!(BADPREC)';
          afterIndex = false;
        } else {
          [this.f.prec, this.f.precPresent, i] = parseNum(format, i, end);
          if (!this.f.precPresent) {
            this.f.prec = 0;
            this.f.precPresent = true;
          }
        }
      }
      if (!afterIndex) [argNum, i, afterIndex] = argNumber(i);
      if (i >= end) {
        this.buf += '%!(NOVERB)';
        break;
      }
      const verb = String.fromCodePoint(format.codePointAt(i)!);
      i += verb.length;
      if (verb === '%') this.buf += '%';
      else if (!goodArgNum) this.buf += `%!${verb}(BADINDEX)`;
      else if (argNum >= a.length) this.buf += `%!${verb}(MISSING)`;
      else {
        if (verb === 'v') {
          this.f.sharpV = this.f.sharp;
          this.f.sharp = false;
          this.f.plusV = this.f.plus;
          this.f.plus = false;
        }
        this.printArg(a[argNum]!, verb);
        argNum++;
      }
    }
    if (!reordered && argNum < a.length) {
      this.f = clearFlags();
      this.buf += '%!(EXTRA ';
      a.slice(argNum).forEach((arg, k) => {
        if (k > 0) this.buf += ', ';
        if (arg === null || arg === undefined) this.buf += '<nil>';
        else {
          this.buf += goTypeString(arg) + '=';
          this.printArg(arg, 'v');
        }
      });
      this.buf += ')';
    }
  }

  private badVerb(verb: string, v: GoValue, known: boolean): void {
    this.erroring = true;
    this.buf += '%!' + verb + '(';
    if (known && v !== null && v !== undefined) {
      this.buf += goTypeString(v) + '=';
      this.printValue(v, 'v', 0);
    } else this.buf += '<nil>';
    this.buf += ')';
    this.erroring = false;
  }

  /** Go's handleMethods: error and Stringer values print through their method. */
  private handleMethods(v: GoValue, verb: string): boolean {
    if (this.erroring || this.f.sharpV) return false;
    if (!'vsxXq'.includes(verb)) return false;
    const methods = typeof v === 'object' && v !== null ? (v as GoObject)[goMethods] : undefined;
    if (!methods) return false;
    const m = methods.Error ?? methods.String;
    if (!m || m.params.length !== 0) return false;
    this.fmtString(String(m.fn()), verb, v);
    return true;
  }

  printArg(v: GoValue, verb: string): void {
    if (v === null || v === undefined) {
      if (verb === 'T' || verb === 'v') this.padString('<nil>');
      else this.badVerb(verb, null, false);
      return;
    }
    if (verb === 'T') {
      this.fmtS(goTypeString(v));
      return;
    }
    if (verb === 'p') {
      this.fmtPointer(v, 'p');
      return;
    }
    this.printValue(v, verb, 0);
  }

  printValue(v: GoValue, verb: string, depth: number): void {
    if (v === null || v === undefined) {
      // A nil element of a slice or map is an interface holding nothing.
      if (this.f.sharpV) this.buf += depth === 0 ? '<nil>' : 'interface {}(nil)';
      else if (depth === 0 && verb !== 'v') this.badVerb(verb, null, false);
      else this.padStringIf(depth === 0, '<nil>');
      return;
    }
    if (this.handleMethods(v, verb)) return;
    if (typeof v === 'boolean') {
      if (verb === 't' || verb === 'v') this.padString(v ? 'true' : 'false');
      else this.badVerb(verb, v, true);
      return;
    }
    if (typeof v === 'string') return this.fmtString(v, verb, v);
    if (typeof v === 'number') return this.fmtFloat(v, 64, verb, v);
    const int = asInt(v);
    if (int) return this.fmtInteger(int, verb, v);
    if (v instanceof GoTyped) return this.fmtFloat(Number(v.value), 32, verb, v);
    if (v instanceof Uint8Array) return this.fmtBytes(v, verb, '[]byte', depth);
    if (isGoFunc(v)) return this.fmtPointer(v, verb);
    if (Array.isArray(v)) {
      if (this.f.sharpV) {
        this.buf += goTypeString(v) + '{';
        v.forEach((e, i) => {
          if (i > 0) this.buf += ', ';
          this.printValue(e, verb, depth + 1);
        });
        this.buf += '}';
      } else {
        this.buf += '[';
        v.forEach((e, i) => {
          if (i > 0) this.buf += ' ';
          this.printValue(e, verb, depth + 1);
        });
        this.buf += ']';
      }
      return;
    }
    if (isGoStruct(v)) {
      const type = v[goTypeName] as string;
      if (type.startsWith('*') && depth > 0) return this.fmtPointer(v, verb);
      if (type.startsWith('*')) this.buf += '&';
      if (this.f.sharpV) this.buf += type.replace(/^\*/, '');
      this.buf += '{';
      Object.keys(v).forEach((k, i) => {
        if (i > 0) this.buf += this.f.sharpV ? ', ' : ' ';
        if (this.f.plusV || this.f.sharpV) this.buf += k + ':';
        this.printValue(v[k], verb, depth + 1);
      });
      this.buf += '}';
      return;
    }
    if (isGoMap(v)) {
      this.buf += this.f.sharpV ? goTypeString(v) + '{' : 'map[';
      Object.keys(v)
        .sort(compareGoStrings)
        .forEach((k, i) => {
          if (i > 0) this.buf += this.f.sharpV ? ', ' : ' ';
          this.printValue(k, verb, depth + 1);
          this.buf += ':';
          this.printValue(v[k], verb, depth + 1);
        });
      this.buf += this.f.sharpV ? '}' : ']';
      return;
    }
    this.buf += '?';
  }

  private padStringIf(pad: boolean, s: string): void {
    if (pad) this.padString(s);
    else this.buf += s;
  }

  private fmtPointer(v: GoValue, verb: string): void {
    // Go prints addresses here; any stable non-zero address is as good as Go's.
    const u = 0xc000010000n;
    switch (verb) {
      case 'v':
        if (this.f.sharpV) this.buf += `(${goTypeString(v)})(0x${u.toString(16)})`;
        else this.fmtIntegerRaw(u, 16, false, 'v', LDIGITS, !this.f.sharp);
        return;
      case 'p':
        this.fmtIntegerRaw(u, 16, false, 'v', LDIGITS, !this.f.sharp);
        return;
      case 'b':
      case 'o':
      case 'd':
      case 'x':
      case 'X':
        this.fmtInteger({ value: u, unsigned: true, type: 'uintptr' }, verb, v);
        return;
      default:
        this.badVerb(verb, v, true);
    }
  }

  // ---- strings
  fmtS(s: string): void {
    this.padString(this.truncate(s));
  }
  private truncate(s: string): string {
    if (!this.f.precPresent) return s;
    let n = 0;
    let out = '';
    for (const ch of s) {
      if (n++ >= this.f.prec) break;
      out += ch;
    }
    return out;
  }
  private fmtString(s: string, verb: string, orig: GoValue): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) this.fmtQ(s);
        else this.fmtS(s);
        return;
      case 's':
        return this.fmtS(s);
      case 'x':
        return this.fmtSbx(Buffer.from(s, 'utf8'), LDIGITS);
      case 'X':
        return this.fmtSbx(Buffer.from(s, 'utf8'), UDIGITS);
      case 'q':
        return this.fmtQ(s);
      default:
        this.badVerb(verb, orig, true);
    }
  }
  private fmtQ(s: string): void {
    s = this.truncate(s);
    if (this.f.sharp && canBackquote(s)) {
      this.padString('`' + s + '`');
      return;
    }
    this.padString(goQuote(s, '"', this.f.plus));
  }
  private fmtSbx(b: Uint8Array, digits: string): void {
    let length = b.length;
    if (this.f.precPresent && this.f.prec < length) length = this.f.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.f.space) {
        if (this.f.sharp) width *= 2;
        width += length - 1;
      } else if (this.f.sharp) width += 2;
    } else {
      if (this.f.widPresent) this.buf += this.padding(this.f.wid);
      return;
    }
    if (this.f.widPresent && this.f.wid > width && !this.f.minus) this.buf += this.padding(this.f.wid - width);
    let out = '';
    if (this.f.sharp) out += '0' + digits[16];
    for (let i = 0; i < length; i++) {
      if (this.f.space && i > 0) {
        out += ' ';
        if (this.f.sharp) out += '0' + digits[16];
      }
      out += digits[b[i]! >> 4]! + digits[b[i]! & 15]!;
    }
    this.buf += out;
    if (this.f.widPresent && this.f.wid > width && this.f.minus) this.buf += this.padding(this.f.wid - width);
  }
  private fmtBytes(b: Uint8Array, verb: string, typeString: string, depth: number): void {
    switch (verb) {
      case 'v':
      case 'd':
        if (this.f.sharpV) {
          this.buf += typeString + '{';
          b.forEach((c, i) => {
            if (i > 0) this.buf += ', ';
            this.fmtIntegerRaw(BigInt(c), 16, false, 'v', LDIGITS, true);
          });
          this.buf += '}';
        } else {
          this.buf += '[';
          b.forEach((c, i) => {
            if (i > 0) this.buf += ' ';
            this.fmtIntegerRaw(BigInt(c), 10, false, verb, LDIGITS, this.f.sharp);
          });
          this.buf += ']';
        }
        return;
      case 's':
        return this.padString(this.truncate(Buffer.from(b).toString('utf8')));
      case 'x':
        return this.fmtSbx(b, LDIGITS);
      case 'X':
        return this.fmtSbx(b, UDIGITS);
      case 'q':
        return this.fmtQ(Buffer.from(b).toString('utf8'));
      default:
        this.buf += '[';
        b.forEach((c, i) => {
          if (i > 0) this.buf += ' ';
          this.printValue(new GoTyped('uint8', BigInt(c)), verb, depth + 1);
        });
        this.buf += ']';
    }
  }

  // ---- integers
  private fmtInteger(n: GoInt, verb: string, orig: GoValue): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV && n.unsigned) this.fmtIntegerRaw(n.value, 16, false, 'v', LDIGITS, true);
        else this.fmtIntegerRaw(n.value, 10, !n.unsigned, verb, LDIGITS, this.f.sharp);
        return;
      case 'd':
        return this.fmtIntegerRaw(n.value, 10, !n.unsigned, verb, LDIGITS, this.f.sharp);
      case 'b':
        return this.fmtIntegerRaw(n.value, 2, !n.unsigned, verb, LDIGITS, this.f.sharp);
      case 'o':
      case 'O':
        return this.fmtIntegerRaw(n.value, 8, !n.unsigned, verb, LDIGITS, this.f.sharp);
      case 'x':
        return this.fmtIntegerRaw(n.value, 16, !n.unsigned, verb, LDIGITS, this.f.sharp);
      case 'X':
        return this.fmtIntegerRaw(n.value, 16, !n.unsigned, verb, UDIGITS, this.f.sharp);
      case 'c':
        return this.padString(runeString(n.value));
      case 'q': {
        const r = runeOf(n.value);
        return this.padString(goQuote(String.fromCodePoint(r), "'", this.f.plus));
      }
      case 'U':
        return this.fmtUnicode(n.value);
      default:
        this.badVerb(verb, orig, true);
    }
  }

  private fmtIntegerRaw(v: bigint, base: number, signed: boolean, verb: string, digits: string, sharp: boolean): void {
    const negative = signed && v < 0n;
    let u = negative ? -v : v;
    if (u < 0n) u += 1n << 64n;
    let prec = 0;
    if (this.f.precPresent) {
      prec = this.f.prec;
      if (prec === 0 && u === 0n) {
        const z = this.f.zero;
        this.f.zero = false;
        this.buf += this.padding(this.f.wid);
        this.f.zero = z;
        return;
      }
    } else if (this.f.zero && this.f.widPresent) {
      prec = this.f.wid;
      if (negative || this.f.plus || this.f.space) prec--;
    }
    let s = u.toString(base);
    if (digits === UDIGITS) s = s.toUpperCase();
    if (s.length < prec) s = '0'.repeat(prec - s.length) + s;
    if (sharp) {
      if (base === 2) s = '0b' + s;
      else if (base === 8 && s[0] !== '0') s = '0' + s;
      else if (base === 16) s = '0' + digits[16] + s;
    }
    if (verb === 'O') s = '0o' + s;
    if (negative) s = '-' + s;
    else if (this.f.plus) s = '+' + s;
    else if (this.f.space) s = ' ' + s;
    const z = this.f.zero;
    this.f.zero = false;
    this.padString(s);
    this.f.zero = z;
  }

  private fmtUnicode(v: bigint): void {
    let prec = 4;
    if (this.f.precPresent && this.f.prec > 4) prec = this.f.prec;
    let hex = (v < 0n ? v + (1n << 64n) : v).toString(16).toUpperCase();
    if (hex.length < prec) hex = '0'.repeat(prec - hex.length) + hex;
    let s = 'U+' + hex;
    if (this.f.sharp && v >= 0n && v <= 0x10ffffn && isPrint(Number(v))) s += " '" + String.fromCodePoint(Number(v)) + "'";
    const z = this.f.zero;
    this.f.zero = false;
    this.padString(s);
    this.f.zero = z;
  }

  // ---- floats
  private fmtFloat(v: number, size: 32 | 64, verb: string, orig: GoValue): void {
    switch (verb) {
      case 'v':
        return this.fmtFloatRaw(v, size, 'g', -1);
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        return this.fmtFloatRaw(v, size, verb, -1);
      case 'f':
      case 'e':
      case 'E':
        return this.fmtFloatRaw(v, size, verb, 6);
      case 'F':
        return this.fmtFloatRaw(v, size, 'f', 6);
      default:
        this.badVerb(verb, orig, true);
    }
  }

  private fmtFloatRaw(v: number, size: 32 | 64, verb: string, prec: number): void {
    if (this.f.precPresent) prec = this.f.prec;
    let num = formatFloat(v, verb, prec, size);
    if (num[0] === '-' || num[0] === '+') {
      /* keep */
    } else num = '+' + num;
    if (this.f.space && num[0] === '+' && !this.f.plus) num = ' ' + num.slice(1);
    if (num[1] === 'I' || num[1] === 'N') {
      const z = this.f.zero;
      this.f.zero = false;
      if (num[1] === 'N' && !this.f.space && !this.f.plus) num = num.slice(1);
      this.padString(num);
      this.f.zero = z;
      return;
    }
    if (this.f.sharp && verb !== 'b') {
      let digits = 0;
      if ('vgGx'.includes(verb)) digits = prec === -1 ? 6 : prec;
      let tail = '';
      let hasDecimalPoint = false;
      let sawNonzero = false;
      let body = num;
      for (let i = 1; i < body.length; i++) {
        const c = body[i]!;
        if (c === '.') hasDecimalPoint = true;
        else if (c === 'p' || c === 'P' || ((c === 'e' || c === 'E') && verb !== 'x' && verb !== 'X')) {
          tail = body.slice(i);
          body = body.slice(0, i);
          break;
        } else {
          if (c !== '0') sawNonzero = true;
          if (sawNonzero) digits--;
        }
      }
      if (!hasDecimalPoint) {
        if (body.length === 2 && body[1] === '0') digits--;
        body += '.';
      }
      while (digits > 0) {
        body += '0';
        digits--;
      }
      num = body + tail;
    }
    if (this.f.plus || num[0] !== '+') {
      if (this.f.zero && this.f.widPresent && this.f.wid > num.length) {
        this.buf += num[0] + this.padding(this.f.wid - num.length) + num.slice(1);
        return;
      }
      this.padString(num);
      return;
    }
    this.padString(num.slice(1));
  }
}

function intFromArg(a: GoValue[], argNum: number): [number, boolean, number] {
  if (argNum >= a.length) return [0, false, argNum];
  const n = asInt(a[argNum]!);
  let num = 0;
  let isInt = false;
  if (n && n.value >= -(1n << 63n) && n.value < 1n << 63n) {
    num = Number(n.value);
    isInt = true;
  }
  if (num > 1e6 || num < -1e6) return [0, false, argNum + 1];
  return [num, isInt, argNum + 1];
}

function parseNum(s: string, start: number, end: number): [number, boolean, number] {
  if (start >= end) return [0, false, end];
  let num = 0;
  let isnum = false;
  let i = start;
  for (; i < end && s[i]! >= '0' && s[i]! <= '9'; i++) {
    if (num > 1e6) return [0, false, end];
    num = num * 10 + (s.charCodeAt(i) - 48);
    isnum = true;
  }
  return [num, isnum, i];
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Map keys in Go's sort order: byte-wise comparison of their UTF-8 encoding. */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : 1;
  // UTF-16 order equals UTF-8 byte order except around surrogates; compare code points.
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

function runeOf(v: bigint): number {
  if (v < 0n || v > 0x10ffffn || (v >= 0xd800n && v <= 0xdfffn)) return 0xfffd;
  return Number(v);
}

function runeString(v: bigint): string {
  return String.fromCodePoint(runeOf(v));
}

const printRe = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
/** unicode.IsPrint (strconv.IsPrint): letters, marks, numbers, punctuation, symbols and ASCII space. */
export function isPrint(r: number): boolean {
  return printRe.test(String.fromCodePoint(r));
}

/** strconv.Quote / QuoteToASCII / QuoteRune with the given quote character. */
export function goQuote(s: string, quote: '"' | "'" = '"', asciiOnly = false): string {
  let out = quote;
  for (const ch of s) {
    let r = ch.codePointAt(0)!;
    if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd;
    if (ch === quote || ch === '\\') {
      out += '\\' + ch;
      continue;
    }
    if (asciiOnly ? r < 0x80 && isPrint(r) : isPrint(r)) {
      out += String.fromCodePoint(r);
      continue;
    }
    switch (r) {
      case 7:
        out += '\\a';
        continue;
      case 8:
        out += '\\b';
        continue;
      case 12:
        out += '\\f';
        continue;
      case 10:
        out += '\\n';
        continue;
      case 13:
        out += '\\r';
        continue;
      case 9:
        out += '\\t';
        continue;
      case 11:
        out += '\\v';
        continue;
    }
    if (r < 0x20 || r === 0x7f) out += '\\x' + r.toString(16).padStart(2, '0');
    else if (r < 0x10000) out += '\\u' + r.toString(16).padStart(4, '0');
    else out += '\\U' + r.toString(16).padStart(8, '0');
  }
  return out + quote;
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (ch === '`' || r === 0xfeff || (r >= 0xd800 && r <= 0xdfff)) return false;
    if ((r < 0x20 && r !== 9) || r === 0x7f) return false;
  }
  return true;
}

// ---- strconv.FormatFloat

/** A decimal digit string d with the decimal point after dp digits (Go's strconv decimal). */
interface Decimal {
  d: string;
  dp: number;
}

/** The exact decimal expansion of a finite |v|. */
function exactDecimal(v: number): Decimal {
  if (v === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(v));
  const bits = view.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let exp: number;
  if (expBits === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = expBits - 1075;
  }
  let d: string;
  let dp: number;
  if (exp >= 0) {
    d = (mant << BigInt(exp)).toString();
    dp = d.length;
  } else {
    d = (mant * 5n ** BigInt(-exp)).toString();
    dp = d.length + exp;
  }
  d = d.replace(/0+$/, '');
  return { d, dp };
}

/** Go's decimal.Round(nd): round half to even on exact ties. */
function roundDecimal(a: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= a.d.length) return a;
  let up: boolean;
  if (a.d[nd] === '5' && nd + 1 === a.d.length) up = nd > 0 && (a.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  else up = a.d[nd]! >= '5';
  if (!up) return { d: a.d.slice(0, nd).replace(/0+$/, ''), dp: a.d.slice(0, nd).replace(/0+$/, '') === '' ? 0 : a.dp };
  let i = nd - 1;
  while (i >= 0 && a.d[i] === '9') i--;
  if (i < 0) return { d: '1', dp: a.dp + 1 };
  return { d: a.d.slice(0, i) + String.fromCharCode(a.d.charCodeAt(i) + 1), dp: a.dp };
}

/** Shortest digits that read back as v (float64 or float32). */
function shortestDecimal(v: number, size: 32 | 64): Decimal {
  if (v === 0) return { d: '', dp: 0 };
  const a = Math.abs(v);
  let e: string;
  if (size === 64) e = a.toExponential();
  else {
    let p = 1;
    for (; p < 17; p++) if (Math.fround(Number(a.toPrecision(p))) === a) break;
    e = Number(a.toPrecision(p)).toExponential();
  }
  const [mant, ex] = e.split('e');
  const d = mant!.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(ex) + 1 };
}

/** strconv.FormatFloat(v, fmt, prec, size) for fmt in e E f g G (others fall back to %g). */
export function formatFloat(v: number, fmt: string, prec: number, size: 32 | 64 = 64): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  if (fmt === 'b' || fmt === 'x' || fmt === 'X') return formatFloatBinary(v, fmt, prec, size);
  let digs: Decimal;
  const shortest = prec < 0;
  if (shortest) {
    digs = shortestDecimal(v, size);
    switch (fmt) {
      case 'e':
      case 'E':
        prec = Math.max(digs.d.length - 1, 0);
        break;
      case 'f':
        prec = Math.max(digs.d.length - digs.dp, 0);
        break;
      case 'g':
      case 'G':
        prec = digs.d.length;
        break;
    }
  } else {
    const exact = exactDecimal(size === 32 ? Math.fround(v) : v);
    switch (fmt) {
      case 'e':
      case 'E':
        digs = roundDecimal(exact, prec + 1);
        break;
      case 'f':
        digs = roundDecimal(exact, exact.dp + prec);
        break;
      default:
        if (prec === 0) prec = 1;
        digs = roundDecimal(exact, prec);
    }
  }
  const sign = neg ? '-' : '';
  switch (fmt) {
    case 'e':
    case 'E':
      return sign + fmtE(digs, prec, fmt);
    case 'f':
      return sign + fmtF(digs, prec);
    default: {
      let eprec = prec;
      if (eprec > digs.d.length && digs.d.length >= digs.dp) eprec = digs.d.length;
      if (shortest) eprec = 6;
      const exp = digs.dp - 1;
      if (exp < -4 || exp >= eprec) {
        if (prec > digs.d.length) prec = digs.d.length;
        return sign + fmtE(digs, prec - 1, fmt === 'G' ? 'E' : 'e');
      }
      if (prec > digs.dp) prec = digs.d.length;
      return sign + fmtF(digs, Math.max(prec - digs.dp, 0));
    }
  }
}

function fmtE(digs: Decimal, prec: number, fmt: string): string {
  let out = digs.d.length === 0 ? '0' : digs.d[0]!;
  if (prec > 0) {
    out += '.';
    const frac = digs.d.slice(1, Math.min(digs.d.length, prec + 1));
    out += frac + '0'.repeat(prec - frac.length);
  }
  out += fmt === 'E' ? 'E' : 'e';
  let exp = digs.d.length === 0 ? 0 : digs.dp - 1;
  out += exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  out += exp < 10 ? '0' + exp : String(exp);
  return out;
}

function fmtF(digs: Decimal, prec: number): string {
  let out: string;
  if (digs.dp > 0) {
    out = digs.d.slice(0, Math.min(digs.d.length, digs.dp));
    out += '0'.repeat(digs.dp - out.length);
  } else out = '0';
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = digs.dp + i - 1;
      out += j >= 0 && j < digs.d.length ? digs.d[j] : '0';
    }
  }
  return out;
}

/** %b and %x of floats: mantissa and binary exponent as strconv prints them. */
function formatFloatBinary(v: number, fmt: string, prec: number, size: 32 | 64): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  const neg = bits >> 63n === 1n;
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let exp = expBits === 0 ? -1074 : expBits - 1075;
  if (expBits !== 0) mant |= 1n << 52n;
  const sign = neg ? '-' : '';
  if (fmt === 'b') {
    if (size === 32) {
      // float32 mantissa is 24 bits
      mant >>= 29n;
      exp += 29;
    }
    return `${sign}${mant}p${exp >= 0 ? '+' : ''}${exp}`;
  }
  // %x: 0x1.hhhhp±d, shortest unless prec given.
  if (mant === 0n) {
    exp = 0;
  } else {
    while (mant < 1n << 52n) {
      mant <<= 1n;
      exp--;
    }
    exp += 52;
  }
  let frac = (mant & ((1n << 52n) - 1n)).toString(16).padStart(13, '0');
  if (prec < 0) frac = frac.replace(/0+$/, '');
  else if (prec < 13) {
    const full = mant;
    const shift = BigInt((13 - prec) * 4);
    let m = full >> shift;
    const rem = full & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n;
    if (m >> BigInt(prec * 4) >= 2n) {
      m >>= 1n;
      exp++;
    }
    frac = prec === 0 ? '' : (m & ((1n << BigInt(prec * 4)) - 1n)).toString(16).padStart(prec, '0');
  } else frac = frac.padEnd(prec, '0');
  let out = `${sign}0x${mant === 0n ? '0' : '1'}${frac ? '.' + frac : ''}p${exp >= 0 ? '+' : '-'}${String(Math.abs(exp)).padStart(2, '0')}`;
  if (fmt === 'X') out = out.toUpperCase();
  return out;
}
