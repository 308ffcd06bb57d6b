// Jest's test order: longest first, so that no worker is left with a long file at the end of the run.
// Jest knows a file's duration from its previous run (its cache); for a file it has never run (a
// fresh clone, as in CI) it falls back to the file's size, which puts a whole-system test file behind
// unit files of the same size that run in a fraction of its time. Here that size is weighed by how
// long a byte of each tier takes (medians of a full run on 2 cores: whole-system 1.07 ms, integration
// 0.61 ms, unit 0.35 ms), so that the estimate is a duration and sorts with the cached ones.
import sequencer from '@jest/test-sequencer';

const DefaultSequencer = sequencer.default ?? sequencer;

/** Milliseconds a byte of a test file of each jest project takes, roughly. */
const MS_PER_BYTE = { system: 1.07, integration: 0.61, unit: 0.35 };

export default class LongestFirstSequencer extends DefaultSequencer {
  time(test) {
    return super.time(test) ?? estimatedMs(test);
  }
}

function estimatedMs({ path, context }) {
  const perByte = MS_PER_BYTE[context.config.displayName?.name] ?? MS_PER_BYTE.unit;
  return (context.hasteFS.getSize(path) ?? 0) * perByte;
}
