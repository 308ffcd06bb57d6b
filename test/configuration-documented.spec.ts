/**
 * README's configuration table and .env.example name every variable a service reads: a variable
 * added to a service's schema and to neither is one operators never learn of.
 */
import { readFileSync } from 'node:fs';
import { commonEnv, databaseEnv, eventsStreamEnv } from '#libs/platform/config.js';
import { accessEnv } from '../apps/access/src/access.config.js';
import { gatewayEnv } from '../apps/gateway/src/gateway.config.js';
import { identityEnv } from '../apps/identity/src/identity.config.js';
import { notificationsEnv } from '../apps/notifications/src/notifications.config.js';

const SCHEMAS = { commonEnv, databaseEnv, eventsStreamEnv, identityEnv, accessEnv, notificationsEnv, gatewayEnv };
const VARIABLES = [...new Set(Object.values(SCHEMAS).flatMap((schema) => Object.keys(schema)))].sort();
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');

describe('the configuration as documented', () => {
  it('reads some variables (the schemas were found)', () => {
    expect(VARIABLES.length).toBeGreaterThan(50);
  });

  it.each(VARIABLES)('%s is in the configuration table of README.md', (variable) => {
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Tests'));
    expect(table).toContain(`\`${variable}\``);
  });

  it.each(VARIABLES)('%s is set, under a comment, in .env.example', (variable) => {
    // The lines from the last blank one to the variable's: a comment says what it (and those set with it) means.
    const lines = example.split('\n');
    const at = lines.findIndex((line) => line.startsWith(`${variable}=`));
    expect(at).toBeGreaterThan(-1);
    const blankBefore = lines.slice(0, at).findLastIndex((line) => line.trim() === '');
    expect(lines.slice(blankBefore + 1, at).some((line) => line.startsWith('# '))).toBe(true);
  });
});
