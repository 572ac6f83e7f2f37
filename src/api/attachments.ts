/**
 * Result files: `GET /v1/attachments?url=…` answers with a redirect to a signed URL on a storage
 * host. The key goes only to the API; the signed URL is fetched with no credentials at all.
 *
 * A result file holds one tracker per object per frame and can be large, so a download is
 * bounded: a size cap (checked against Content-Length before reading, and while reading), one
 * buffer that grows by doubling instead of a list of chunks concatenated at the end, and parsing
 * in slices that let the event loop run (sliced-json.ts).
 */
import { util as undiciUtil } from 'undici';
import { PlaymentError } from './errors';
import { parseJsonSliced } from './sliced-json';
import {
  AttemptCollector,
  AttemptControl,
  MAX_RESPONSE_BYTES,
  exchange,
  headerText,
  originAndPath,
  parseAnswer,
  transportError,
  type AttemptOptions,
} from './transport';

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
    const first = await exchange(
      opts.dispatcher,
      { ...originAndPath(opts.baseUrl + path), method: 'GET', headers: { 'x-api-key': opts.apiKey, accept: 'application/json' } },
      control,
      MAX_RESPONSE_BYTES,
    );
    if (!REDIRECTS.has(first.status)) {
      // An error envelope, or (should the API ever answer directly) the file itself.
      if (first.status >= 200 && first.status < 300) return Buffer.from(first.text, 'utf8');
      parseAnswer(first.status, first.text, first.retryAfter); // throws for any other status
      throw new PlaymentError({ code: 'BAD_RESPONSE', statusCode: first.status, message: `the attachment API answered HTTP ${first.status}` });
    }
    const target = new URL(first.location ?? '', opts.baseUrl);
    if (target.protocol !== 'https:' && target.protocol !== 'http:') {
      throw new PlaymentError({ code: 'BAD_RESPONSE', statusCode: first.status, message: 'the attachment redirect has no usable location' });
    }
    // A bare dispatch follows no redirect, and this one carries no key.
    const file = await new Promise<FileAnswer>((resolve, reject) => {
      opts.dispatcher.dispatch(
        { ...originAndPath(target), method: 'GET', headers: { accept: 'application/json' } },
        new FileCollector(control, opts.maxBytes, opts.capHint, resolve, reject),
      );
    });
    if (file.status < 200 || file.status >= 300) {
      throw new PlaymentError({
        code: 'HTTP_ERROR',
        statusCode: file.status,
        retryable: file.status >= 500,
        message: `the signed result URL answered HTTP ${file.status}`,
      });
    }
    return file.body;
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
  } catch (err) {
    if (err instanceof PlaymentError) throw err;
    throw new PlaymentError({ code: 'BAD_RESPONSE', statusCode: 200, message: 'the result file is not JSON' });
  }
}

function tooLargeMessage(maxBytes: number, hint: string | undefined): string {
  const size = maxBytes % MIB === 0 ? `${maxBytes / MIB} MB` : `${maxBytes} bytes`;
  return `the result file is larger than the download cap of ${size}${hint ? `: ${hint}` : ''}`;
}

interface FileAnswer {
  status: number;
  body: Buffer;
}

/** Collects a file into one buffer that grows by doubling, up to `limit` bytes. */
class FileCollector extends AttemptCollector<FileAnswer> {
  private body = Buffer.alloc(0);
  private size = 0;
  private refused = false;

  constructor(
    control: AttemptControl,
    limit: number,
    private readonly hint: string | undefined,
    resolve: (answer: FileAnswer) => void,
    reject: (err: unknown) => void,
  ) {
    super(control, limit, resolve, reject);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true;
    this.status = statusCode;
    if (statusCode >= 300) return true;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      if (undiciUtil.headerNameToString(rawHeaders[i]) !== 'content-length') continue;
      const declared = Number(headerText(rawHeaders[i + 1]));
      if (declared > this.limit) this.tooLarge();
      // Allocated once when the size is known (and within the cap).
      else if (Number.isSafeInteger(declared) && declared > 0) this.body = Buffer.allocUnsafe(declared);
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled || this.refused) return true;
    const needed = this.size + chunk.length;
    if (needed > this.limit) {
      this.tooLarge();
      return true;
    }
    if (needed > this.body.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.limit, Math.max(needed, this.body.length * 2, 64 * 1024)));
      this.body.copy(grown, 0, 0, this.size);
      this.body = grown;
    }
    chunk.copy(this.body, this.size);
    this.size = needed;
    return true;
  }

  protected answer(): FileAnswer {
    // Non-2xx bodies are not read by the caller.
    return { status: this.status, body: this.body.subarray(0, this.size) };
  }

  protected drop(): void {
    this.body = Buffer.alloc(0);
  }

  private tooLarge(): void {
    this.refused = true;
    this.body = Buffer.alloc(0);
    this.size = 0;
    this.abortRequest?.(new PlaymentError({ code: 'BAD_RESPONSE', statusCode: this.status, message: tooLargeMessage(this.limit, this.hint) }));
  }
}
