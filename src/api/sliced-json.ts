/**
 * JSON.parse for large documents without holding the event loop for seconds: the document is
 * walked from its bytes, every value up to SMALL_VALUE_BYTES long is handed to the native
 * JSON.parse, and the walk yields to the event loop after each slice of work. The result is the
 * value JSON.parse would give (`__proto__` keys included, as own properties); invalid JSON throws
 * a SyntaxError.
 */

/** Values this long or shorter are parsed natively in one piece. */
const SMALL_VALUE_BYTES = 64 * 1024;
/** Work done before yielding to the event loop. */
const SLICE_MS = 10;
/** Nesting of large containers (each above SMALL_VALUE_BYTES) before the document is refused. */
const MAX_LARGE_DEPTH = 512;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

export async function parseJsonSliced(bytes: Uint8Array): Promise<unknown> {
  if (bytes.length <= SMALL_VALUE_BYTES) return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  return new SlicedParser(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)).parseDocument();
}

class SlicedParser {
  private pos = 0;
  private sliceStart = performance.now();

  constructor(private readonly buf: Buffer) {}

  async parseDocument(): Promise<unknown> {
    const value = await this.value(0);
    this.skipSpace();
    if (this.pos !== this.buf.length) throw this.syntax('unexpected data after the JSON value');
    return value;
  }

  private async value(depth: number): Promise<unknown> {
    await this.maybeYield();
    this.skipSpace();
    const start = this.pos;
    const end = this.endOfValue(start, start + SMALL_VALUE_BYTES);
    if (end !== -1) {
      this.pos = end;
      return JSON.parse(this.buf.toString('utf8', start, end));
    }
    const open = this.buf[start];
    if (open === OPEN_ARRAY || open === OPEN_OBJECT) {
      if (depth >= MAX_LARGE_DEPTH) throw this.syntax('the JSON document is nested too deeply');
      return open === OPEN_ARRAY ? this.array(depth) : this.object(depth);
    }
    // A scalar longer than SMALL_VALUE_BYTES: a long string.
    const scalarEnd = this.endOfValue(start, this.buf.length);
    if (scalarEnd === -1) throw this.syntax('unterminated value');
    this.pos = scalarEnd;
    return JSON.parse(this.buf.toString('utf8', start, scalarEnd));
  }

  private async array(depth: number): Promise<unknown[]> {
    const items: unknown[] = [];
    this.pos++;
    this.skipSpace();
    if (this.buf[this.pos] === CLOSE_ARRAY) {
      this.pos++;
      return items;
    }
    for (;;) {
      items.push(await this.value(depth + 1));
      this.skipSpace();
      const next = this.buf[this.pos++];
      if (next === CLOSE_ARRAY) return items;
      if (next !== COMMA) throw this.syntax('expected , or ] in an array');
    }
  }

  private async object(depth: number): Promise<Record<string, unknown>> {
    const target: Record<string, unknown> = {};
    this.pos++;
    this.skipSpace();
    if (this.buf[this.pos] === CLOSE_OBJECT) {
      this.pos++;
      return target;
    }
    for (;;) {
      this.skipSpace();
      if (this.buf[this.pos] !== QUOTE) throw this.syntax('expected a property name');
      const keyEnd = this.endOfString(this.pos, this.buf.length);
      if (keyEnd === -1) throw this.syntax('unterminated property name');
      const key = JSON.parse(this.buf.toString('utf8', this.pos, keyEnd)) as string;
      this.pos = keyEnd;
      this.skipSpace();
      if (this.buf[this.pos++] !== COLON) throw this.syntax('expected : after a property name');
      const value = await this.value(depth + 1);
      // As JSON.parse does: an own property, even for "__proto__".
      Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
      this.skipSpace();
      const next = this.buf[this.pos++];
      if (next === CLOSE_OBJECT) return target;
      if (next !== COMMA) throw this.syntax('expected , or } in an object');
    }
  }

  /**
   * The end of the value starting at `start`, or -1 when it does not end before `limit`. Only
   * finds the extent; JSON.parse checks the content.
   */
  private endOfValue(start: number, limit: number): number {
    const buf = this.buf;
    const stop = Math.min(limit, buf.length);
    const first = buf[start];
    if (first === QUOTE) return this.endOfString(start, stop);
    if (first !== OPEN_ARRAY && first !== OPEN_OBJECT) {
      let i = start;
      while (i < stop && !isDelimiter(buf[i])) i++;
      return i < stop || stop === buf.length ? i : -1;
    }
    let depth = 0;
    for (let i = start; i < stop; i++) {
      const c = buf[i];
      if (c === QUOTE) {
        const end = this.endOfString(i, stop);
        if (end === -1) return -1;
        i = end - 1;
      } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        depth++;
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  }

  /** The position after the closing quote of the string starting at `start`, or -1 before `stop`. */
  private endOfString(start: number, stop: number): number {
    const buf = this.buf;
    for (let i = start + 1; i < stop; i++) {
      const c = buf[i];
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) return i + 1;
    }
    return -1;
  }

  private skipSpace(): void {
    const buf = this.buf;
    let i = this.pos;
    while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x0a || buf[i] === 0x0d || buf[i] === 0x09)) i++;
    this.pos = i;
  }

  private async maybeYield(): Promise<void> {
    if (performance.now() - this.sliceStart < SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
  }

  private syntax(what: string): SyntaxError {
    return new SyntaxError(`${what} at byte ${this.pos}`);
  }
}

function isDelimiter(c: number): boolean {
  return c === COMMA || c === CLOSE_ARRAY || c === CLOSE_OBJECT || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === COLON;
}
