/** Jest in ESM mode (run with node --experimental-vm-modules), TypeScript through @swc/jest. */
const swc = [
  '@swc/jest',
  {
    swcrc: false,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2023',
      keepClassNames: true,
    },
    module: { type: 'es6' },
  },
];

const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^#libs/(.*)\\.js$': '<rootDir>/libs/$1.ts', '^(\\.{1,2}/.*)\\.js$': '$1' },
  rootDir: '.',
};

export default {
  // Every test and hook, those that start a whole system among them (with a second gateway, say, and sign-ups after):
  // well past TestSystem's own 60 s start-up deadline, so that a process too slow to answer fails with the
  // processes' logs (TestSystem.waitUntil) rather than with jest's bare timeout of the hook.
  testTimeout: 180_000,
  // One worker per core, not jest's default of one less: the whole-system tests mostly wait on their
  // services' processes, and on 2 cores two workers take the run from about 13 to about 7 minutes (sum of the files' times / 2).
  // Three are slower again (measured on an idle 2-core machine, the whole of .ci/run: 11m34s against 10m50s): the run is CPU-bound by then.
  maxWorkers: '100%',
  // Longest first, also on a fresh clone that has no durations from a previous run (see the file).
  testSequencer: '<rootDir>/scripts/test-sequencer.mjs',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools,scripts}/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/{apps,libs,scripts}/**/*.integration-spec.ts'] },
    { ...common, displayName: 'system', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/test/**/*.spec.ts'] },
  ],
};
