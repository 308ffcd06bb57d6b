import type { BindingInput, Principal } from '#libs/contracts/index.js';
import { BUILTIN_ROLE_PREFIX } from '../checks/decision-store.js';
import { freshAccessServices } from '../state/services-harness-spec.js';

const access = freshAccessServices();

/** The bindings a principal holds in PostgreSQL, by role id, applications sorted. */
async function bindingsInDatabase(accountId: string, principal: Principal): Promise<Array<[string, string[] | null]>> {
  const rows = await access.database.query<{ role_id: string; application_ids: string[] | null }>(
    'SELECT role_id, application_ids FROM access.bindings WHERE account_id = $1 AND principal_id = $2 ORDER BY role_id',
    [accountId, principal.id],
  );
  return rows.map((row) => [row.role_id, row.application_ids && [...row.application_ids].sort()]);
}

/** An Admin's edit of a subuser (`accountWithSubuser` of the access services): `read` is what the Admin read of it (roles by id). */
async function subuserEdit() {
  const edit = await access.accountWithSubuser();
  const read: BindingInput[] = [
    { role: `${BUILTIN_ROLE_PREFIX}Developer`, applicationIds: [edit.first] },
    { role: `${BUILTIN_ROLE_PREFIX}Support`, applicationIds: [edit.first] },
  ];
  // The Admin's edit: the same roles, limited to both applications now.
  const bothApplications = read.map((binding) => ({ ...binding, applicationIds: [edit.first, edit.second] }));
  return { ...edit, read, bothApplications };
}

describe('replacing bindings only while the principal holds those the caller read (expected)', () => {
  it('refuses (409 bindings-changed) and changes nothing once the owner changed them since the read; sent again with what is held now, writes them', async () => {
    const { accountId, owner, admin, subuser, first, second, read, bothApplications } = await subuserEdit();
    // The owner takes Support away between the Admin's read and the Admin's replacement.
    await access.bindings.replace({ actor: owner, accountId, principal: subuser, bindings: [{ role: 'Developer', applicationIds: [first] }] });

    const edit = { actor: admin, accountId, principal: subuser, bindings: bothApplications, expected: read };
    await expect(access.bindings.replace({ ...edit, dryRun: true })).rejects.toMatchObject({ code: 'CONFLICT', details: { reason: 'bindings-changed' } });
    await expect(access.bindings.replace(edit)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: "This principal's roles or applications were changed since they were read; nothing was changed",
      details: { reason: 'bindings-changed' },
    });
    expect(await bindingsInDatabase(accountId, subuser)).toEqual([[`${BUILTIN_ROLE_PREFIX}Developer`, [first]]]);

    const readAgain = [{ role: `${BUILTIN_ROLE_PREFIX}Developer`, applicationIds: [first] }];
    await expect(
      access.bindings.replace({ ...edit, bindings: [{ role: 'Developer', applicationIds: [first, second] }], expected: readAgain }),
    ).resolves.toEqual([{ roleId: `${BUILTIN_ROLE_PREFIX}Developer`, role: 'Developer', applicationIds: [first, second] }]);
    expect(await bindingsInDatabase(accountId, subuser)).toEqual([[`${BUILTIN_ROLE_PREFIX}Developer`, [first, second].sort()]]);
  });

  it('compares as sets: roles by id or name, bindings and applications in any order match; more, less or other applications do not', async () => {
    const { accountId, admin, subuser, first, second, read } = await subuserEdit();
    const edit = (expected: BindingInput[]) => access.bindings.replace({ actor: admin, accountId, principal: subuser, bindings: read, expected });
    const wrongReads: BindingInput[][] = [
      [...read, { role: 'Admin' }],
      [read[0]],
      [read[0], { ...read[1], applicationIds: [first, second] }],
      [read[0], { ...read[1], applicationIds: null }],
      [],
    ];
    for (const expected of wrongReads) await expect(edit(expected)).rejects.toMatchObject({ details: { reason: 'bindings-changed' } });
    const sameReadOtherwise = [
      { role: 'Support', applicationIds: [first, first] },
      { role: `${BUILTIN_ROLE_PREFIX}Developer`, applicationIds: [first] },
    ];
    for (const expected of [read, sameReadOtherwise]) await expect(edit(expected)).resolves.toHaveLength(2);
    expect(await bindingsInDatabase(accountId, subuser)).toEqual([
      [`${BUILTIN_ROLE_PREFIX}Developer`, [first]],
      [`${BUILTIN_ROLE_PREFIX}Support`, [first]],
    ]);
  });
});
