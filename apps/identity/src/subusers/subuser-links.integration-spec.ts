import { randomUUID } from 'node:crypto';
import { Events, type Actor, type SubuserEmailChangedData, type UpdateSubuserBody } from '#libs/contracts/index.js';
import { freshIdentityServices, SideConnection } from '../database/services-harness-spec.js';

const PASSWORD = 'quiet harbour semaphore';
const client = { ip: '10.8.0.1' };
const { db, services } = freshIdentityServices();

/** An account (its owner acts as the admin) with a subuser that has `email`: pending with an activation link, or active (password set). */
async function subuserWith(status: 'pending' | 'active', email = `desk-${randomUUID().slice(0, 8)}@example.test`) {
  const { accountId, userId } = await db.account();
  const admin: Actor = services.actor('user', userId);
  const { id } = await services.subusers.create({
    actor: admin,
    accountId,
    client,
    body: { login: 'desk', email, roles: ['Developer'], ...(status === 'active' ? { password: PASSWORD } : {}) },
  });
  const edit = (body: UpdateSubuserBody) => services.subusers.update({ actor: admin, accountId, subuserId: id, client, body });
  const sendReset = async () => {
    await services.subusers.sendPasswordReset({ actor: admin, accountId, subuserId: id, client });
    return services.lastLinkToken(Events.PasswordResetRequested, id);
  };
  const remove = () => services.subusers.remove({ actor: admin, accountId, subuserId: id, client });
  return { id, email, edit, sendReset, remove };
}

const activate = (token: string) => services.auth.activate({ body: { token, password: 'brand new clocktower' }, client });
const confirmReset = (token: string) => services.resets.confirm({ body: { token, password: 'brand new clocktower' }, client });

describe("a subuser's outstanding links", () => {
  it('stop working when its e-mail changes: the activation link mailed to the old address', async () => {
    const subuser = await subuserWith('pending');
    const token = await services.lastLinkToken(Events.SubuserInvited, subuser.id);
    await subuser.edit({ email: 'someone-else@example.test' });
    await expect(activate(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('stop working when its e-mail changes: the reset link mailed to the old address, also when the e-mail is taken away', async () => {
    const changed = await subuserWith('active');
    const changedToken = await changed.sendReset();
    await changed.edit({ email: 'someone-else@example.test' });
    await expect(confirmReset(changedToken)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    const removed = await subuserWith('active');
    const removedToken = await removed.sendReset();
    await removed.edit({ email: null });
    await expect(confirmReset(removedToken)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('keep working when the same e-mail is given again, or other fields change', async () => {
    const subuser = await subuserWith('pending');
    const token = await services.lastLinkToken(Events.SubuserInvited, subuser.id);
    await subuser.edit({ email: subuser.email, description: 'Front desk' });
    await expect(activate(token)).resolves.toEqual({ activated: true });
  });

  it('stop working when it is deactivated: activation and reset links', async () => {
    const pending = await subuserWith('pending');
    const activation = await services.lastLinkToken(Events.SubuserInvited, pending.id);
    await pending.edit({ active: false });
    await expect(activate(activation)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    const active = await subuserWith('active');
    const reset = await active.sendReset();
    await active.edit({ active: false });
    await expect(confirmReset(reset)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('cannot activate someone already active, even should a path that set the password have left the link alive', async () => {
    const subuser = await subuserWith('pending');
    const token = await services.lastLinkToken(Events.SubuserInvited, subuser.id);
    // Forged: no path of the service leaves a link alive once the password is set.
    await db.dataSource.query(`UPDATE subusers SET status = 'active', password_hash = 'fake:${PASSWORD}' WHERE id = $1`, [subuser.id]);
    await expect(activate(token)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    const [{ password_hash }] = await db.dataSource.query(`SELECT password_hash FROM subusers WHERE id = $1`, [subuser.id]);
    expect(password_hash).toBe(`fake:${PASSWORD}`);
  });
});

describe("a subuser's e-mail changed by an admin", () => {
  /** The notices written for the subuser, oldest first. */
  async function notices(subuserId: string): Promise<SubuserEmailChangedData[]> {
    const rows = await db.dataSource.query<Array<{ data: SubuserEmailChangedData }>>(
      `SELECT payload->'data' AS data FROM outbox WHERE type = $1 AND payload->'data'->>'subuserId' = $2 ORDER BY created_at, id`,
      [Events.SubuserEmailChanged, subuserId],
    );
    return rows.map((row) => row.data);
  }

  it('tells the address it had: changed to another, then taken away; not when it stays, nor when it had none', async () => {
    const subuser = await subuserWith('active');
    await subuser.edit({ email: 'front-desk@example.test' });
    await subuser.edit({ email: 'front-desk@example.test', description: 'Front desk' });
    await subuser.edit({ email: null });
    await subuser.edit({ email: 'back@example.test' });

    expect((await notices(subuser.id)).map(({ previousEmail, email, login }) => [previousEmail, email, login])).toEqual([
      [subuser.email, 'front-desk@example.test', 'desk'],
      ['front-desk@example.test', null, 'desk'],
    ]);
  });

  it("tells each address it had when two admins change it at once: the second change is told from the first one's address", async () => {
    const subuser = await subuserWith('active');
    const side = new SideConnection(db);
    await side.open();
    try {
      const outcomes = await side.queueBehind(
        'SELECT 1 FROM subusers WHERE id = $1 FOR UPDATE',
        [subuser.id],
        () => subuser.edit({ email: 'first@example.test' }),
        () => subuser.edit({ email: 'second@example.test' }),
      );
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled']);
    } finally {
      await side.close();
    }
    expect((await notices(subuser.id)).map(({ previousEmail, email }) => [previousEmail, email])).toEqual([
      [subuser.email, 'first@example.test'],
      ['first@example.test', 'second@example.test'],
    ]);
  });
});

describe('a subuser editing itself through the admin subject', () => {
  it('may not set its own password or e-mail (403 naming the field): a session alone would move its credentials (P5)', async () => {
    const { id, email } = await subuserWith('active');
    const [{ accountId }] = await db.dataSource.query<Array<{ accountId: string }>>('SELECT account_id AS "accountId" FROM subusers WHERE id = $1', [id]);
    const itself = (body: UpdateSubuserBody) => services.subusers.update({ actor: services.actor('subuser', id), accountId, subuserId: id, client, body });
    const hashBefore = await db.dataSource.query('SELECT password_hash FROM subusers WHERE id = $1', [id]);
    await expect(itself({ password: 'a new passphrase nobody asked for' })).rejects.toMatchObject({ code: 'FORBIDDEN', details: { field: 'password' } });
    await expect(itself({ email: 'thief@elsewhere.test' })).rejects.toMatchObject({ code: 'FORBIDDEN', details: { field: 'email' } });
    expect(await db.dataSource.query('SELECT password_hash FROM subusers WHERE id = $1', [id])).toEqual(hashBefore);
    const [{ email: kept }] = await db.dataSource.query<Array<{ email: string }>>('SELECT email FROM subusers WHERE id = $1', [id]);
    expect(kept).toBe(email);
  });
});

describe('a subuser edit racing its deletion', () => {
  it('answers the edit of its password and its reset mail as done or 404, never a crash nor "changed meanwhile"', async () => {
    const outcomes = new Set<string>();
    const outcome = (work: Promise<unknown>) =>
      work.then(
        () => 'done',
        (error: { code?: string; message?: string; constructor: { name: string } }) => `${error.code ?? error.constructor.name} ${error.message}`,
      );
    await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const subuser = await subuserWith('active');
        // The deletion starts a little later each time, so that it lands before, inside and after the edit's own work.
        const removal = new Promise((resolve) => setTimeout(resolve, i * 2)).then(subuser.remove);
        const [edited, reset] = await Promise.all([outcome(subuser.edit({ password: `${PASSWORD} ${i}` })), outcome(subuser.sendReset()), removal]);
        outcomes.add(edited).add(reset);
      }),
    );
    expect([...outcomes].filter((seen) => seen !== 'done' && !seen.startsWith('NOT_FOUND '))).toEqual([]);
  });
});
