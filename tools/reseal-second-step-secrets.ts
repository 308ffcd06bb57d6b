import { terminal } from './command-line.js';
import { runResealCommand } from './reseal-second-step-secrets/command.js';

/** Seals every stored authenticator secret under the current key (docs/deploy.md, "Rotating the key of authenticator secrets"). */
process.exitCode = await runResealCommand(process.argv.slice(2), process.env, terminal);
