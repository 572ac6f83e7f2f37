/**
 * The sliced parser on documents just over its native-parse size (64 KiB), so every branch of the
 * walk runs in milliseconds: same value as JSON.parse, same refusals, and the nesting bound.
 */
import assert from 'node:assert/strict';
import { parseJsonSliced } from '../../src/api/sliced-json';

/** A string value longer than the parser's native-parse size. */
const LONG = 'x'.repeat(70 * 1024);
/** Small items that add up to more than the native-parse size. */
const ITEMS = Array.from({ length: 3000 }, (_, i) => `{"i":${i},"s":"a\\"]}b"}`).join(',');

async function same(text: string): Promise<void> {
  const parsed = await parseJsonSliced(Buffer.from(text));
  assert.deepEqual(parsed, JSON.parse(text), text.slice(0, 80));
  assert.equal(JSON.stringify(parsed), JSON.stringify(JSON.parse(text)));
}

async function refused(text: string, where: RegExp): Promise<void> {
  assert.throws(() => JSON.parse(text), SyntaxError, 'JSON.parse refuses it too');
  await assert.rejects(parseJsonSliced(Buffer.from(text)), (e: Error) => {
    assert.ok(e instanceof SyntaxError, `a SyntaxError, got ${String(e)}`);
    assert.match(e.message, where);
    return true;
  });
}

describe('sliced JSON parsing just above the native-parse size', () => {
  it('gives what JSON.parse gives for large arrays, objects and strings, with any JSON whitespace', async () => {
    await same(`[${ITEMS}]`);
    await same(` \t\r\n[ \t\r\n${ITEMS.replaceAll(',', ' ,\n\t')} \r\n] \n`);
    await same(`{"items":[${ITEMS}],"long":"${LONG}","n":-1.5e3,"t":true,"f":false,"z":null}`);
    await same(`{ "a" :\t[${ITEMS}] ,\r\n "b" : { } , "c" : [ ] , "d":{"e":[${ITEMS}]} }`);
    await same(`{"esc\\"aped":"${LONG}","k\\\\":[${ITEMS}]}`);
    await same(`"${LONG}"`);
    await same(`["${LONG}","${LONG}",12345678901234567890,"${LONG}\\\\"]`);
    await same(`[[${ITEMS}],[],{},[${ITEMS}],{"x":[${ITEMS}]}]`);
    // Large containers with nothing in them but whitespace.
    await same(`[${' '.repeat(70 * 1024)}]`);
    await same(`{${'\n'.repeat(70 * 1024)}}`);
    await same(`{"a":[${' '.repeat(70 * 1024)}],"b":{${' '.repeat(70 * 1024)}}}`);
    // A number longer than the native-parse size, alone and inside a large array.
    await same('1'.repeat(70 * 1024));
    await same(`[${'2'.repeat(70 * 1024)}, ${ITEMS}]`);
    // A long number or literal run at the end of a large array.
    await same(`[${ITEMS},${'1'.repeat(200)}]`);
    await same(`[${ITEMS},true,false,null]`);
  });

  it('keeps "__proto__" as an own property at every large level, as JSON.parse does', async () => {
    const parsed = (await parseJsonSliced(Buffer.from(`{"__proto__":[${ITEMS}],"b":{"__proto__":{"p":1},"x":[${ITEMS}]}}`))) as Record<
      string,
      Record<string, unknown>
    >;
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.ok(Object.prototype.hasOwnProperty.call(parsed, '__proto__'));
    assert.equal((Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value as unknown[]).length, 3000);
    assert.deepEqual(Object.getOwnPropertyDescriptor(parsed.b, '__proto__')?.value, { p: 1 });
    assert.deepEqual(Object.keys(parsed), ['__proto__', 'b']);
    const later = parsed.b as Record<string, unknown>;
    later.x = 1;
    assert.equal(later.x, 1, 'a parsed property is writable');
    assert.deepEqual(Object.keys(later), ['__proto__', 'x'], 'and enumerable');
    delete later.x;
    assert.deepEqual(Object.keys(later), ['__proto__'], 'and configurable');
  });

  it('refuses what JSON.parse refuses, saying what was expected and at which byte', async () => {
    await refused(`[${ITEMS}] x`, /^unexpected data after the JSON value at byte \d+$/);
    await refused(`[${ITEMS} {}]`, /^expected , or \] in an array at byte \d+$/);
    await refused(`[${ITEMS}`, /^expected , or \] in an array at byte \d+$/);
    await refused(`{"a":[${ITEMS}] "b":1}`, /^expected , or \} in an object at byte \d+$/);
    await refused(`{"a":[${ITEMS}]`, /^expected , or \} in an object at byte \d+$/);
    await refused(`{"a":[${ITEMS}],b:1}`, /^expected a property name at byte \d+$/);
    await refused(`{"a":[${ITEMS}],}`, /^expected a property name at byte \d+$/);
    await refused(`{"a":[${ITEMS}],"b`, /^unterminated property name at byte \d+$/);
    await refused(`{"a" [${ITEMS}]}`, /^expected : after a property name at byte \d+$/);
    await refused(`{"a":"${LONG}`, /^unterminated value at byte \d+$/);
    await refused(`[${ITEMS},]`, /Unexpected|JSON/);
    await refused(`[${ITEMS},01]`, /Unexpected|JSON|number/);
  });

  it('names the byte where the walk stopped', async () => {
    const text = `[${ITEMS}] x`;
    await assert.rejects(
      parseJsonSliced(Buffer.from(text)),
      new SyntaxError(`unexpected data after the JSON value at byte ${text.length - 1}`),
    );
    const unclosed = `{"a":[${ITEMS}],"b`;
    await assert.rejects(
      parseJsonSliced(Buffer.from(unclosed)),
      new SyntaxError(`unterminated property name at byte ${unclosed.length - 2}`),
    );
  });

  it('parses large containers nested 512 deep and refuses the 513th level', async () => {
    const nested = (levels: number): string => '['.repeat(levels) + `"${LONG}"` + ']'.repeat(levels);
    const deep = (await parseJsonSliced(Buffer.from(nested(512)))) as unknown[];
    let inner: unknown = deep;
    for (let i = 0; i < 512; i++) inner = (inner as unknown[])[0];
    assert.equal(inner, LONG);
    await assert.rejects(parseJsonSliced(Buffer.from(nested(513))), /^SyntaxError: the JSON document is nested too deeply at byte 512$/);
    const objects = (levels: number): string => '{"a":'.repeat(levels) + `"${LONG}"` + '}'.repeat(levels);
    assert.ok(await parseJsonSliced(Buffer.from(objects(512))));
    await assert.rejects(parseJsonSliced(Buffer.from(objects(513))), /^SyntaxError: the JSON document is nested too deeply at byte 2560$/);
  });

  it('reads a document from a view into a larger buffer, as a pooled Buffer is', async () => {
    const text = `{"a":[${ITEMS}]}`;
    const pool = Buffer.from(`garbage${text}garbage`);
    assert.deepEqual(await parseJsonSliced(pool.subarray(7, 7 + text.length)), JSON.parse(text));
    const small = Buffer.from('xx{"b":2}yy');
    assert.deepEqual(await parseJsonSliced(small.subarray(2, 9)), { b: 2 });
  });
});
