/**
 * What an API answer means: the envelope's `data`, or a PlaymentError whose `retryable` tells
 * the retry policy what to do. The envelopes and the data are read with the schemas beside this.
 */
import { z } from 'zod';
import { PlaymentError, SERVER_SIDE_CODES, authFailure } from './errors';
import { errorEnvelopeSchema, successEnvelopeSchema } from './schemas';

const RETRYABLE_STATUS = new Set([408, 429]);

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
  // Fast path: a 2xx answer with the success envelope. It cannot match the error envelope
  // (`success` is true there, false in the other), so the general checks below would reach the
  // same result.
  if (parsed && status >= 200 && status < 300) {
    const ok = successEnvelopeSchema.safeParse(json);
    if (ok.success) return ok.data.data;
  }
  const serverFailure = status >= 500 || RETRYABLE_STATUS.has(status);
  const envelopeError = parsed ? errorEnvelopeSchema.safeParse(json) : undefined;

  const apiCode = envelopeError?.success ? envelopeError.data.error.code : undefined;
  const refused = authFailure(status, apiCode);
  if (refused) {
    const why = `HTTP ${status}${apiCode ? `, ${apiCode}` : ''}`;
    return fail({
      code: 'UNAUTHORIZED',
      statusCode: status,
      apiCode,
      message:
        refused === 'key'
          ? `the API key was refused (${why}): check the key in the config node`
          : `the API key has no access to this project (${why})`,
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
  return fail({
    code: 'BAD_RESPONSE',
    statusCode: status,
    message: `the API answered HTTP ${status} without the {success, data} envelope`,
  });
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
