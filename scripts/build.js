#!/usr/bin/env node
// Compiles src/ to CommonJS in dist/ and puts each node's editor files (.html, icons/, locales/)
// beside its compiled .js, where Node-RED's loader looks for them.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', root], { stdio: 'inherit', cwd: root });
fs.cpSync(path.join(root, 'nodes'), path.join(dist, 'nodes'), { recursive: true });
fs.chmodSync(path.join(dist, 'sandbox', 'cli.js'), 0o755);

// Every node file listed in package.json must have its editor .html beside it.
const pkg = require(path.join(root, 'package.json'));
for (const [type, file] of Object.entries(pkg['node-red'].nodes)) {
  const js = path.join(root, file);
  const html = js.replace(/\.js$/, '.html');
  for (const f of [js, html]) {
    if (!fs.existsSync(f)) throw new Error(`build: ${type} is missing ${path.relative(root, f)}`);
  }
}
console.log('build: dist/ ready');
