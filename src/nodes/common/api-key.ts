/**
 * What an API key may contain. It travels in the x-api-key header, which cannot carry line breaks
 * or other control characters (the HTTP client would refuse every request), and keys are visible
 * ASCII: a space or a non-ASCII character is a copy-and-paste accident. Messages never quote the key.
 */

function kind(ch: string): string {
  if (ch === '\r' || ch === '\n') return 'a line break (CR or LF)';
  if (ch === ' ') return 'a space';
  const code = ch.codePointAt(0)!;
  // Stryker disable next-line EqualityOperator: 0x20 (a space) is answered above
  if (code < 0x20 || code === 0x7f) return 'a control character';
  return 'a non-ASCII character';
}

/** Why the key cannot be sent, or undefined when it can. */
export function apiKeyProblem(key: string): string | undefined {
  const bad = /[^\x21-\x7e]/.exec(key);
  if (!bad) return undefined;
  return `the API key contains ${kind(bad[0])} at character ${bad.index + 1}, which an HTTP header cannot carry: an API key is a single line of visible ASCII characters without spaces`;
}
