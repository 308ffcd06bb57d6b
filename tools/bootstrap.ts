import { terminal } from './command-line.js';
import { runBootstrapCommand } from './bootstrap/command.js';

/** Creates an account and its owner from the command line, as open sign-up does (docs/deploy.md, "The first account"). */
process.exitCode = await runBootstrapCommand(process.argv.slice(2), process.env, terminal);
