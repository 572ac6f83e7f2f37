/**
 * Result files: `GET /v1/attachments?url=…` answers with a redirect to a signed URL on a storage
 * host. The key goes only to the API; the signed URL is fetched with no credentials at all.
 */
import { PlaymentError } from './errors';
import { AttemptControl, MAX_RESPONSE_BYTES, exchange, originAndPath, parseAnswer, transportError, type AttemptOptions } from './transport';

/** Result files can be large (one tracker per object per frame). */
export const MAX_ATTACHMENT_BYTES = 64 * 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function fetchAttachment(path: string, opts: AttemptOptions): Promise<unknown> {
  // One attempt (timer and followed signals) for both requests.
  const control = new AttemptControl(opts.signals, opts.timeoutMs);
  try {
    const first = await exchange(
      opts.dispatcher,
      { ...originAndPath(opts.baseUrl + path), method: 'GET', headers: { 'x-api-key': opts.apiKey, accept: 'application/json' } },
      control,
      MAX_RESPONSE_BYTES,
    );
    if (!REDIRECTS.has(first.status)) {
      // An error envelope, or (should the API ever answer directly) the file itself.
      if (first.status >= 200 && first.status < 300) return parseJson(first.text, first.status);
      return parseAnswer(first.status, first.text, first.retryAfter);
    }
    const target = new URL(first.location ?? '', opts.baseUrl);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') {
      throw new PlaymentError({ code: 'BAD_RESPONSE', statusCode: first.status, message: 'the attachment redirect has no usable location' });
    }
    // A bare dispatch follows no redirect, and this one carries no key.
    const file = await exchange(
      opts.dispatcher,
      { ...originAndPath(target), method: 'GET', headers: { accept: 'application/json' } },
      control,
      MAX_ATTACHMENT_BYTES,
    );
    if (file.status < 200 || file.status >= 300) {
      throw new PlaymentError({
        code: 'HTTP_ERROR',
        statusCode: file.status,
        retryable: file.status >= 500,
        message: `the signed result URL answered HTTP ${file.status}`,
      });
    }
    return parseJson(file.text, file.status);
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
