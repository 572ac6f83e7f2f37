/**
 * The second step of `npm run build`, after tsc: puts each node's editor files (.html, icons/,
 * locales/) beside its compiled .js, where Node-RED's loader looks for them, and checks that
 * every node package.json lists has both. Node-RED loads each .html on its own, so script code
 * the editor files share lives in nodes/*.js and is written into each .html here, in place of
 * its `// @include <file>` line.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const SOURCE = path.join(ROOT, 'nodes');
const TARGET = path.join(ROOT, 'dist', 'nodes');
const INCLUDE = /^([ \t]*)\/\/ @include ([\w.-]+\.js)[ \t]*$/gm;

/** The .html with each include line replaced by the named file, indented like the line. */
function withIncludes(html: string, file: string): string {
  return html.replace(INCLUDE, (_line, indent: string, name: string) => {
    const shared = path.join(SOURCE, name);
    if (!fs.existsSync(shared)) throw new Error(`build: ${file} includes ${name}, which is not in nodes/`);
    return fs
      .readFileSync(shared, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => (line ? indent + line : line))
      .join('\n');
  });
}

fs.mkdirSync(TARGET, { recursive: true });
for (const entry of fs.readdirSync(SOURCE, { withFileTypes: true })) {
  const from = path.join(SOURCE, entry.name);
  const to = path.join(TARGET, entry.name);
  if (entry.isDirectory()) fs.cpSync(from, to, { recursive: true });
  else if (entry.name.endsWith('.html')) fs.writeFileSync(to, withIncludes(fs.readFileSync(from, 'utf8'), entry.name));
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
