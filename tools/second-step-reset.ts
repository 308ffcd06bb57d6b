import { terminal } from './command-line.js';
import { runSecondStepResetCommand } from './second-step-reset/command.js';

/** Turns off a login's two-step sign-in for its owner who lost every factor (docs/identity.md, "Two-step sign-in"). */
process.exitCode = await runSecondStepResetCommand(process.argv.slice(2), process.env, terminal);
