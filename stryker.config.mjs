import process from 'node:process';

// StrykerJS over src/api, src/jobs and src/nodes/common with the configured test suite, or one
// folder with its own tests (MUTATION_FOLDER=api|jobs|common, see the npm scripts): a folder's own
// tests give a lower bound of its score in hours instead of a day.
const FOLDERS = {
  api: { mutate: ['src/api/**/*.ts'], spec: ['test/api/**/*.test.ts'] },
  jobs: { mutate: ['src/jobs/**/*.ts'], spec: ['test/jobs/**/*.test.ts'] },
  common: { mutate: ['src/nodes/common/**/*.ts'], spec: ['test/nodes/**/*.test.ts'] },
};

const base = {
  mutate: ['src/api/**/*.ts', 'src/jobs/**/*.ts', 'src/nodes/common/**/*.ts'],
  testRunner: 'mocha',
  testRunnerNodeArgs: ['--import', 'tsx'],
  mochaOptions: {
    config: '.mocharc.json',
    ignore: [
      'test/packaging.test.ts',
      'test/start.test.ts',
      'test/sandbox/*.test.ts',
      'test/fuzz.test.ts',
      'test/reliability.test.ts',
      'test/long-waits.test.ts',
      'test/nodes/backlog.test.ts',
    ],
  },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  coverageAnalysis: 'perTest',
  concurrency: 1,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  ignorePatterns: ['dist', '.demo', 'bench/results.json', '*.tgz', '.tmp', 'test/browser', 'test/bench', 'test/compat'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: {
    fileName: 'reports/mutation/index.html',
  },
  jsonReporter: {
    fileName: 'reports/mutation/mutation.json',
  },
  thresholds: {
    high: 85,
    low: 70,
    break: null,
  },
  ignoreStatic: true,
  timeoutMS: 3000,
};

const folder = process.env.MUTATION_FOLDER;
if (folder !== undefined && !(folder in FOLDERS)) {
  throw new Error(`MUTATION_FOLDER must be one of ${Object.keys(FOLDERS).join(', ')}, got ${folder}`);
}
const only = folder ? FOLDERS[folder] : undefined;
// MUTATION_SPEC=<test files, comma-separated> narrows a one-folder run further, to the tests of the
// files mutated: code every flow test runs (the input wrapper) would otherwise run them all per mutant.
if (process.env.MUTATION_SPEC && !only) throw new Error('MUTATION_SPEC needs MUTATION_FOLDER (use npm run test:mutation:<folder>)');
const spec = process.env.MUTATION_SPEC
  ? process.env.MUTATION_SPEC.split(',')
      .map((file) => file.trim())
      .filter(Boolean)
  : only?.spec;

export default only
  ? {
      ...base,
      mutate: only.mutate,
      mochaOptions: { ...base.mochaOptions, spec },
      incrementalFile: `reports/stryker-${folder}-incremental.json`,
      htmlReporter: { fileName: `reports/mutation/${folder}/index.html` },
      jsonReporter: { fileName: `reports/mutation/${folder}/mutation.json` },
    }
  : base;
