// Small pieces every API router uses: errors that carry a status, and ajv validation of query
// strings and JSON bodies with messages that name the parameter and what is expected.
import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';
import type { ErrorRequestHandler } from 'express';
import { StoreUnavailableError } from '../store/errors.ts';
import { PasswordHashBusyError } from './passwords.ts';

export class HttpError extends Error {
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  constructor(status: number, message: string, details?: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

// Query strings arrive as text: coerce "12" to 12 and "true" to true, fill defaults.
const queryAjv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: true });
const bodyAjv = new Ajv({ allErrors: true, useDefaults: true, strict: true });

function describe(where: string, e: ErrorObject): string {
  const name = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (e.keyword === 'additionalProperties') return `unknown ${where} parameter "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'required') return `${where} parameter "${(e.params as { missingProperty: string }).missingProperty}" is required`;
  if (e.keyword === 'enum') return `${where} parameter "${name}" must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  return `${where} parameter "${name || '(whole)'}" ${e.message ?? 'is invalid'}`;
}

/** T is what the schema admits once defaults are filled in; the schema is the only check. */
function compile<T>(ajv: Ajv, where: string, schema: SchemaObject): (input: unknown) => T {
  const validate = ajv.compile<T>(schema);
  return (input) => {
    const copy = structuredClone(input ?? {});
    if (!validate(copy)) throw new HttpError(400, (validate.errors ?? []).map((e) => describe(where, e)).join('; '));
    return copy as T;
  };
}

export function queryParser<T>(schema: SchemaObject): (query: unknown) => T {
  return compile(queryAjv, 'query', schema);
}

export function bodyParser<T>(schema: SchemaObject): (body: unknown) => T {
  return compile(bodyAjv, 'body', schema);
}

/** Route ids in paths (/devices/:id) are positive integers; anything else is a 404, not a 500. */
export function idParam(value: unknown, what: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) throw new HttpError(404, `no ${what} with id "${value}"`);
  return id;
}

export interface ErrorLogger { error(message: string, meta?: Record<string, unknown>): void }

export const errorHandler = (log: ErrorLogger): ErrorRequestHandler => (err, req, res, _next) => {
  if (err instanceof HttpError) {
    res.status(err.status).json({ error: err.message, ...err.details });
    return;
  }
  // express.json() reports malformed or oversized bodies with a status of its own
  const status = (err as { status?: number }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    res.status(status).json({ error: status === 413 ? 'request body too large' : 'request body is not valid JSON' });
    return;
  }
  if (err instanceof PasswordHashBusyError) {
    res.status(503).set('retry-after', String(err.retryAfterS)).json({ error: err.message });
    return;
  }
  if (err instanceof StoreUnavailableError) {
    // The database is away (the ingest side spools meanwhile): say so, and when to try again.
    log.error('viewer API request while the database is unavailable', { method: req.method, path: req.path, error: err.message });
    res.status(503).set('retry-after', '30').json({ error: 'the database is unavailable right now; devices are still being recorded. Try again shortly.' });
    return;
  }
  log.error('viewer API request failed', { method: req.method, path: req.path, error: (err as Error).message });
  res.status(500).json({ error: 'internal error; the gateway log has the details' });
};
