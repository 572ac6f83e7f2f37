/**
 * A node's .html as the build ships it. Node-RED loads each .html on its own, so script code the
 * editor files share lives in nodes/*.js and is written into each .html in place of its
 * `// @include <file>` line; the table of numeric settings the runtime checks against is written
 * in place of a `// @numeric-settings` line, so the dialogs validate against the same ranges.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NUMERIC_SETTINGS } from '../nodes/common/limits';

/** The editor files' folder in the source tree. */
export const EDITOR_SOURCE = path.resolve(__dirname, '..', '..', 'nodes');

const INCLUDE = /^([ \t]*)\/\/ @include ([\w.-]+\.js)[ \t]*$/gm;
const SETTINGS_TABLE = /^([ \t]*)\/\/ @numeric-settings[ \t]*$/gm;

function indented(text: string, indent: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => (line ? indent + line : line))
    .join('\n');
}

/** `html` (the contents of nodes/<file>) with its include and settings-table lines filled in. */
export function editorHtml(html: string, file: string): string {
  return html
    .replace(INCLUDE, (_line, indent: string, name: string) => {
      const shared = path.join(EDITOR_SOURCE, name);
      if (!fs.existsSync(shared)) throw new Error(`build: ${file} includes ${name}, which is not in nodes/`);
      return indented(fs.readFileSync(shared, 'utf8'), indent);
    })
    .replace(SETTINGS_TABLE, (_line, indent: string) => `${indent}var NUMERIC_SETTINGS = ${JSON.stringify(NUMERIC_SETTINGS)};`);
}
