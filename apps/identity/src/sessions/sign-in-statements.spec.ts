import type { DataSource } from 'typeorm';
import { ManualClock } from '#libs/platform/index.js';
import { AuditService } from '../audit/audit.service.js';
import type { ActionTokensService } from '../credentials/action-tokens.service.js';
import { subuserSignInKeys, userSignInKeys } from '../credentials/throttle-keys.js';
import { ThrottleService } from '../credentials/throttle.service.js';
import type { Transactions } from '../database/unit-of-work.js';
import type { IdentityConfig } from '../identity.config.js';
import type { GateBroadcaster } from './gate-broadcaster.js';
import { SessionsService } from './sessions.service.js';
import { signInClientOf } from './user-agent.js';
import type { SigningKeysService } from './signing-keys.service.js';

// A sign-in's statements run as prepared statements, one per distinct text (preparedQuery): a value
// written into a text would prepare a new statement on every connection for every sign-in.
describe('the parts of a sign-in statement', () => {
  const clock = new ManualClock();
  const noDatabase = {} as DataSource;
  const throttle = new ThrottleService(noDatabase, clock);
  const audit = new AuditService(noDatabase);

  it('charge and clear the throttling counters with the same text, whoever signs in from wherever', () => {
    const someone = userSignInKeys('ada@example.test', '10.0.0.1');
    const others = [userSignInKeys('grace@example.test', '2001:db8::7'), subuserSignInKeys('acme', 'ops', '10.9.9.9')];
    for (const keys of others) {
      // Same text, and as many parameters: the parts after them are numbered on from there.
      expect(throttle.reserveExpression(keys, 2)).toMatchObject({ sql: throttle.reserveExpression(someone, 2).sql, parameters: { length: 8 } });
      expect(throttle.succeededStatement(keys, 9)).toMatchObject({ sql: throttle.succeededStatement(someone, 9).sql, parameters: { length: 2 } });
    }
  });

  it('record the audit event with the same text, in one account or several', () => {
    const principal = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000001' };
    const one = audit.insertStatement(
      { accountIds: ['00000000-0000-4000-8000-00000000000a'], action: 'login.succeeded', target: principal, ip: '10.0.0.1' },
      4,
    );
    const several = audit.insertStatement(
      {
        accountIds: ['00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-00000000000c'],
        action: 'login.succeeded',
        actor: principal,
        target: principal,
        ip: '2001:db8::7',
        details: { note: 'x' },
      },
      4,
    );
    expect(several.sql).toBe(one.sql);
    expect(several.parameters).toHaveLength(one.parameters.length);
  });
});

describe('the statement that opens a session at sign-in', () => {
  const clock = new ManualClock();
  const sent: Array<{ name?: string; text: string; values: unknown[] }> = [];
  // A pool whose one client records what it is sent and answers that the login changed meanwhile (no session, so nothing to sign).
  const client = {
    on: () => undefined,
    removeListener: () => undefined,
    release: () => undefined,
    query: (config: { name?: string; text: string; values: unknown[] }) => {
      sent.push(config);
      return Promise.resolve({ rows: [{ cleared: '0', opened: false }] });
    },
  };
  const dataSource = { isInitialized: true, driver: { master: { connect: () => Promise.resolve(client) } } } as unknown as DataSource;
  const audit = new AuditService(dataSource);
  const throttle = new ThrottleService(dataSource, clock);
  const config = { REFRESH_TOKEN_TTL_DAYS: 30, SUBUSER_SESSION_TTL_HOURS: 8 } as IdentityConfig;
  const sessions = new SessionsService(
    dataSource,
    {} as Transactions,
    {} as SigningKeysService,
    {} as GateBroadcaster,
    audit,
    {} as ActionTokensService,
    clock,
    config,
  );

  const open = (principal: { type: 'user' | 'subuser'; id: string }, accountId: string | null, hash: string, keys: ReturnType<typeof userSignInKeys>) =>
    sessions.openAtSignIn({
      principal,
      seenPasswordHash: hash,
      accountId,
      client: signInClientOf('10.0.0.1', 'curl/8.5.0'),
      audit: { accountIds: [accountId], action: 'login.succeeded', target: principal },
      alongside: (first, onlyIf) => throttle.succeededStatement(keys, first, onlyIf),
      secondStepPassed: false,
    });

  it('is one prepared statement, the same text for a person and a subuser, checking the password hash the sign-in saw', async () => {
    const person = { type: 'user' as const, id: '00000000-0000-4000-8000-000000000001' };
    const subuser = { type: 'subuser' as const, id: '00000000-0000-4000-8000-000000000002' };
    await expect(open(person, null, 'hash-seen-by-ada', userSignInKeys('ada@example.test', '10.0.0.1'))).resolves.toBeNull();
    await expect(open(subuser, '00000000-0000-4000-8000-00000000000a', 'hash-seen-by-ops', subuserSignInKeys('acme', 'ops', '10.0.0.1'))).resolves.toBeNull();
    expect(sent).toHaveLength(2);
    expect(sent[1].text).toBe(sent[0].text);
    expect(sent[1].name).toBe(sent[0].name);
    expect(sent[0].name).toEqual(expect.any(String));
    expect(sent[1].values).toHaveLength(sent[0].values.length);
    expect(sent.map((statement) => statement.values[3])).toEqual(['hash-seen-by-ada', 'hash-seen-by-ops']);
    expect(sent[0].text).toMatch(/password_hash = \$4/);
    // A second step turned on meanwhile (on the principal's row) stops a password-only sign-in.
    expect(sent[0].text).toMatch(/NOT second_step OR \$5/);
    expect(sent.map((statement) => statement.values[4])).toEqual([false, false]);
  });
});
