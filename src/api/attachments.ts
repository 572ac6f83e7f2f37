/**
 * Result files: `GET /v1/attachments?url=…` answers with a redirect to a signed URL on a storage
 * host. The key goes only to the API; the signed URL is fetched with no credentials at all.
 *
 * A result file holds one tracker per object per frame and can be large, so a download is
 * bounded: a size cap (checked against Content-Length before reading, and while reading), one
 * buffer that grows by doubling instead of a list of chunks concatenated at the end, and parsing
 * in slices that let the event loop run (sliced-json.ts).
 */
import { request } from 'undici';
import { PlaymentError } from './errors';
import { parseAnswer } from './answers';
import { parseJsonSliced } from './sliced-json';
import { AttemptControl, exchange, readCapped, transportError, type AttemptOptions } from './transport';

const MIB = 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface AttachmentOptions extends AttemptOptions {
  /** Largest result file accepted, in bytes. */
  maxBytes: number;
  /** Appended to the too-large message: where the cap is set. */
  capHint?: string;
}

/** Fetches a result file and returns its bytes, at most `maxBytes` of them. */
export async function fetchAttachment(path: string, opts: AttachmentOptions): Promise<Buffer> {
  // One attempt (timer and followed signals) for both requests.
  const control = new AttemptControl(opts.signals, opts.timeoutMs);
  try {
    const first = await exchange(opts.baseUrl + path, {
      dispatcher: opts.dispatcher,
      method: 'GET',
      headers: { 'x-api-key': opts.apiKey, accept: 'application/json' },
      signal: control.signal,
    });
    if (!REDIRECTS.has(first.status)) {
      // An error envelope, or (should the API ever answer directly) the file itself.
      if (first.status >= 200 && first.status < 300) return Buffer.from(first.text, 'utf8');
      parseAnswer(first.status, first.text, first.retryAfter); // throws for any other status
      throw new PlaymentError({
        code: 'BAD_RESPONSE',
        statusCode: first.status,
        message: `the attachment API answered HTTP ${first.status}`,
      });
    }
    // Without a Location, `new URL('', base)` would be the API itself: refused like a bad one.
    const target = first.location ? URL.parse(first.location, opts.baseUrl) : null;
    if (!target || (target.protocol !== 'https:' && target.protocol !== 'http:')) {
      throw new PlaymentError({
        code: 'BAD_RESPONSE',
        statusCode: first.status,
        message: 'the attachment redirect has no usable location',
      });
    }
    // Follows no redirect, and carries no key.
    const file = await request(target, {
      dispatcher: opts.dispatcher,
      method: 'GET',
      headers: { accept: 'application/json' },
      signal: control.signal,
    });
    if (file.statusCode < 200 || file.statusCode >= 300) {
      await file.body.dump();
      throw new PlaymentError({
        code: 'HTTP_ERROR',
        statusCode: file.statusCode,
        retryable: file.statusCode >= 500,
        message: `the signed result URL answered HTTP ${file.statusCode}`,
      });
    }
    const tooLarge = () =>
      new PlaymentError({ code: 'BAD_RESPONSE', statusCode: file.statusCode, message: tooLargeMessage(opts.maxBytes, opts.capHint) });
    return await readCapped(file, opts.maxBytes, tooLarge);
  } catch (err) {
    throw transportError(err, control, opts.timeoutMs);
  } finally {
    control.end();
  }
}

/** Parses a result file without holding the event loop for long. */
export async function parseResultFile(bytes: Buffer): Promise<unknown> {
  try {
    return await parseJsonSliced(bytes);
  } catch {
    // The parser throws only SyntaxError.
    throw new PlaymentError({ code: 'BAD_RESPONSE', statusCode: 200, message: 'the result file is not JSON' });
  }
}

function tooLargeMessage(maxBytes: number, hint: string | undefined): string {
  const size = maxBytes % MIB === 0 ? `${maxBytes / MIB} MB` : `${maxBytes} bytes`;
  return `the result file is larger than the download cap of ${size}${hint ? `: ${hint}` : ''}`;
}
