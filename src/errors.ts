// One error type for everything a client can cause, with stable codes and one table from code
// to HTTP status. The error handler (src/plugins/errors.ts) is the only place that reads it.

export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  INVALID_JSON: 400,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  DUPLICATE: 409,
  STATE_CONFLICT: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  INVARIANT_VIOLATION: 500,
  NOT_READY: 503,
  TIMEOUT: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Field path -> messages, e.g. {"line_detail.approved_line_amount": ["must be positive"]}. */
export type FieldErrors = Record<string, string[]>;

export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fieldErrors?: FieldErrors,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} not found.`);

export const invalidField = (field: string, message: string) =>
  new DomainError('VALIDATION_ERROR', `${field}: ${message}`, { [field]: [message] });

/** A 400 naming every field of `errors`, with a detail line listing them. */
export const validationFailed = (errors: FieldErrors) =>
  new DomainError('VALIDATION_ERROR', Object.entries(errors).map(([field, messages]) => `${field}: ${messages.join(', ')}`).join('; '), errors);
