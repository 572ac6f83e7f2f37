/** The one error type every failure of this package is reported with. */

/** Codes of our own. */
export const OWN_CODES = [
  'INVALID_INPUT',
  'NOT_CONFIGURED',
  'UNAUTHORIZED',
  'HTTP_ERROR',
  'NETWORK',
  'TIMEOUT',
  'BAD_RESPONSE',
  'QUEUE_FULL',
  'RATE_LIMITED',
  'ABORTED',
  'DUPLICATE_UNRESOLVED',
  /** A failure no other code names: a bug of this package, reported with the error's own message. */
  'INTERNAL',
] as const;
export type OwnCode = (typeof OWN_CODES)[number];

/**
 * Playment's documented error codes (legacy and current lists). Its auth codes reach callers as
 * `apiCode` beside UNAUTHORIZED; the others are `code` as Playment sent them.
 */
export const PLAYMENT_CODES = [
  'FS_0000',
  'FS_0001',
  'FS_0002',
  'FS_0003',
  'FS_0004',
  'FS_0005',
  'FS_0006',
  'FS_0007',
  'FS_0008',
  'FS_00011',
  'FS_00012',
  'GE_0001',
  'GE_0002',
  'api_error',
  'BATCH_CREATION',
  'invalid_request_error',
  'auth-failure',
  'core.webutil.token_auth',
  'unauthorized',
  'core.webutil.auther',
  'resource_error',
] as const;
export type PlaymentCode = (typeof PLAYMENT_CODES)[number];

/** Ours, Playment's known ones, or a code Playment sends that no document lists. */
export type ErrorCode = OwnCode | PlaymentCode | (string & {});

/** Playment's codes for a failure on its side: retrying later can help. */
export const SERVER_SIDE_CODES: ReadonlySet<ErrorCode> = new Set<PlaymentCode>(['FS_0000', 'FS_0008', 'api_error']);

export type AuthFailure = 'key' | 'access';

/**
 * Playment's codes for a refused request, which its documents send with HTTP 400 like every other
 * failure: `key` = the API key is wrong, `access` = the key is valid but not for this project.
 */
const AUTH_FAILURE_CODES: ReadonlyMap<ErrorCode, AuthFailure> = new Map<PlaymentCode, AuthFailure>([
  ['auth-failure', 'key'],
  ['core.webutil.token_auth', 'key'],
  ['unauthorized', 'access'],
  ['core.webutil.auther', 'access'],
  // Named by the project's issue tracker among the authentication answers of Playment's current
  // service, though no document we hold lists it: read as "no access", never retried.
  ['resource_error', 'access'],
]);

/**
 * Whether an answer refused the key (`key`) or the project (`access`): Playment's code decides
 * whatever the status; without one of its codes, HTTP 401 and 403.
 */
export function authFailure(status: number | undefined, apiCode: string | undefined): AuthFailure | undefined {
  const byCode = apiCode === undefined ? undefined : AUTH_FAILURE_CODES.get(apiCode);
  if (byCode) return byCode;
  if (status === 401) return 'key';
  if (status === 403) return 'access';
  return undefined;
}

export interface PlaymentErrorInit {
  code: ErrorCode;
  message: string;
  statusCode?: number;
  /** Whether sending the same request again could succeed. */
  retryable?: boolean;
  /** Playment's own code when ours replaces it (for example UNAUTHORIZED for `auth-failure`). */
  apiCode?: ErrorCode;
  /** Set when a create request may have reached Playment although we saw no answer. */
  mayExist?: boolean;
  referenceId?: string;
  /** Seconds or an HTTP date, as the server sent it. */
  retryAfter?: string;
  cause?: unknown;
}

/** Never changed after creation: `copyWith` makes a new error with more said. */
export class PlaymentError extends Error {
  readonly code: ErrorCode;
  readonly statusCode?: number;
  readonly retryable: boolean;
  readonly apiCode?: ErrorCode;
  readonly mayExist?: boolean;
  readonly referenceId?: string;
  readonly retryAfter?: string;

  constructor(init: PlaymentErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'PlaymentError';
    this.code = init.code;
    this.statusCode = init.statusCode;
    this.retryable = init.retryable ?? false;
    this.apiCode = init.apiCode;
    this.mayExist = init.mayExist;
    this.referenceId = init.referenceId;
    this.retryAfter = init.retryAfter;
  }

  /** A new error: this one's fields and cause, with `changes` applied. */
  copyWith(changes: Partial<PlaymentErrorInit>): PlaymentError {
    const { code, message, statusCode, retryable, apiCode, mayExist, referenceId, retryAfter, cause } = this;
    return new PlaymentError({ code, message, statusCode, retryable, apiCode, mayExist, referenceId, retryAfter, cause, ...changes });
  }
}

export function invalidInput(message: string): PlaymentError {
  return new PlaymentError({ code: 'INVALID_INPUT', message });
}

export function isPlaymentError(err: unknown): err is PlaymentError {
  return err instanceof PlaymentError;
}

/** Replaces every occurrence of a secret in a text: the key must never leave in a message or log. */
export function redact(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4 || !text.includes(secret)) return text;
  return text.split(secret).join('***');
}
