/**
 * The editor side of the package, as Node-RED loads it: each node's .html (nodes/), its help and
 * messages (nodes/locales/<lang>/), and the scripts they share in the top-level resources/
 * folder, which Node-RED serves at resources/<package>/… . limits.js there is written by the
 * build from the runtime's table of numeric settings, so the dialogs validate against the same
 * ranges.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NUMERIC_SETTINGS } from '../nodes/common/limits';

const ROOT = path.resolve(__dirname, '..', '..');

/** The editor files' folder in the source tree. */
export const EDITOR_SOURCE = path.join(ROOT, 'nodes');
/** The folder Node-RED serves to the editor. */
export const RESOURCES = path.join(ROOT, 'resources');
/** The file the build writes into resources/. */
export const LIMITS_FILE = 'limits.js';

const PACKAGE_NAME = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string }).name;
const RESOURCE_SCRIPT = /<script\s+src="resources\/([^"]+)"\s*><\/script>/g;

/** resources/limits.js: the table of numeric settings, added to the editor's namespace. */
export function limitsScript(): string {
  return [
    '// Written by the build from src/nodes/common/limits.ts; do not edit.',
    '(function() {',
    '    "use strict";',
    '    var ns = window.PlaymentEditor = window.PlaymentEditor || {};',
    `    ns.NUMERIC_SETTINGS = ${JSON.stringify(NUMERIC_SETTINGS)};`,
    '})();',
    '',
  ].join('\n');
}

/** The files of resources/ that an editor .html loads, in order; throws on another package's path. */
export function resourceScripts(html: string, file: string): string[] {
  return [...html.matchAll(RESOURCE_SCRIPT)].map(([, src]) => {
    const prefix = `${PACKAGE_NAME}/`;
    if (!src.startsWith(prefix)) throw new Error(`build: ${file} loads resources/${src}, not from ${prefix}`);
    return src.slice(prefix.length);
  });
}

/** The text of a file of resources/ as the package ships it. */
export function resourceText(name: string): string {
  return name === LIMITS_FILE ? limitsScript() : fs.readFileSync(path.join(RESOURCES, name), 'utf8');
}
