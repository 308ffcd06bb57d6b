import type { Actor } from '#libs/contracts/index.js';
import { freshIdentityServices } from '../database/services-harness-spec.js';

const client = { ip: '10.8.0.2' };
const { db, services } = freshIdentityServices();

describe('the subuser list asked for one login', () => {
  it('answers only the subuser of that login, in any case, or nobody (how the gateway finds one whose creation went unanswered)', async () => {
    const { accountId, userId } = await db.account();
    const admin: Actor = services.actor('user', userId);
    const add = (login: string) =>
      services.subusers.create({ actor: admin, accountId, client, body: { login, password: 'quiet harbour semaphore', roles: ['Developer'] } });
    const { id } = await add('Desk-1');
    await add('desk-10');
    await add('desk');
    const list = (login: string) => services.subusers.list({ actor: admin, accountId, client, query: { limit: 1 }, login });

    expect((await list('DESK-1')).items.map((item) => [item.id, item.login])).toEqual([[id, 'desk-1']]);
    expect((await list('desk-2')).items).toEqual([]);
  });
});
