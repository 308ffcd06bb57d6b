import { randomUUID } from 'node:crypto';
import { Events, type Principal } from '#libs/contracts/index.js';
import { BUILTIN_ROLE_PREFIX } from '../checks/decision-store.js';
import { PrincipalsService } from '../principals/principals.service.js';
import { freshAccessServices } from '../state/services-harness-spec.js';

const access = freshAccessServices();
const client = { ip: '203.0.113.20' };

function serviceAccount(): Principal {
  return { type: 'service-account', id: randomUUID() };
}

describe('a service account as a principal of role bindings', () => {
  it('holds roles as people do (stored, checked, limited to applications), and nothing in another account', async () => {
    const { accountId, owner, first, second } = await access.accountWithSubuser();
    const robot = serviceAccount();

    await access.bindings.replace({ actor: owner, accountId, principal: robot, client, bindings: [{ role: 'Developer', applicationIds: [first] }] });

    const [row] = await access.database.query<{ principal_type: string }>('SELECT principal_type FROM access.bindings WHERE principal_id = $1', [robot.id]);
    expect(row.principal_type).toBe('service-account');
    expect(access.store.decide(robot, accountId, 'scenarios', 'read', first)).toEqual({ allowed: true, reason: 'granted' });
    expect(access.store.decide(robot, accountId, 'scenarios', 'read', second)).toMatchObject({ allowed: false });
    expect(access.store.decide(robot, accountId, 'subusers', 'write')).toMatchObject({ allowed: false });
    const { accountId: elsewhere } = await access.account();
    expect(access.store.decide(robot, elsewhere, 'scenarios', 'read')).toEqual({ allowed: false, reason: 'not-member' });
  });

  it('is bound under the rules for subusers: nobody grants it what they lack, and it never changes its own roles', async () => {
    const { accountId, owner } = await access.accountWithSubuser();
    const support: Principal = { type: 'user', id: randomUUID() };
    await access.bind(accountId, support, `${BUILTIN_ROLE_PREFIX}Support`);
    const robot = serviceAccount();
    await access.bindings.replace({ actor: owner, accountId, principal: robot, client, bindings: [{ role: 'Owner' }] });

    await expect(
      access.bindings.replace({ actor: support, accountId, principal: serviceAccount(), client, bindings: [{ role: 'Admin' }] }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'You cannot grant a permission you lack',
    });
    await expect(
      access.bindings.replace({ actor: robot, accountId, principal: robot, client, bindings: [{ role: 'Owner' }, { role: 'Admin' }] }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Nobody may change their own roles',
    });
    await expect(access.bindings.removePrincipal({ actor: support, accountId, principal: robot })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Holding subusers:write (Owner), it binds others within what it holds, as a person would.
    await expect(
      access.bindings.replace({ actor: robot, accountId, principal: serviceAccount(), client, bindings: [{ role: 'Developer' }] }),
    ).resolves.toHaveLength(1);
    await expect(
      access.bindings.replace({ actor: robot, accountId, principal: serviceAccount(), client, bindings: [{ role: 'MainAccount' }] }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });

  it('loses every binding when it leaves the account (its deletion), as a subuser does', async () => {
    const { accountId, owner } = await access.accountWithSubuser();
    const robot = serviceAccount();
    await access.bindings.replace({ actor: owner, accountId, principal: robot, client, bindings: [{ role: 'Developer' }, { role: 'Support' }] });

    await access.bindings.removePrincipal({ actor: owner, accountId, principal: robot });

    expect(access.store.bindingsOf(robot, accountId)).toEqual([]);
    expect(await access.database.query('SELECT 1 FROM access.bindings WHERE principal_id = $1', [robot.id])).toEqual([]);
    expect(access.store.decide(robot, accountId, 'scenarios', 'read')).toEqual({ allowed: false, reason: 'not-member' });
  });

  it('is refused everything in its account once identity tells it was deactivated, and has its roles back reactivated', async () => {
    const { accountId, owner } = await access.accountWithSubuser();
    const robot = serviceAccount();
    await access.bindings.replace({ actor: owner, accountId, principal: robot, client, bindings: [{ role: 'Developer' }] });
    const principals = new PrincipalsService(access.state, access.dataSource, access.link, access.logger);
    const tell = (active: boolean) => {
      const changes = [{ principalType: robot.type, principalId: robot.id, active, changedAt: new Date().toISOString() }];
      return principals.applyActivity({
        id: randomUUID(),
        type: Events.PrincipalActivityChanged,
        occurredAt: changes[0].changedAt,
        accountId,
        data: { accountId, changes },
      });
    };

    await tell(false);
    expect(access.store.decide(robot, accountId, 'scenarios', 'read')).toEqual({ allowed: false, reason: 'inactive' });
    await tell(true);
    expect(access.store.decide(robot, accountId, 'scenarios', 'read')).toEqual({ allowed: true, reason: 'granted' });
  });
});
