// The one error handler: DomainError by its code, zod failures as 400 naming each field,
// Fastify's own 4xx (bad JSON, content type, body size) kept as 4xx, everything else a 500
// that carries the request id and no internals.
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError, ERROR_STATUS, validationFailed, type ErrorCode, type FieldErrors } from '../errors.js';
import { isUniqueViolation } from '../db/unique.js';

interface ErrorBody {
  detail: string;
  code: ErrorCode;
  errors?: FieldErrors;
  request_id?: string;
}

function fieldErrorsFromValidation(error: FastifyError): FieldErrors {
  // No prototype: a client field named "toString" or "constructor" must not hit Object.prototype.
  const errors: FieldErrors = Object.create(null);
  const context = error.validationContext ?? 'body';
  for (const issue of error.validation ?? []) {
    const path = issue.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.');
    const params = issue.params as { keys?: string[] };
    // Unknown keys are reported on the object that holds them; name each key instead.
    const fields = issue.keyword === 'unrecognized_keys' && params.keys?.length
      ? params.keys.map((key) => (path ? `${path}.${key}` : key))
      : [path || context];
    const message = issue.keyword === 'unrecognized_keys' ? 'unknown field' : (issue.message ?? 'invalid');
    for (const field of fields) (errors[field] ??= []).push(message);
  }
  return errors;
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
};

export function toErrorBody(error: unknown, request: FastifyRequest): { status: number; body: ErrorBody } {
  if (error instanceof DomainError) {
    const body: ErrorBody = { detail: error.message, code: error.code };
    if (error.fieldErrors) body.errors = error.fieldErrors;
    if (error.status >= 500) body.request_id = request.id;
    return { status: error.status, body };
  }
  // Services turn unique violations into named conflicts; this is the net for any they miss.
  if (isUniqueViolation(error)) return { status: 409, body: { detail: 'A record with these values already exists.', code: 'DUPLICATE' } };
  const fastifyError = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fastifyError)) {
    const errors = fieldErrorsFromValidation(fastifyError);
    return { status: 400, body: { detail: validationFailed(errors).message, code: 'VALIDATION_ERROR', errors } };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code: ErrorCode = FASTIFY_CODES[fastifyError.code] ?? (fastifyError instanceof SyntaxError ? 'INVALID_JSON' : 'BAD_REQUEST');
    return { status: code === 'BAD_REQUEST' ? status : ERROR_STATUS[code], body: { detail: fastifyError.message, code } };
  }
  if (isBusy(error)) {
    return { status: 503, body: { detail: 'The database was busy (a lock, timeout or conflict); nothing was changed. Retry shortly.', code: 'TIMEOUT', request_id: request.id } };
  }
  return {
    status: 500,
    body: { detail: 'Internal server error. Quote the request id when reporting it.', code: 'INTERNAL', request_id: request.id },
  };
}

/**
 * Waiting too long is not a bug: a statement or lock timeout, a deadlock or serialization
 * failure (PostgreSQL 57014, 55P03, 40P01, 40001), or a Prisma transaction that expired (P2028),
 * for example while EOD holds an account's lock. The transaction rolled back, so a retry is safe.
 */
const BUSY_CODES = new Set(['57014', '55P03', '40P01', '40001', 'P2028']);
function isBusy(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 4) return false;
  const e = error as { code?: unknown; originalCode?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
  if ((typeof e.code === 'string' && BUSY_CODES.has(e.code)) || (typeof e.originalCode === 'string' && BUSY_CODES.has(e.originalCode))) return true;
  return isBusy(e.cause, depth + 1) || isBusy(e.meta?.driverAdapterError, depth + 1);
}

async function errorsPlugin(app: FastifyInstance) {
  app.setErrorHandler((error, request, reply: FastifyReply) => {
    const { status, body } = toErrorBody(error, request);
    if (body.code === 'TIMEOUT') reply.header('Retry-After', '1');
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.debug({ code: body.code }, 'request rejected');
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ detail: `Route ${request.method} ${request.url.split('?')[0]} not found.`, code: 'NOT_FOUND' }),
  );
}

export default fp(errorsPlugin, { name: 'errors' });
