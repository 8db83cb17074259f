/**
 * @module The Prometheus text exposition format (version 0.0.4), written and read: metric
 * families with HELP and TYPE, escaped label values, optional millisecond timestamps (the
 * kubelet stamps /metrics/resource samples with the time they were collected).
 */

export const textContentType = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  labels?: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch. */
  timestamp?: number;
  /** Series name when it differs from the family's (histogram _bucket/_sum/_count). */
  name?: string;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Go's strconv.FormatFloat(v, 'g'…) as client_golang writes values: +Inf, -Inf, NaN spelled out. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Renders families in the text format; families without samples still get HELP and TYPE. */
export function renderText(families: MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    out.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      const l = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      out.push(`${s.name ?? f.name}${l} ${formatValue(s.value)}${s.timestamp !== undefined ? ` ${Math.round(s.timestamp)}` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

/** Thrown for a line the text format does not allow. */
export class ExpositionParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`text format parsing error in line ${line}: ${message}`);
    this.name = 'ExpositionParseError';
  }
}

function parseNumber(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const n = Number(s);
  if (s === '' || Number.isNaN(n)) throw new Error(`expected a number, got ${JSON.stringify(s)}`);
  return n;
}

/** Reads the samples of a text exposition (comments skipped). */
export function parseText(text: string): ParsedSample[] {
  const out: ParsedSample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    try {
      let pos = 0;
      const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
      if (!nameMatch) throw new Error('invalid metric name');
      const name = nameMatch[0];
      pos = name.length;
      const labels: Record<string, string> = {};
      if (line[pos] === '{') {
        pos++;
        for (;;) {
          while (line[pos] === ' ' || line[pos] === ',') pos++;
          if (line[pos] === '}') {
            pos++;
            break;
          }
          const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(pos));
          if (!m) throw new Error('invalid label name');
          pos += m[0].length;
          if (line[pos] !== '=' || line[pos + 1] !== '"') throw new Error(`expected '="' after label ${m[0]}`);
          pos += 2;
          let value = '';
          for (;;) {
            const ch = line[pos++];
            if (ch === undefined) throw new Error('unterminated label value');
            if (ch === '"') break;
            if (ch === '\\') {
              const next = line[pos++];
              value += next === 'n' ? '\n' : next;
            } else value += ch;
          }
          labels[m[0]] = value;
        }
      }
      const rest = line.slice(pos).trim().split(/\s+/);
      const sample: ParsedSample = { name, labels, value: parseNumber(rest[0] ?? '') };
      if (rest[1] !== undefined) sample.timestamp = parseNumber(rest[1]);
      out.push(sample);
    } catch (err) {
      throw new ExpositionParseError(i + 1, (err as Error).message);
    }
  }
  return out;
}
