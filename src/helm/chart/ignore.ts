/**
 * @module .helmignore (pkg/ignore): one pattern per line, `#` comments, `!` negation, a
 * trailing "/" only matches directories, a leading "/" anchors at the chart root, patterns
 * without "/" match the base name only; `**` is refused. Dotfiles under templates/ are
 * always ignored.
 */
import { BadPatternError, goPathMatch } from './match.js';

interface Rule {
  raw: string;
  negate: boolean;
  mustDir: boolean;
  match: (path: string) => boolean;
}

export class HelmIgnoreError extends Error {
  override name = 'HelmIgnoreError';
}

export const helmIgnoreFile = '.helmignore';

export class IgnoreRules {
  private readonly rules: Rule[] = [];

  /** Parses .helmignore content; the default rule comes first. */
  static parse(text: string): IgnoreRules {
    const r = new IgnoreRules();
    r.add('templates/.?*');
    for (const line of text.split(/\r?\n/)) r.add(line);
    return r;
  }

  add(line: string): void {
    let rule = line.trim();
    if (rule === '' || rule.startsWith('#')) return;
    if (rule.includes('**')) throw new HelmIgnoreError('double-star (**) syntax is not supported');
    try {
      goPathMatch(rule, 'abc');
    } catch (e) {
      if (e instanceof BadPatternError) throw new HelmIgnoreError(e.message);
      throw e;
    }
    const raw = rule;
    let negate = false;
    let mustDir = false;
    if (rule.startsWith('!')) {
      negate = true;
      rule = rule.slice(1);
    }
    if (rule.endsWith('/')) {
      mustDir = true;
      rule = rule.slice(0, -1);
    }
    let match: (p: string) => boolean;
    if (rule.startsWith('/')) {
      const anchored = rule.slice(1);
      match = (p) => safeMatch(anchored, p);
    } else if (rule.includes('/')) match = (p) => safeMatch(rule, p);
    else match = (p) => safeMatch(rule, p.slice(p.lastIndexOf('/') + 1));
    this.rules.push({ raw, negate, mustDir, match });
  }

  /** Whether a chart-relative path ("templates/x.yaml", a directory "charts/sub") is ignored. */
  ignore(path: string, isDir: boolean): boolean {
    if (path === '' || path === '.' || path === './') return false;
    for (const r of this.rules) {
      if (r.negate) {
        if (r.mustDir && !isDir) return true;
        if (!r.match(path)) return true;
        continue;
      }
      if (r.mustDir && !isDir) continue;
      if (r.match(path)) return true;
    }
    return false;
  }
}

function safeMatch(pattern: string, name: string): boolean {
  try {
    return goPathMatch(pattern, name);
  } catch {
    return false;
  }
}
