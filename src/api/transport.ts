/**
 * One HTTP attempt against the API: undici request, size-capped body, JSON and envelope parsing.
 * Every failure becomes a PlaymentError whose `retryable` tells the retry policy what to do.
 */
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { PlaymentError, SERVER_SIDE_CODES } from './errors';
import { errorEnvelopeSchema, successEnvelopeSchema } from './schemas';

/** Answers larger than this are refused: no API answer we use comes near it. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface AttemptRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

export interface AttemptOptions {
  dispatcher: Dispatcher;
  baseUrl: string;
  apiKey: string;
  /** Aborts the attempt: node closing, overall deadline. */
  signal: AbortSignal;
  /** Time allowed for this attempt, from sending to the last byte of the answer. */
  timeoutMs: number;
}

const RETRYABLE_STATUS = new Set([408, 429]);

export async function sendAttempt(req: AttemptRequest, opts: AttemptOptions): Promise<unknown> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = AbortSignal.any([opts.signal, timeout]);
  let status: number;
  let text: string;
  let retryAfter: string | undefined;
  try {
    const res = await request(opts.baseUrl + req.path, {
      method: req.method,
      dispatcher: opts.dispatcher,
      signal,
      headers: {
        'x-api-key': opts.apiKey,
        accept: 'application/json',
        ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      // The key travels in a header: redirects are never followed (undici's request does not
      // follow them unless a redirect interceptor is added, and we add none).
    });
    status = res.statusCode;
    const header = res.headers['retry-after'];
    retryAfter = Array.isArray(header) ? header[0] : header;
    text = await readCapped(res.body, status);
  } catch (err) {
    throw transportError(err, signal, timeout, opts.timeoutMs);
  }
  return parseAnswer(status, text, retryAfter);
}

export async function readCapped(body: Dispatcher.ResponseData['body'], status: number, limit = MAX_RESPONSE_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new PlaymentError({
        code: 'BAD_RESPONSE',
        statusCode: status,
        message: `answer larger than ${limit} bytes (HTTP ${status})`,
      });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function transportError(err: unknown, signal: AbortSignal, timeout: AbortSignal, timeoutMs: number): PlaymentError {
  if (err instanceof PlaymentError) return err;
  if (timeout.aborted) {
    return new PlaymentError({
      code: 'TIMEOUT',
      message: `no answer from the API within ${timeoutMs} ms`,
      retryable: true,
      cause: err,
    });
  }
  if (signal.aborted) {
    const reason = signal.reason;
    if (reason instanceof PlaymentError) return reason;
    return new PlaymentError({ code: 'ABORTED', message: 'request aborted', cause: err });
  }
  const e = err as { code?: string; message?: string };
  const code = e.code === 'UND_ERR_CONNECT_TIMEOUT' ? 'TIMEOUT' : 'NETWORK';
  return new PlaymentError({
    code,
    message: `${code === 'TIMEOUT' ? 'connection timed out' : 'network error'}: ${e.code ?? e.message ?? 'unknown'}`,
    retryable: true,
    cause: err,
  });
}

/** Turns an HTTP answer into the envelope's `data`, or a PlaymentError. */
export function parseAnswer(status: number, text: string, retryAfter?: string): unknown {
  let json: unknown;
  let parsed = false;
  try {
    json = JSON.parse(text);
    parsed = true;
  } catch {
    // handled below, with the status in mind
  }
  const serverFailure = status >= 500 || RETRYABLE_STATUS.has(status);
  const envelopeError = parsed ? errorEnvelopeSchema.safeParse(json) : undefined;

  if (status === 401 || status === 403) {
    const apiCode = envelopeError?.success ? envelopeError.data.error.code : undefined;
    return fail({
      code: 'UNAUTHORIZED',
      statusCode: status,
      apiCode,
      message:
        status === 401
          ? 'the API key was refused (HTTP 401): check the key in the config node'
          : `the API key has no access to this project (HTTP 403${apiCode ? `, ${apiCode}` : ''})`,
    });
  }
  if (envelopeError?.success) {
    const { code, message } = envelopeError.data.error;
    return fail({
      code,
      statusCode: status,
      message: `${code}: ${message || 'no message'} (HTTP ${status})`,
      // Playment documents every failure as HTTP 400, its server-side codes included; any other
      // 4xx is final whatever its body says.
      retryable: serverFailure || (status === 400 && SERVER_SIDE_CODES.has(code)),
      retryAfter,
    });
  }
  if (status < 200 || status >= 300) {
    return fail({
      code: 'HTTP_ERROR',
      statusCode: status,
      message: `the API answered HTTP ${status}${parsed ? '' : ' without a JSON body'}`,
      retryable: serverFailure,
      retryAfter,
    });
  }
  if (!parsed) {
    return fail({ code: 'BAD_RESPONSE', statusCode: status, message: `the API answered HTTP ${status} with a body that is not JSON` });
  }
  const ok = successEnvelopeSchema.safeParse(json);
  if (!ok.success) {
    return fail({ code: 'BAD_RESPONSE', statusCode: status, message: `the API answered HTTP ${status} without the {success, data} envelope` });
  }
  return ok.data.data;
}

function fail(init: ConstructorParameters<typeof PlaymentError>[0]): never {
  throw new PlaymentError(init);
}

/** Parses an envelope's data with a schema; a mismatch is the API's fault, not the user's. */
export function parseData<T extends z.ZodType>(schema: T, data: unknown, what: string): z.infer<T> {
  const res = schema.safeParse(data);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw new PlaymentError({
      code: 'BAD_RESPONSE',
      statusCode: 200,
      message: `unexpected ${what} answer from the API: ${issue?.path.join('.') || 'data'} ${issue?.message ?? ''}`.trim(),
    });
  }
  return res.data;
}
