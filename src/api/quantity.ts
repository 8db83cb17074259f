/**
 * @module resource.Quantity of k8s.io/apimachinery: parsing ("100m", "1Gi", "1.5", "2e3"),
 * exact arithmetic and comparison, and the canonical text kube-apiserver serializes
 * ("1000m" becomes "1", "1024Mi" becomes "1Gi", "0.5" becomes "500m").
 */

/** How a quantity is written back: the suffix family it was parsed with. */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** The message kube-apiserver gives for a malformed quantity (resource.ErrFormatWrong). */
export const quantityFormatMessage =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** Thrown by parseQuantity for text that is not a Kubernetes quantity. */
export class QuantityParseError extends Error {
  constructor(
    readonly input: string,
    message = quantityFormatMessage,
  ) {
    super(message);
    this.name = 'QuantityParseError';
  }
}

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binaryByExponent = new Map(Object.entries(binarySuffixes).map(([s, e]) => [e, s]));

/** Quantities are rounded up to nano units: asking for any amount gets some amount. */
const nanoScale = -9;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

/** Divides rounding away from zero (inf.RoundUp). */
function divAwayFromZero(v: bigint, d: bigint): bigint {
  const q = v / d;
  return v % d === 0n ? q : v < 0n ? q - 1n : q + 1n;
}

/** An exact decimal quantity: unscaled × 10^scale, with the format it prints in. */
export class Quantity {
  constructor(
    readonly unscaled: bigint,
    readonly scale: number,
    readonly format: QuantityFormat = 'DecimalSI',
  ) {}

  /** Parses a quantity string (or a JSON number), as resource.ParseQuantity. */
  static parse(input: string | number): Quantity {
    return parseQuantity(input);
  }

  /** An integer quantity, e.g. fromInt(3) → "3", fromInt(1024, 'BinarySI') → "1Ki". */
  static fromInt(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value), 0, format);
  }

  /** A quantity in thousandths, e.g. fromMilli(250) → "250m". */
  static fromMilli(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value), -3, format);
  }

  isZero(): boolean {
    return this.unscaled === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.unscaled === 0n ? 0 : this.unscaled < 0n ? -1 : 1;
  }

  /** Both values brought to the smaller scale, so their unscaled parts compare directly. */
  private aligned(other: Quantity): [bigint, bigint, number] {
    const s = Math.min(this.scale, other.scale);
    return [this.unscaled * pow10(this.scale - s), other.unscaled * pow10(other.scale - s), s];
  }

  /** -1, 0 or 1 as this is less than, equal to or greater than other. */
  cmp(other: Quantity): -1 | 0 | 1 {
    const [a, b] = this.aligned(other);
    return a === b ? 0 : a < b ? -1 : 1;
  }

  equals(other: Quantity): boolean {
    return this.cmp(other) === 0;
  }

  /** Sum, in this quantity's format (as Quantity.Add). */
  add(other: Quantity): Quantity {
    const [a, b, s] = this.aligned(other);
    return new Quantity(a + b, s, this.format);
  }

  sub(other: Quantity): Quantity {
    const [a, b, s] = this.aligned(other);
    return new Quantity(a - b, s, this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.unscaled, this.scale, this.format);
  }

  /** Multiplies by an integer factor (e.g. a replica count). */
  mul(factor: number | bigint): Quantity {
    return new Quantity(this.unscaled * BigInt(factor), this.scale, this.format);
  }

  /** The value in units of 10^scale, rounded away from zero (Quantity.ScaledValue). */
  scaledValue(scale: number): number {
    return Number(this.scaledBigInt(scale));
  }

  scaledBigInt(scale: number): bigint {
    if (this.scale >= scale) return this.unscaled * pow10(this.scale - scale);
    return divAwayFromZero(this.unscaled, pow10(scale - this.scale));
  }

  /** Whole units, rounded up (Quantity.Value): "100m" → 1. */
  value(): number {
    return this.scaledValue(0);
  }

  /** Thousandths, rounded up (Quantity.MilliValue): "0.1" → 100. */
  milliValue(): number {
    return this.scaledValue(-3);
  }

  /** The value as a float (Quantity.AsApproximateFloat64). */
  toNumber(): number {
    return Number(this.unscaled) * 10 ** this.scale;
  }

  /** Rounds away from zero to at most `scale` precision (Quantity.RoundUp); e.g. -3 for milli units. */
  roundUp(scale: number): Quantity {
    if (this.scale >= scale) return this;
    return new Quantity(divAwayFromZero(this.unscaled, pow10(scale - this.scale)), scale, this.format);
  }

  /** The canonical text, as Quantity.String / MarshalJSON. */
  toString(): string {
    if (this.unscaled === 0n) return '0';
    let format = this.format;
    if (format === 'BinarySI') {
      const lim = new Quantity(1024n, 0);
      const small = this.cmp(lim.neg()) > 0 && this.cmp(lim) < 0;
      // Small or fractional binary amounts print in decimal rather than lose precision.
      if (small || this.roundUp(0).cmp(this) !== 0) format = 'DecimalSI';
    }
    if (format === 'BinarySI') {
      let v = this.scaledBigInt(0);
      let exp = 0;
      while (abs(v) >= 1024n && abs(v) % 1024n === 0n && exp < 60) {
        v /= 1024n;
        exp += 10;
      }
      return `${v}${binaryByExponent.get(exp) ?? ''}`;
    }
    let mantissa = this.unscaled;
    let exponent = this.scale;
    while (mantissa % 10n === 0n) {
      mantissa /= 10n;
      exponent++;
    }
    while (exponent % 3 !== 0) {
      mantissa *= 10n;
      exponent--;
    }
    if (format === 'DecimalExponent') return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
    if (exponent > 18) {
      mantissa *= pow10(exponent - 18);
      exponent = 18;
    }
    return `${mantissa}${decimalByExponent.get(exponent) ?? ''}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

const digit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

interface ParsedParts {
  positive: boolean;
  num: string;
  denom: string;
  suffix: string;
}

/** Splits a quantity into sign, integer digits, fraction digits and suffix (parseQuantityString). */
function splitQuantity(str: string): ParsedParts {
  let pos = 0;
  const end = str.length;
  let positive = true;
  if (str[0] === '-') {
    positive = false;
    pos++;
  } else if (str[0] === '+') pos++;
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };
  let i = pos;
  while (digit(str[i])) i++;
  const num = str.slice(pos, i) || '0';
  pos = i;
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    i = pos;
    while (digit(str[i])) i++;
    denom = str.slice(pos, i);
    pos = i;
  }
  const suffixStart = pos;
  while (pos < end && 'eEinumkKMGTP'.includes(str[pos])) pos++;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  while (digit(str[pos])) pos++;
  if (pos < end) throw new QuantityParseError(str);
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

/** Parses a quantity as resource.ParseQuantity: rounds up to nano units, keeps the suffix family. */
export function parseQuantity(input: string | number): Quantity {
  const str = (typeof input === 'number' ? String(input) : String(input ?? '')).trim();
  if (str.length === 0) throw new QuantityParseError(str);
  const { positive, num, denom, suffix } = splitQuantity(str);

  let format: QuantityFormat;
  let base: 10 | 2;
  let exponent: number;
  if (suffix in decimalSuffixes) {
    format = 'DecimalSI';
    base = 10;
    exponent = decimalSuffixes[suffix];
  } else if (suffix in binarySuffixes) {
    format = 'BinarySI';
    base = 2;
    exponent = binarySuffixes[suffix];
  } else if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(suffix.slice(1))) {
    format = 'DecimalExponent';
    base = 10;
    exponent = Number.parseInt(suffix.slice(1), 10);
  } else {
    throw new QuantityParseError(str, 'unable to parse quantity\'s suffix');
  }

  let unscaled = BigInt(num + denom);
  let scale = -denom.length;
  if (base === 10) scale += exponent;
  else unscaled *= 1n << BigInt(exponent);

  if (scale < nanoScale) {
    unscaled = divAwayFromZero(unscaled, pow10(nanoScale - scale));
    scale = nanoScale;
  }
  // A binary amount below one cannot be written with a binary suffix.
  if (format === 'BinarySI' && unscaled > 0n && new Quantity(unscaled, scale).cmp(new Quantity(1n, 0)) < 0) format = 'DecimalSI';
  if (!positive) unscaled = -unscaled;
  return new Quantity(unscaled, scale, format);
}

/** parseQuantity that answers undefined instead of throwing. */
export function tryParseQuantity(input: unknown): Quantity | undefined {
  if (typeof input !== 'string' && typeof input !== 'number') return undefined;
  try {
    return parseQuantity(input);
  } catch {
    return undefined;
  }
}

/** The canonical text of a quantity: canonicalQuantity("1000m") === "1". Throws QuantityParseError. */
export function canonicalQuantity(input: string | number): string {
  return parseQuantity(input).toString();
}

/** Compares two quantities given as text or Quantity: negative, zero or positive. */
export function compareQuantities(a: string | number | Quantity, b: string | number | Quantity): number {
  const qa = a instanceof Quantity ? a : parseQuantity(a);
  const qb = b instanceof Quantity ? b : parseQuantity(b);
  return qa.cmp(qb);
}

/**
 * Canonicalizes every value of a ResourceList in place, rounding up to milli units as
 * SetDefaults_ResourceList does. Throws QuantityParseError on the first bad value.
 */
export function canonicalizeResourceList(list: Record<string, unknown> | undefined | null): void {
  if (!list || typeof list !== 'object') return;
  for (const [name, v] of Object.entries(list)) {
    if (typeof v !== 'string' && typeof v !== 'number') throw new QuantityParseError(String(v));
    list[name] = parseQuantity(v).roundUp(-3).toString();
  }
}
