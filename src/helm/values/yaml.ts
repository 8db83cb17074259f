/**
 * @module YAML as Helm reads values and Chart.yaml (sigs.k8s.io/yaml over go-yaml v2): YAML
 * 1.1 scalars (yes/no/on/off are booleans, 0755 is octal) but no sexagesimal numbers or
 * timestamps (they stay strings), map keys as strings, every number a float64 (JS number) as
 * the YAML → JSON → Go round trip leaves it.
 */
import YAML from 'yaml';

/** A YAML syntax error, worded like go-yaml's ("yaml: line 3: …"). */
export class YamlError extends Error {
  override name = 'YamlError';
}

const parseOptions = {
  version: '1.1' as const,
  merge: true,
  // go-yaml v2 has neither base-60 numbers nor timestamps when decoding into interface{} via JSON.
  customTags: (tags: YAML.Tags) => tags.filter((t) => (t as { format?: string }).format !== 'TIME' && (t as { tag?: string }).tag !== 'tag:yaml.org,2002:timestamp'),
};

function toYamlError(e: unknown): YamlError {
  const err = e as { message?: string; linePos?: Array<{ line: number }> };
  const line = err.linePos?.[0]?.line;
  const msg = (err.message ?? String(e)).split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  return new YamlError(`error converting YAML to JSON: yaml: ${line ? `line ${line}: ` : ''}${msg}`);
}

/** Normalises a parsed document to what Go's JSON decoding would give. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of v) out[String(k)] = normalize(x);
    return out;
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalize(x);
    return out;
  }
  if (typeof v === 'bigint') return Number(v);
  return v === undefined ? null : v;
}

/** Parses one YAML document as Helm does; null for an empty document. Throws YamlError. */
export function parseHelmYaml(text: string): unknown {
  const docs = YAML.parseAllDocuments(text, parseOptions);
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) if (d.errors.length) throw toYamlError(d.errors[0]);
  if (list.length === 0) return null;
  // go-yaml decodes only the first document of a stream.
  return normalize(list[0].toJS({ maxAliasCount: 10000 }));
}

/** Parses a YAML document that must be a map (values files): `{}` when empty. */
export function parseValuesYaml(text: string): Record<string, unknown> {
  const v = parseHelmYaml(text);
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new YamlError(`error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : 'number'} into Go value of type map[string]interface {}`);
  }
  return v as Record<string, unknown>;
}
