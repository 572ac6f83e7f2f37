/**
 * Result files: `GET /v1/attachments?url=…` answers with a redirect to a signed URL on a storage
 * host. The key goes only to the API; the signed URL is fetched with no credentials at all.
 */
import { request } from 'undici';
import { PlaymentError } from './errors';
import { AttemptControl, parseAnswer, readCapped, transportError, type AttemptOptions } from './transport';

/** Result files can be large (one tracker per object per frame). */
export const MAX_ATTACHMENT_BYTES = 64 * 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function fetchAttachment(path: string, opts: AttemptOptions): Promise<unknown> {
  // One controller for both requests, aborted by the attempt's timer or the followed signals.
  const controller = new AbortController();
  const control = new AttemptControl(opts.signals, opts.timeoutMs);
  if (control.aborted) controller.abort(control.reason);
  else control.running = { stop: (reason) => controller.abort(reason) };
  const signal = controller.signal;
  try {
    const first = await request(opts.baseUrl + path, {
      method: 'GET',
      dispatcher: opts.dispatcher,
      signal,
      headers: { 'x-api-key': opts.apiKey, accept: 'application/json' },
    });
    if (!REDIRECTS.has(first.statusCode)) {
      const text = await readCapped(first.body, first.statusCode, undefined, first.headers['content-length']);
      // An error envelope, or (should the API ever answer directly) the file itself.
      if (first.statusCode >= 200 && first.statusCode < 300) return parseJson(text, first.statusCode);
      const retryAfter = first.headers['retry-after'];
      return parseAnswer(first.statusCode, text, Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
    }
    await first.body.dump();
    const location = first.headers.location;
    const target = new URL(String(Array.isArray(location) ? location[0] : location ?? ''), opts.baseUrl);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') {
      throw new PlaymentError({ code: 'BAD_RESPONSE', statusCode: first.statusCode, message: 'the attachment redirect has no usable location' });
    }
    const file = await request(target, {
      method: 'GET',
      dispatcher: opts.dispatcher,
      signal,
      headers: { accept: 'application/json' },
    });
    const text = await readCapped(file.body, file.statusCode, MAX_ATTACHMENT_BYTES, file.headers['content-length']);
    if (file.statusCode < 200 || file.statusCode >= 300) {
      throw new PlaymentError({
        code: 'HTTP_ERROR',
        statusCode: file.statusCode,
        retryable: file.statusCode >= 500,
        message: `the signed result URL answered HTTP ${file.statusCode}`,
      });
    }
    return parseJson(text, file.statusCode);
  } catch (err) {
    throw transportError(err, control, opts.timeoutMs);
  } finally {
    control.end();
  }
}

function parseJson(text: string, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new PlaymentError({ code: 'BAD_RESPONSE', statusCode: status, message: 'the result file is not JSON' });
  }
}
