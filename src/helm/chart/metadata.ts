/**
 * @module Chart.yaml rules (pkg/chart Metadata.Validate): what makes a chart loadable, with
 * Helm's "validation: chart.metadata.… " messages, and the semantic-version grammar charts
 * use (Masterminds/semver: "1", "1.2", "v1.2.3-rc.1+build").
 */
import { checkConstraints, parseConstraints, parseVersion } from '../funcs/semver.js';
import type { ChartMetadata, Dependency } from './types.js';

/** A Chart.yaml that Helm refuses to load. */
export class ChartValidationError extends Error {
  override name = 'ChartValidationError';
  constructor(message: string) {
    super(`validation: ${message}`);
  }
}

const semverRe = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;
const strictSemverRe = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export function isValidSemver(v: string): boolean {
  return semverRe.test(v);
}

export function isStrictSemverV2(v: string): boolean {
  return strictSemverRe.test(v);
}

/**
 * Masterminds/semver constraint check, as Helm uses it for dependency versions and
 * kubeVersion; an unparsable version or constraint never matches.
 */
export function satisfies(version: string, constraint: string): boolean {
  try {
    return checkConstraints(parseConstraints(constraint), parseVersion(version));
  } catch {
    return false;
  }
}

function validateDependency(d: Dependency): void {
  if (d.alias !== undefined && d.alias !== '' && !/^[a-zA-Z0-9-_]+$/.test(d.alias)) {
    throw new ChartValidationError(`dependency "${d.name}" has disallowed characters in the alias`);
  }
}

/** Metadata.Validate: throws ChartValidationError naming the field. */
export function validateMetadata(md: ChartMetadata | undefined): void {
  if (!md) throw new ChartValidationError('chart.metadata is required');
  if (!md.apiVersion) throw new ChartValidationError('chart.metadata.apiVersion is required');
  if (!md.name) throw new ChartValidationError('chart.metadata.name is required');
  if (md.name.includes('/') || md.name.includes('\\') || md.name === '.' || md.name === '..') {
    throw new ChartValidationError(`chart.metadata.name "${md.name}" is invalid`);
  }
  if (!md.version) throw new ChartValidationError('chart.metadata.version is required');
  if (!isValidSemver(String(md.version))) throw new ChartValidationError(`chart.metadata.version "${md.version}" is invalid`);
  if (md.type !== undefined && md.type !== '' && md.type !== 'application' && md.type !== 'library') {
    throw new ChartValidationError('chart.metadata.type must be application or library');
  }
  for (const m of md.maintainers ?? []) {
    if (!m || !m.name) throw new ChartValidationError('maintainers must have a name');
  }
  const seen = new Set<string>();
  for (const d of md.dependencies ?? []) {
    if (!d) throw new ChartValidationError('dependencies must not contain empty or null nodes');
    validateDependency(d);
    const key = d.alias || d.name;
    if (seen.has(key)) throw new ChartValidationError(`more than one dependency with name or alias "${key}"`);
    seen.add(key);
  }
}
