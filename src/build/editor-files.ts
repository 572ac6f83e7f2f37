/**
 * The second step of `npm run build`, after tsc: puts each node's editor files (.html, icons/,
 * locales/) beside its compiled .js, where Node-RED's loader looks for them, writes
 * resources/limits.js, and checks that every node package.json lists has its .html, help and
 * messages, and that every script an .html loads from resources/ is there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EDITOR_SOURCE, LIMITS_FILE, RESOURCES, limitsScript, resourceScripts } from './editor-resources';

const ROOT = path.resolve(__dirname, '..', '..');
const TARGET = path.join(ROOT, 'dist', 'nodes');

fs.mkdirSync(TARGET, { recursive: true });
fs.cpSync(EDITOR_SOURCE, TARGET, { recursive: true });
fs.writeFileSync(path.join(RESOURCES, LIMITS_FILE), limitsScript());
fs.chmodSync(path.join(ROOT, 'dist', 'sandbox', 'cli.js'), 0o755);

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
for (const [type, file] of Object.entries(pkg['node-red'].nodes)) {
  const js = path.join(ROOT, file);
  const html = js.replace(/\.js$/, '.html');
  const locale = path.join(path.dirname(js), 'locales', 'en-US', path.basename(js, '.js'));
  for (const f of [js, html, `${locale}.html`, `${locale}.json`]) {
    if (!fs.existsSync(f)) throw new Error(`build: ${type} is missing ${path.relative(ROOT, f)}`);
  }
  for (const name of resourceScripts(fs.readFileSync(html, 'utf8'), path.basename(html))) {
    if (!fs.existsSync(path.join(RESOURCES, name))) throw new Error(`build: ${type} loads resources/${name}, which is not there`);
  }
}
console.log('build: dist/ and resources/ ready');
