/**
 * @module ApiError: the one error type of the API layer. It carries what a
 * metav1.Status carries and becomes one in exactly one place (toStatus).
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A field-level validation error, as k8s.io/apimachinery/pkg/util/validation/field.Error. */
export interface FieldError {
  /** FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueDuplicate, FieldValueForbidden, FieldValueTooLong, FieldValueTypeInvalid */
  type: FieldErrorType;
  field: string;
  /** The bad value (omitted for Required/Forbidden). */
  value?: unknown;
  /** Free detail text, e.g. "must be no more than 63 characters". */
  detail?: string;
  /** For NotSupported: the accepted values. */
  supported?: string[];
  /** The value as Go's %#v prints it (e.g. `map[string]string{"app":"x"}`), when JSON would read differently from kube's message. */
  valueRepr?: string;
}

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotFound';

export function required(field: string, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field, detail };
}
export function invalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, value, detail };
}
export function notSupported(field: string, value: unknown, supported: string[]): FieldError {
  return { type: 'FieldValueNotSupported', field, value, supported };
}
export function duplicate(field: string, value: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field, value };
}
export function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, detail };
}
export function tooLong(field: string, value: unknown, max: number): FieldError {
  return { type: 'FieldValueTooLong', field, value, detail: `must have at most ${max} bytes` };
}

/** Renders a field error the way field.Error.Error() does. */
export function fieldErrorMessage(e: FieldError): string {
  const prefix = e.field ? `${e.field}: ` : '';
  const value = e.valueRepr ?? formatValue(e.value);
  switch (e.type) {
    case 'FieldValueRequired':
      return `${prefix}Required value${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueForbidden':
      return `${prefix}Forbidden${e.detail ? `: ${e.detail}` : ''}`;
    case 'FieldValueDuplicate':
      return `${prefix}Duplicate value: ${value}`;
    case 'FieldValueNotSupported':
      return `${prefix}Unsupported value: ${value}${
        e.supported?.length ? `: supported values: ${e.supported.map((s) => JSON.stringify(s)).join(', ')}` : ''
      }`;
    case 'FieldValueTooLong':
      return `${prefix}Too long: ${e.detail ?? ''}`.trimEnd();
    case 'FieldValueTooMany':
      return `${prefix}Too many: ${value}: ${e.detail ?? ''}`.trimEnd();
    case 'FieldValueTypeInvalid':
      return `${prefix}Invalid value: ${value}: ${e.detail ?? ''}`;
    case 'FieldValueNotFound':
      return `${prefix}Not found: ${value}`;
    default:
      return `${prefix}Invalid value: ${value}${e.detail ? `: ${e.detail}` : ''}`;
  }
}

function formatValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** The one error type the API server turns into a metav1.Status. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    /** ListMeta carried by the Status (e.g. a fresh continue token with a 410 for a compacted one). */
    readonly statusMetadata: Record<string, unknown> = {},
  ) {
    super(message);
  }

  toStatus(): Status {
    const s: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: { ...this.statusMetadata },
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    if (this.reason === '') delete s.reason;
    return s;
  }

  /** `pods "x" not found` — group is the API group ('' for core). */
  static notFound(resource: string, group: string, name: string): ApiError {
    const qualified = group ? `${resource}.${group}` : resource;
    return new ApiError(404, 'NotFound', `${qualified} "${name}" not found`, { name, group, kind: resource });
  }

  static alreadyExists(resource: string, group: string, name: string): ApiError {
    const qualified = group ? `${resource}.${group}` : resource;
    return new ApiError(409, 'AlreadyExists', `${qualified} "${name}" already exists`, { name, group, kind: resource });
  }

  static conflict(resource: string, group: string, name: string, why: string): ApiError {
    const qualified = group ? `${resource}.${group}` : resource;
    return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified} "${name}": ${why}`, {
      name,
      group,
      kind: resource,
    });
  }

  /** `Deployment.apps "x" is invalid: [spec.replicas: Invalid value: -1: must be ..., ...]` */
  static invalid(kind: string, group: string, name: string, errs: FieldError[]): ApiError {
    const qualified = group ? `${kind}.${group}` : kind;
    const msgs = errs.map(fieldErrorMessage);
    const joined = msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
    return new ApiError(422, 'Invalid', `${qualified} "${name}" is invalid: ${joined}`, {
      name,
      group,
      kind,
      causes: errs.map((e) => ({ reason: e.type, message: fieldErrorMessage(e).slice(e.field ? e.field.length + 2 : 0), field: e.field })),
    });
  }

  static badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  }

  static methodNotAllowed(message: string): ApiError {
    return new ApiError(405, 'MethodNotAllowed', message);
  }

  static unauthorized(): ApiError {
    return new ApiError(401, 'Unauthorized', 'Unauthorized');
  }

  static forbidden(message: string): ApiError {
    return new ApiError(403, 'Forbidden', message);
  }

  static gone(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  }

  static tooLarge(message = 'Request entity too large: limit is 3145728'): ApiError {
    return new ApiError(413, 'RequestEntityTooLarge', message);
  }

  static unsupportedMediaType(): ApiError {
    return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
  }

  static internal(message: string): ApiError {
    return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);
  }
}
