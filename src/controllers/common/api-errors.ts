/**
 * @module The API error classes a controller tells apart (apimachinery's errors.IsNotFound,
 * IsConflict, IsAlreadyExists, IsInvalid) and the text of any thrown value for events and logs.
 */
import { ApiError } from '../../api/errors.js';

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404;
}

/** A precondition or resourceVersion conflict (reason Conflict): the cache was behind, retry. AlreadyExists is also a 409 but not a conflict. */
export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.code === 409 && err.reason !== 'AlreadyExists';
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ApiError && err.reason === 'AlreadyExists';
}

/** 422: the server rejected the object (a patch against a re-created namesake lands here). */
export function isInvalid(err: unknown): boolean {
  return err instanceof ApiError && err.code === 422;
}

/** The message of an Error, or the value as text: what events and logs print. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** errors.HasStatusCause(err, NamespaceTerminating): a create refused because its namespace is being deleted. */
export function isNamespaceTerminating(err: unknown): boolean {
  return err instanceof ApiError && !!err.details?.causes?.some((c) => c.reason === 'NamespaceTerminating');
}
