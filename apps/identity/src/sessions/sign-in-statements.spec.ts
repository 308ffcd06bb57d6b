import type { DataSource } from 'typeorm';
import { ManualClock } from '#libs/platform/index.js';
import { AuditService } from '../audit/audit.service.js';
import { subuserSignInKeys, userSignInKeys } from '../credentials/throttle-keys.js';
import { ThrottleService } from '../credentials/throttle.service.js';

// A sign-in's statements run as prepared statements, one per distinct text (preparedQuery): a value
// written into a text would prepare a new statement on every connection for every sign-in.
describe('the parts of a sign-in statement', () => {
  const clock = new ManualClock();
  const noDatabase = {} as DataSource;
  const throttle = new ThrottleService(noDatabase, clock);
  const audit = new AuditService(noDatabase, clock);

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
