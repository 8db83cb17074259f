/**
 * @module The JSON forms of apimachinery's hand-written types: metav1.Time (RFC 3339,
 * whole seconds), metav1.MicroTime (RFC 3339, six fractional digits) and
 * metav1.Duration (Go's time.Duration text, e.g. "1m30s").
 */

const NS_PER_SECOND = 1_000_000_000n;

/** metav1.Time's JSON: UTC, whole seconds (Kubernetes drops the fraction). */
export function formatTime(seconds: number, nanos: number): string | undefined {
  return format(seconds, nanos, false);
}

/** metav1.MicroTime's JSON: UTC with exactly six fractional digits. */
export function formatMicroTime(seconds: number, nanos: number): string | undefined {
  return format(seconds, nanos, true);
}

function format(seconds: number, nanos: number, micro: boolean): string | undefined {
  const carry = Math.floor(nanos / 1e9);
  const s = seconds + carry;
  const n = nanos - carry * 1e9;
  const ms = s * 1000;
  // Go refuses to marshal years outside 0000-9999; so do we.
  if (!Number.isFinite(ms) || ms < -62167219200000 || ms > 253402300799999) return undefined;
  const iso = new Date(ms).toISOString();
  const base = iso.slice(0, 19);
  if (!micro) return `${base}Z`;
  return `${base}.${String(Math.floor(n / 1000)).padStart(6, '0')}Z`;
}

/** Parses RFC 3339 (any offset, any fraction) into Unix seconds and nanoseconds. */
export function parseTime(text: string): { seconds: number; nanos: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, z, sign, oh, om] = m;
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const at = new Date(0);
  at.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  at.setUTCHours(Number(h), Number(mi), Number(sec), 0);
  const ms = at.getTime();
  if (Number.isNaN(ms)) return undefined;
  let seconds = Math.floor(ms / 1000);
  if (!z) {
    const offset = (Number(oh) * 60 + Number(om)) * 60;
    seconds += sign === '+' ? -offset : offset;
  }
  const nanos = frac ? Number(frac.padEnd(9, '0')) : 0;
  return { seconds, nanos };
}

/** Go's time.Duration.String(): "0s", "1.5µs", "300ms", "1m30s", "2h0m0s". */
export function formatDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  const u = neg ? -ns : ns;
  let out: string;
  if (u < NS_PER_SECOND) {
    // Below a second Go switches to the largest unit that keeps an integer part.
    if (u < 1000n) out = `${u}ns`;
    else if (u < 1_000_000n) out = `${fraction(u, 3)}µs`;
    else out = `${fraction(u, 6)}ms`;
  } else {
    out = `${fraction(u % (60n * NS_PER_SECOND), 9)}s`;
    const minutes = u / (60n * NS_PER_SECOND);
    if (minutes > 0n) {
      out = `${minutes % 60n}m${out}`;
      const hours = minutes / 60n;
      if (hours > 0n) out = `${hours}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

function fraction(v: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  const whole = v / scale;
  const rest = v % scale;
  if (rest === 0n) return `${whole}`;
  return `${whole}.${rest.toString().padStart(digits, '0').replace(/0+$/, '')}`;
}

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  'µs': 1000n, // U+00B5 micro sign
  'μs': 1000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: NS_PER_SECOND,
  m: 60n * NS_PER_SECOND,
  h: 3600n * NS_PER_SECOND,
};

/** Go's time.ParseDuration: "1h2m3.5s", "-300ms", "0". */
export function parseDuration(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') return undefined;
  let total = 0n;
  const re = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    const unit = UNITS[m[3]!]!;
    total += BigInt(m[1] || '0') * unit;
    if (m[2]) total += (BigInt(m[2]) * unit) / 10n ** BigInt(m[2].length);
    s = s.slice(m[0].length);
  }
  return neg ? -total : total;
}
