/** @module metav1.Time on the wire: RFC 3339 at second precision, and parsing it back. */

/** RFC 3339 with second precision, the way metav1.Time serializes. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Milliseconds since the epoch of a timestamp field, or undefined when missing or malformed. */
export function parseTime(s: unknown): number | undefined {
  if (typeof s !== 'string' || !s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}
