/**
 * The second step of `npm run build`, after tsc: puts each node's editor files (.html, icons/,
 * locales/) beside its compiled .js, where Node-RED's loader looks for them, and checks that
 * every node package.json lists has both.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');

fs.cpSync(path.join(ROOT, 'nodes'), path.join(DIST, 'nodes'), { recursive: true });
fs.chmodSync(path.join(DIST, 'sandbox', 'cli.js'), 0o755);

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
for (const [type, file] of Object.entries(pkg['node-red'].nodes)) {
  const js = path.join(ROOT, file);
  for (const f of [js, js.replace(/\.js$/, '.html')]) {
    if (!fs.existsSync(f)) throw new Error(`build: ${type} is missing ${path.relative(ROOT, f)}`);
  }
}
console.log('build: dist/ ready');
