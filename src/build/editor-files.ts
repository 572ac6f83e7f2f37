/**
 * The second step of `npm run build`, after tsc: puts each node's editor files (.html, icons/,
 * locales/) beside its compiled .js, where Node-RED's loader looks for them, and checks that
 * every node package.json lists has both. Each .html is written as editorHtml() makes it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EDITOR_SOURCE, editorHtml } from './editor-html';

const ROOT = path.resolve(__dirname, '..', '..');
const TARGET = path.join(ROOT, 'dist', 'nodes');

fs.mkdirSync(TARGET, { recursive: true });
for (const entry of fs.readdirSync(EDITOR_SOURCE, { withFileTypes: true })) {
  const from = path.join(EDITOR_SOURCE, entry.name);
  const to = path.join(TARGET, entry.name);
  if (entry.isDirectory()) fs.cpSync(from, to, { recursive: true });
  else if (entry.name.endsWith('.html')) fs.writeFileSync(to, editorHtml(fs.readFileSync(from, 'utf8'), entry.name));
  // Shared scripts (nodes/*.js) exist only inside the .html files that include them.
}
fs.chmodSync(path.join(ROOT, 'dist', 'sandbox', 'cli.js'), 0o755);

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
for (const [type, file] of Object.entries(pkg['node-red'].nodes)) {
  const js = path.join(ROOT, file);
  for (const f of [js, js.replace(/\.js$/, '.html')]) {
    if (!fs.existsSync(f)) throw new Error(`build: ${type} is missing ${path.relative(ROOT, f)}`);
  }
}
console.log('build: dist/ ready');
