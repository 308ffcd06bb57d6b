import { randomUUID } from 'node:crypto';
import type { Principal } from '#libs/contracts/index.js';
import { BUILTIN_ROLE_PREFIX } from '../checks/decision-store.js';
import { freshAccessServices } from '../state/services-harness-spec.js';

const access = freshAccessServices();

const user = (): Principal => ({ type: 'user', id: randomUUID() });

/** The role ids a principal holds in PostgreSQL. */
async function rolesInDatabase(accountId: string, principal: Principal): Promise<string[]> {
  const rows = await access.database.query<{ role_id: string }>(
    'SELECT role_id FROM access.bindings WHERE account_id = $1 AND principal_id = $2 ORDER BY role_id',
    [accountId, principal.id],
  );
  return rows.map((row) => row.role_id);
}

describe('removing a principal on behalf of an actor, judged in the change that unbinds', () => {
  it('refuses an actor lacking what the principal holds (the owner made them an Admin since the dry run), and leaves their bindings', async () => {
    const { accountId, actor: owner } = await access.account();
    const [support, target] = [user(), user()];
    await access.bind(accountId, support, `${BUILTIN_ROLE_PREFIX}UserManager`);
    await access.bind(accountId, target, `${BUILTIN_ROLE_PREFIX}Support`);
    // The owner makes the target an Admin after the gateway's dry run judged the removal on Support.
    await access.bindings.replace({ actor: owner, accountId, principal: target, bindings: [{ role: 'Admin' }] });
    await expect(access.bindings.removePrincipal({ actor: support, accountId, principal: target })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'This person holds permissions you lack; you cannot change their roles',
    });
    expect(await rolesInDatabase(accountId, target)).toEqual([`${BUILTIN_ROLE_PREFIX}Admin`]);
  });

  it('removes them for an actor holding everything they hold, and for the owner, answering the bindings dropped', async () => {
    const { accountId, actor: owner } = await access.account();
    const [admin, target, other] = [user(), user(), user()];
    await access.bind(accountId, admin, `${BUILTIN_ROLE_PREFIX}Admin`);
    await access.bind(accountId, target, `${BUILTIN_ROLE_PREFIX}Support`, null);
    await access.bind(accountId, other, `${BUILTIN_ROLE_PREFIX}MainAccount`);
    expect(await access.bindings.removePrincipal({ actor: admin, accountId, principal: target })).toEqual({
      removed: 1,
      bindings: [{ roleId: `${BUILTIN_ROLE_PREFIX}Support`, role: 'Support', applicationIds: null }],
    });
    expect(await rolesInDatabase(accountId, target)).toEqual([]);
    expect(await access.bindings.removePrincipal({ actor: owner, accountId, principal: other })).toMatchObject({ removed: 1 });
  });

  it('refuses an actor removing itself, and removes a principal leaving by itself (no actor); the owner is never removed', async () => {
    const { accountId, actor: owner } = await access.account();
    const admin = user();
    await access.bind(accountId, admin, `${BUILTIN_ROLE_PREFIX}Admin`);
    await expect(access.bindings.removePrincipal({ actor: admin, accountId, principal: admin })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await access.bindings.removePrincipal({ accountId, principal: admin })).toMatchObject({ removed: 1 });
    await expect(access.bindings.removePrincipal({ actor: owner, accountId, principal: owner })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(access.bindings.removePrincipal({ accountId, principal: owner })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('giving back what a removal took (onlyIfUnbound)', () => {
  it('answers, with the removal, the bindings as the change found them: a role given since the caller read them, not the one read', async () => {
    const { accountId, actor: owner } = await access.account();
    const target = user();
    await access.bind(accountId, target, `${BUILTIN_ROLE_PREFIX}Developer`);
    // The caller read Developer; the owner makes the target Support before the removal.
    await access.bindings.replace({ actor: owner, accountId, principal: target, bindings: [{ role: 'Support' }] });
    const { bindings } = await access.bindings.removePrincipal({ actor: owner, accountId, principal: target });
    expect(bindings.map((binding) => binding.roleId)).toEqual([`${BUILTIN_ROLE_PREFIX}Support`]);
  });

  it('writes them only while the principal holds none: once someone gave it a role, 409 and that role stays', async () => {
    const { accountId, actor: owner } = await access.account();
    const [admin, target] = [user(), user()];
    await access.bind(accountId, admin, `${BUILTIN_ROLE_PREFIX}Admin`);
    await access.bind(accountId, target, `${BUILTIN_ROLE_PREFIX}Developer`);
    const { bindings } = await access.bindings.removePrincipal({ actor: admin, accountId, principal: target });
    const giveBack = () =>
      access.bindings.replace({
        actor: admin,
        accountId,
        principal: target,
        bindings: bindings.map((binding) => ({ role: binding.roleId, applicationIds: binding.applicationIds })),
        onlyIfUnbound: true,
      });
    await access.bindings.replace({ actor: owner, accountId, principal: target, bindings: [{ role: 'Support' }] });

    await expect(giveBack()).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await rolesInDatabase(accountId, target)).toEqual([`${BUILTIN_ROLE_PREFIX}Support`]);

    await access.bindings.removePrincipal({ actor: owner, accountId, principal: target });
    await expect(giveBack()).resolves.toEqual([{ roleId: `${BUILTIN_ROLE_PREFIX}Developer`, role: 'Developer', applicationIds: null }]);
    expect(await rolesInDatabase(accountId, target)).toEqual([`${BUILTIN_ROLE_PREFIX}Developer`]);
  });
});
