/**
 * @module Release storage over the API, as Helm 3's Secrets driver and storage.Storage: one
 * Secret per revision in the release namespace, found by the labels owner=helm and name,
 * so history, the latest and the deployed revision come from label-selected lists.
 */
import { ApiError } from '../../api/errors.js';
import type { KObject } from '../../api/types.js';
import { Resources, type Client } from '../../client/client.js';
import { releaseKey, releaseOwner, releaseToSecret, secretToRelease, ReleaseDecodeError } from './codec.js';
import type { Release, ReleaseStatus } from './types.js';

/** Helm's driver.ErrReleaseNotFound: "release: not found". */
export class ReleaseNotFoundError extends Error {
  override name = 'ReleaseNotFoundError';
  constructor(readonly releaseName?: string) {
    super('release: not found');
  }
}

/** Helm's driver.ErrReleaseExists. */
export class ReleaseExistsError extends Error {
  override name = 'ReleaseExistsError';
  constructor(readonly releaseName: string) {
    super('release: already exists');
  }
}

/** Helm's driver.ErrNoDeployedReleases: `"NAME" has no deployed releases`. */
export class NoDeployedReleasesError extends Error {
  override name = 'NoDeployedReleasesError';
  constructor(readonly releaseName: string) {
    super(`"${releaseName}" has no deployed releases`);
  }
}

/** A storage failure with the context Helm's Secrets driver gives it ("create: failed to create: …"). */
export class ReleaseStorageError extends Error {
  override name = 'ReleaseStorageError';
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

const wrapped = (what: string, err: unknown) => new ReleaseStorageError(`${what}: ${err instanceof Error ? err.message : String(err)}`, err);

/** The labels Helm's storage owns on a release Secret. */
const systemLabels = new Set(['name', 'owner', 'status', 'version', 'createdAt', 'modifiedAt']);

const byVersion = (a: Release, b: Release) => a.version - b.version;

export class ReleaseStorage {
  constructor(
    private readonly client: Client,
    /** The release namespace; undefined lists every namespace (helm list -A). */
    readonly namespace: string | undefined,
    private readonly log: (msg: Record<string, unknown>) => void = () => {},
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private unixNow(): string {
    return String(Math.floor(this.clock().getTime() / 1000));
  }

  private ns(rel?: Release): string | undefined {
    return rel?.namespace || this.namespace;
  }

  /** Releases whose Secrets match the selector (always owner=helm); undecodable Secrets are skipped, as Helm's driver logs and skips them. */
  async query(selector: Record<string, string>): Promise<Release[]> {
    const labelSelector = Object.entries({ owner: releaseOwner, ...selector })
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const list = await this.client.list(Resources.secrets, this.namespace, { labelSelector });
    const out: Release[] = [];
    for (const s of (list.items ?? []) as KObject[]) {
      if (s.type !== undefined && s.type !== 'helm.sh/release.v1') continue;
      try {
        const rel = secretToRelease(s);
        // The labels are the truth for status (Helm reads them back into the release).
        const st = s.metadata?.labels?.status as ReleaseStatus | undefined;
        if (st) rel.info.status = st;
        rel.namespace ||= s.metadata?.namespace ?? '';
        out.push(rel);
      } catch (err) {
        if (!(err instanceof ReleaseDecodeError)) throw err;
        this.log({ level: 'warn', msg: 'skipping release secret', secret: s.metadata?.name, error: err.message });
      }
    }
    return out;
  }

  async get(name: string, version: number): Promise<Release> {
    if (this.namespace === undefined) {
      const found = (await this.query({ name, version: String(version) }))[0];
      if (!found) throw new ReleaseNotFoundError(name);
      return found;
    }
    try {
      const s = await this.client.get(Resources.secrets, this.namespace, releaseKey(name, version));
      const rel = secretToRelease(s);
      const st = s.metadata?.labels?.status as ReleaseStatus | undefined;
      if (st) rel.info.status = st;
      return rel;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) throw new ReleaseNotFoundError(name);
      throw err;
    }
  }

  /** Every revision of a release, oldest first ([] when there is none). */
  async history(name: string): Promise<Release[]> {
    return (await this.query({ name })).sort(byVersion);
  }

  /** The highest revision, whatever its status (Helm's storage.Last). */
  async last(name: string): Promise<Release> {
    const h = await this.history(name);
    if (h.length === 0) throw new ReleaseNotFoundError(name);
    return h[h.length - 1];
  }

  /** Every deployed revision, oldest first (normally one). */
  async deployedAll(name: string): Promise<Release[]> {
    return (await this.query({ name, status: 'deployed' })).sort(byVersion);
  }

  /** The latest deployed revision (Helm's storage.Deployed). */
  async deployed(name: string): Promise<Release> {
    const all = await this.deployedAll(name);
    if (all.length === 0) throw new NoDeployedReleasesError(name);
    return all[all.length - 1];
  }

  /** Every revision of every release in scope. */
  async listAll(): Promise<Release[]> {
    return this.query({});
  }

  async create(rel: Release): Promise<void> {
    try {
      // Helm's Secrets driver stamps createdAt on create and modifiedAt on update.
      await this.client.create(Resources.secrets, this.ns(rel), releaseToSecret(rel, { createdAt: this.unixNow() }));
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) throw new ReleaseExistsError(rel.name);
      throw wrapped('create: failed to create', err);
    }
  }

  /** Rewrites a revision (status, description, hooks' last runs); the Secret's labels follow the status. */
  async update(rel: Release): Promise<void> {
    try {
      const cur = await this.client.get(Resources.secrets, this.ns(rel), releaseKey(rel.name, rel.version));
      // An update rewrites the labels: Helm's own are set afresh (createdAt goes), custom ones survive.
      const custom = Object.fromEntries(Object.entries(cur.metadata?.labels ?? {}).filter(([k]) => !systemLabels.has(k)));
      const secret = releaseToSecret(rel, { ...custom, modifiedAt: this.unixNow() });
      secret.metadata!.resourceVersion = cur.metadata?.resourceVersion;
      await this.client.update(Resources.secrets, this.ns(rel), secret);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) throw new ReleaseNotFoundError(rel.name);
      throw wrapped('update: failed to update', err);
    }
  }

  async delete(rel: Release): Promise<void> {
    try {
      await this.client.delete(Resources.secrets, this.ns(rel), releaseKey(rel.name, rel.version));
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }

  /**
   * Helm's --history-max: after a new revision, drops the oldest revisions beyond max
   * (0 = unlimited), never the deployed one.
   */
  async pruneHistory(name: string, max: number): Promise<void> {
    if (max <= 0) return;
    const h = await this.history(name);
    let excess = h.length - max;
    for (const rel of h) {
      if (excess <= 0) break;
      if (rel.info.status === 'deployed') continue;
      await this.delete(rel);
      excess--;
    }
  }
}
