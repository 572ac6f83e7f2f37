// Responses are built as plain values first and written later, so a 'reset-after' fault can
// handle a request fully and then drop the answer instead of sending it.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Reply {
  status: number;
  body: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** For the request log: the error code of a failure answer. */
  code?: string;
  /** For the request log: the job a create request stored. */
  jobId?: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Client-supplied text echoed in an error message is shortened, so messages stay small. */
export function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

export function success(data: unknown): Reply {
  return { status: 200, body: JSON.stringify({ success: true, data }), contentType: JSON_TYPE };
}

export function failure(status: number, code: string, message: string, headers?: Record<string, string>): Reply {
  return {
    status,
    body: JSON.stringify({ success: false, error: { code, message } }),
    contentType: JSON_TYPE,
    headers,
    code,
  };
}

/** Plain JSON without the Playment envelope (used by the /_sandbox control endpoints). */
export function plainJson(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value), contentType: JSON_TYPE };
}

export function redirect(location: string): Reply {
  return { status: 302, body: '', headers: { location } };
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number> = {
    'content-length': Buffer.byteLength(reply.body),
    ...reply.headers,
  };
  if (reply.contentType) headers['content-type'] = reply.contentType;
  res.writeHead(reply.status, headers);
  res.end(reply.body);
}

export type BodyResult = { ok: true; body: Buffer } | { ok: false; tooLarge: true } | { ok: false; aborted: true };

/**
 * Reads the whole request body once, refusing anything over maxBytes. Only POSTs carry bodies
 * here; other methods resolve immediately with an empty buffer (Node drains any stray body).
 */
export function readBody(req: IncomingMessage, maxBytes: number, done: (result: BodyResult) => void): void {
  if (req.method !== 'POST') {
    done({ ok: true, body: EMPTY });
    return;
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    done({ ok: false, tooLarge: true });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (result: BodyResult): void => {
    if (finished) return;
    finished = true;
    done(result);
  };
  req.on('data', (chunk: Buffer) => {
    if (finished) return;
    size += chunk.length;
    if (size > maxBytes) {
      chunks.length = 0;
      finish({ ok: false, tooLarge: true });
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => finish({ ok: true, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size) }));
  req.on('error', () => finish({ ok: false, aborted: true }));
  req.on('close', () => {
    if (!req.complete) finish({ ok: false, aborted: true });
  });
}

const EMPTY = Buffer.alloc(0);
