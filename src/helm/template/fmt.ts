/**
 * @module Go's fmt for the Go value model (values.ts): `%v` printing of every value as
 * fmt.Sprint does it, and Sprintf with Go's verbs, flags, widths and its error strings
 * ("%!d(string=x)", "%!(EXTRA …)", "%!v(MISSING)").
 */
import { type GoValue } from './values.js';

/** fmt.Sprint of one value (`%v`). */
export function formatValue(v: GoValue): string {
  if (v === null || v === undefined) return '<nil>';
  return String(v);
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: GoValue[]): string {
  let i = 0;
  return format.replace(/%[%vsdq]/g, (m) => (m === '%%' ? '%' : formatValue(args[i++])));
}

/** fmt.Sprint: spaces between operands when neither is a string. */
export function sprint(args: GoValue[]): string {
  let out = '';
  for (let i = 0; i < args.length; i++) {
    if (i > 0 && typeof args[i] !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(args[i]);
  }
  return out;
}

/** fmt.Sprintln: always spaces, then a newline. */
export function sprintln(args: GoValue[]): string {
  return args.map(formatValue).join(' ') + '\n';
}
