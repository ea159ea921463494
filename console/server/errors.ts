import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyError } from 'fastify';
import { AccessDeniedError, AuthenticationError, ConflictError, NotFoundError } from '../../store';
import { GateNotWaitingError } from '../../cli/decide';
import { ScheduleInputError } from '../../cli/schedules';

/** A request the console refuses as it stands: `status` 400 unless said otherwise; the message names the field. */
export class ApiInputError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 413 = 400,
  ) {
    super(message);
    this.name = 'ApiInputError';
  }
}

const CSRF_CODES = new Set(['FST_CSRF_MISSING_SECRET', 'FST_CSRF_INVALID_TOKEN']);

/**
 * The HTTP status and message of an error: the store's and Temporal's named errors map to 4xx
 * with their own messages (which name the subject and the remedy); anything else is a 500.
 */
export function httpError(error: unknown, where: string): { status: number; message: string } {
  const e = error as Partial<FastifyError> & Error;
  if (error instanceof ApiInputError) return { status: error.status, message: error.message };
  if (error instanceof AuthenticationError) return { status: 401, message: error.message };
  if (error instanceof AccessDeniedError) return { status: 403, message: error.message };
  if (error instanceof NotFoundError) return { status: 404, message: error.message };
  if (error instanceof WorkflowNotFoundError)
    return { status: 404, message: `no run '${error.workflowId}' in Temporal (${where})` };
  if (error instanceof ConflictError || error instanceof GateNotWaitingError)
    return { status: 409, message: error.message };
  if (error instanceof ScheduleInputError) return { status: 400, message: error.message };
  if (e.code && CSRF_CODES.has(e.code))
    return {
      status: 403,
      message: `${where}: missing or invalid x-csrf-token header; send the csrfToken that POST or GET /api/session returned`,
    };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, message: `${where}: the body is over the limit` };
  if (e.validation) return { status: 400, message: `${where}: ${e.message}` };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
    return { status: e.statusCode, message: `${where}: ${e.message}` };
  return { status: 500, message: `${where}: ${e.message ?? String(error)}` };
}
