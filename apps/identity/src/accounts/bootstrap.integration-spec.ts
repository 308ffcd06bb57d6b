/** The bootstrap command (tools/bootstrap.ts), run as built, as an operator runs it: on a real database, with open sign-up switched off. */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Events, SUSPENSION_CHANGED } from '#libs/contracts/index.js';
import { runBuiltTool, type ToolRun } from '#libs/testing/dist.js';
import { eventually } from '#libs/testing/eventually.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { IdentityTestDatabase } from '../database/integration-harness-spec.js';

const WEB_URL = 'https://panel.example.test/app';
const db = new IdentityTestDatabase();
const nats = new TestNatsServer();

beforeAll(async () => {
  await Promise.all([db.start({ SIGNUP_ENABLED: 'false' }), nats.start()]);
});
afterAll(async () => {
  await db.stop();
  await nats.destroy();
});

/** Runs dist/tools/bootstrap.js with `args`, in identity's environment (sign-up off); never rejects. */
function bootstrap(args: string[], env: Record<string, string> = {}): Promise<ToolRun> {
  return runBuiltTool('tools/bootstrap.js', args, { DATABASE_URL: db.database.url, PUBLIC_WEB_URL: WEB_URL, SIGNUP_ENABLED: 'false', ...env });
}

const slug = () => `b${randomUUID().slice(0, 8)}`;

type Options = Partial<Record<'name' | 'slug' | 'email' | 'first-name' | 'last-name' | 'phone', string>>;

/** The options of a valid account: a new slug and a new owner e-mail unless given. */
function options(overrides: Options = {}): string[] {
  const values = {
    name: 'Acme Voice',
    slug: slug(),
    email: `${slug()}@example.test`,
    'first-name': 'Ada',
    'last-name': 'Lovelace',
    phone: '+447700900123',
    ...overrides,
  };
  return Object.entries(values).flatMap(([name, value]) => [`--${name}`, value]);
}

/** The value printed after `label:` on a line of its own. */
function printed(stdout: string, label: string): string {
  const line = stdout.split('\n').find((text) => text.trim().startsWith(`${label}:`));
  if (!line) throw new Error(`No "${label}:" in:\n${stdout}`);
  return line.slice(line.indexOf(':') + 1).trim();
}

async function outbox(accountId: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  return db.dataSource.query(`SELECT type, payload->'data' AS data FROM outbox WHERE account_id = $1 ORDER BY created_at, type`, [accountId]);
}

async function accountsWithSlug(value: string): Promise<number> {
  const [{ count }] = await db.dataSource.query<Array<{ count: number }>>(`SELECT count(*)::int AS count FROM accounts WHERE slug = $1`, [value]);
  return count;
}

/** A person who has a login (active, with a password), inactive in an account of their own; their id and that account's. */
async function personWithLogin(email: string): Promise<{ userId: string; inactiveIn: string }> {
  const { accountId, userId } = await db.account();
  await db.dataSource.query(`UPDATE users SET email = $2, password_hash = 'kept' WHERE id = $1`, [userId, email]);
  await db.dataSource.query(`UPDATE memberships SET active = false WHERE user_id = $1`, [userId]);
  return { userId, inactiveIn: accountId };
}

describe('the bootstrap command', () => {
  it('creates the account, its pending owner and their membership, the events and the audit row, with open sign-up off', async () => {
    const name = slug();
    const email = `${name}@example.test`;
    const run = await bootstrap(options({ name: 'First Account', slug: name, email }));
    expect(run).toMatchObject({ status: 0, stderr: '' });
    const accountId = printed(run.stdout, 'account id');
    const ownerId = printed(run.stdout, 'owner user id');
    expect(printed(run.stdout, 'slug')).toBe(name);

    const accounts = await db.dataSource.query(`SELECT name, slug, owner_user_id FROM accounts WHERE id = $1`, [accountId]);
    expect(accounts).toEqual([{ name: 'First Account', slug: name, owner_user_id: ownerId }]);
    const owner = await db.dataSource.query(`SELECT email, status, password_hash FROM users WHERE id = $1`, [ownerId]);
    expect(owner).toEqual([{ email, status: 'pending', password_hash: null }]);
    const memberships = await db.dataSource.query(`SELECT user_id, active FROM memberships WHERE account_id = $1`, [accountId]);
    expect(memberships).toEqual([{ user_id: ownerId, active: true }]);

    const events = await outbox(accountId);
    expect(events.map((event) => event.type).sort()).toEqual([Events.AccountCreated, Events.UserInvited].sort());
    expect(events.find((event) => event.type === Events.AccountCreated)?.data).toEqual({ accountId, slug: name, ownerUserId: ownerId });
    const invited = events.find((event) => event.type === Events.UserInvited)!.data;
    expect(invited).toMatchObject({ accountId, accountName: 'First Account', userId: ownerId, email, firstName: 'Ada', locale: 'en' });

    const audited = await db.dataSource.query(`SELECT action, outcome, target_id, details FROM audit_events WHERE account_id = $1`, [accountId]);
    expect(audited).toEqual([{ action: 'account.created', outcome: 'success', target_id: ownerId, details: { slug: name } }]);

    // The link of the activation mail: the token of the event, under PUBLIC_WEB_URL's path.
    expect(run.stdout).toContain(`\n  ${WEB_URL}/activate?token=${encodeURIComponent(String(invited.token))}\n`);
    expect(run.stdout).toMatch(/activation mail was queued/);
  });

  it.each<[string, Options, string, string]>([
    ['a malformed phone', { phone: '0044 7700 900123' }, 'owner.phone', '--phone'],
    ['a malformed e-mail', { email: 'ada@' }, 'owner.email', '--email'],
    ['an e-mail whose lower case is ambiguous', { email: 'İnci@example.test' }, 'owner.email', '--email'],
    ['an empty first name', { 'first-name': '' }, 'owner.firstName', '--first-name'],
    ['a slug with capitals', { slug: 'Acme' }, 'slug', '--slug'],
  ])('refuses %s with status 2, naming the field, no stack trace, and creates nothing', async (_, overrides, field, option) => {
    const name = overrides.slug ?? slug();
    const run = await bootstrap(options({ slug: name, ...overrides }));
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^  - ${field.replace('.', '\\.')}\\b.*\\(${option}\\)$`, 'm'));
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe('');
    expect(await accountsWithSlug(name)).toBe(0);
  });

  it('refuses a missing or unknown option with status 2, naming it', async () => {
    const valid = options();
    const email = valid.indexOf('--email');
    const missing = await bootstrap([...valid.slice(0, email), ...valid.slice(email + 2)]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^  - --email is required \(owner\.email/m);
    const unknown = await bootstrap([...options(), '--role', 'Admin']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--role'");
    expect(`${missing.stderr}${unknown.stderr}`).not.toMatch(/^\s+at /m);
  });

  it('run again with the same slug creates nothing more and exits 3, as sign-up answers 409', async () => {
    const args = options();
    expect((await bootstrap(args)).status).toBe(0);
    const again = await bootstrap(args);
    expect(again.status).toBe(3);
    expect(again.stderr).toMatch(/slug: This slug is already taken/);
    const name = args[args.indexOf('--slug') + 1];
    const email = args[args.indexOf('--email') + 1];
    expect(await accountsWithSlug(name)).toBe(1);
    const [{ people }] = await db.dataSource.query<Array<{ people: number }>>(`SELECT count(*)::int AS people FROM users WHERE email = $1`, [email]);
    expect(people).toBe(1);
  });

  it('makes someone who already has a login the owner as sign-up does: no activation link, "added to account", the gateways told again', async () => {
    const email = `${slug()}@example.test`;
    const { userId, inactiveIn } = await personWithLogin(email);
    const gateway: NatsConnection = await connect({ servers: nats.url });
    const heard: unknown[] = [];
    const subscription = gateway.subscribe(SUSPENSION_CHANGED, {
      callback: (_, message) => {
        heard.push(message.json());
      },
    });
    try {
      await gateway.flush();
      const run = await bootstrap(options({ email: email.toUpperCase(), 'first-name': 'Someone', 'last-name': 'Else' }), { NATS_URL: nats.url });
      expect(run).toMatchObject({ status: 0, stderr: '' });
      const accountId = printed(run.stdout, 'account id');
      expect(printed(run.stdout, 'owner user id')).toBe(userId);
      expect(run.stdout).toMatch(/already has a login/);
      expect(run.stdout).not.toMatch(/token=/);
      expect((await outbox(accountId)).map((event) => event.type).sort()).toEqual([Events.AccountCreated, Events.UserAddedToAccount].sort());
      const [person] = await db.dataSource.query(`SELECT first_name, password_hash, status FROM users WHERE id = $1`, [userId]);
      expect(person).toEqual({ first_name: 'Ada', password_hash: 'kept', status: 'active' });
      await eventually('the suspension broadcast', () => heard.length > 0);
      expect(heard).toEqual([{ accountId: inactiveIn, principalType: 'user', principalId: userId, suspended: true, changedAt: expect.any(String) }]);
    } finally {
      subscription.unsubscribe();
      await gateway.close();
    }
  });
});
