import { TestNatsRequester } from '#libs/testing/nats-rpc.js';
import { TestSystem } from '#libs/testing/system.js';
import { bearer, PASSWORD, People, type SignedIn } from './helpers/people.js';

/**
 * Names and descriptions are bounded in Unicode code points, as the OpenAPI description's
 * `maxLength` counts, through the whole system: the longest in emoji (twice as many UTF-16 code
 * units) is stored and read back whole; as many emoji each with a variation selector (counted as
 * one character by class-validator, three code units each) is a 400 naming the field, at the
 * gateway and in the service itself, and changes nothing. A control character, a direction override
 * or a line separator in a name, or a control character but tab and line breaks in a description,
 * is a 400 naming the field too.
 */
const system = new TestSystem();
const people = new People(system);
let owner: SignedIn;
let nats: TestNatsRequester;

beforeAll(async () => {
  await system.start();
  nats = await TestNatsRequester.open(system.nats.url);
  owner = await people.signUp('limits');
});
afterAll(async () => {
  await nats?.close();
  await system.stop();
});

/** `count` distinct emoji (so that names stay unique), one code point each. */
const emoji = (count: number, first = 0x1f600) => Array.from({ length: count }, (_, index) => String.fromCodePoint(first + (index % 80))).join('');
/** `count` emoji, each with a variation selector: `count` characters to class-validator, twice as many code points. */
const selected = (count: number) => [...emoji(count)].map((character) => `${character}\uFE0F`).join('');

const account = () => `/v1/accounts/${owner.accountId}`;
const send = (method: 'post' | 'patch', path: string, body: object) => people.http[method](path).set(bearer(owner.accessToken)).send(body);
const read = async (path: string) => (await people.http.get(path).set(bearer(owner.accessToken)).expect(200)).body as Record<string, unknown>;

describe('an account name (1 to 100 characters)', () => {
  it('is stored whole at 100 emoji, and refused at 100 emoji with variation selectors (400 naming name)', async () => {
    const name = emoji(100);
    await send('patch', account(), { name }).expect(200);
    expect(await read(account())).toMatchObject({ name });

    const refused = await send('patch', account(), { name: selected(100) }).expect(400);
    expect(refused.body.message).toBe('name must be 1 to 100 characters');
    const sessionId = (JSON.parse(Buffer.from(owner.accessToken.split('.')[1], 'base64url').toString()) as { sid: string }).sid;
    const reply = await nats.send('identity.accounts.update', {
      actor: { type: 'user', id: owner.userId, sessionId },
      accountId: owner.accountId,
      client: { ip: '192.0.2.1' },
      body: { name: selected(100) },
    });
    expect(reply.err).toMatchObject({ code: 'VALIDATION_FAILED', message: 'body.name must be 1 to 100 characters' });
    expect(await read(account())).toMatchObject({ name });
  });
});

describe('an application name (1 to 100 characters)', () => {
  it('is stored whole at 100 emoji when created and renamed, and refused at 100 emoji with variation selectors (400 naming name)', async () => {
    const created = await send('post', `${account()}/applications`, { name: emoji(100) }).expect(201);
    const path = `${account()}/applications/${created.body.id}`;
    const renamed = emoji(100, 0x1f680);
    await send('patch', path, { name: renamed }).expect(200);
    expect((await read(`${account()}/applications`)).items).toContainEqual(expect.objectContaining({ id: created.body.id, name: renamed }));

    expect((await send('post', `${account()}/applications`, { name: selected(100) }).expect(400)).body.message).toBe('name must be 1 to 100 characters');
    expect((await send('patch', path, { name: selected(100) }).expect(400)).body.message).toBe('name must be 1 to 100 characters');
    const reply = await nats.send('access.applications.create', {
      actor: { type: 'user', id: owner.userId },
      accountId: owner.accountId,
      body: { name: selected(100) },
    });
    expect(reply.err).toMatchObject({ code: 'VALIDATION_FAILED', message: 'body.name must be 1 to 100 characters' });
    expect((await read(`${account()}/applications`)).items).toHaveLength(1);
  });
});

describe('a custom role (name 1 to 100 characters, description at most 500)', () => {
  it('is stored whole at 100 and 500 emoji, and refused at as many emoji with variation selectors (400 naming the field)', async () => {
    const [name, description] = [emoji(100, 0x1f400), emoji(500)];
    const created = await send('post', `${account()}/roles`, { name, description, grants: [] }).expect(201);
    expect(created.body).toMatchObject({ name, description });
    const path = `${account()}/roles/${created.body.id}`;

    expect((await send('post', `${account()}/roles`, { name: selected(100), grants: [] }).expect(400)).body.message).toBe('name must be 1 to 100 characters');
    expect((await send('patch', path, { name: selected(100) }).expect(400)).body.message).toBe('name must be 1 to 100 characters');
    expect((await send('patch', path, { description: selected(500) }).expect(400)).body.message).toBe('description must be at most 500 characters');
    const reply = await nats.send('access.roles.update', {
      actor: { type: 'user', id: owner.userId },
      accountId: owner.accountId,
      roleId: created.body.id,
      body: { description: selected(500) },
    });
    expect(reply.err).toMatchObject({ code: 'VALIDATION_FAILED', message: 'body.description must be at most 500 characters' });
    expect(await read(`${account()}/roles`)).toContainEqual(expect.objectContaining({ id: created.body.id, name, description }));
  });
});

describe('a subuser description (at most 500 characters)', () => {
  it('is stored whole at 500 emoji, and refused at 500 emoji with variation selectors (400 naming description)', async () => {
    const description = emoji(500);
    const created = await send('post', `${account()}/subusers`, { login: 'desk', password: PASSWORD, roles: ['Developer'], description }).expect(201);
    const path = `${account()}/subusers/${created.body.id}`;
    expect(await read(path)).toMatchObject({ description });

    const refused = await send('post', `${account()}/subusers`, {
      login: 'desk-2',
      password: PASSWORD,
      roles: ['Developer'],
      description: selected(500),
    }).expect(400);
    expect(refused.body.message).toBe('description must be at most 500 characters');
    expect((await send('patch', path, { description: selected(500) }).expect(400)).body.message).toBe('description must be at most 500 characters');
    expect(await read(path)).toMatchObject({ description });
  });
});

describe('names and descriptions hold no control characters (a description keeps tab and line breaks)', () => {
  const ESCAPE = 'must not hold control characters, direction overrides or line separators';
  /** Asks access straight over NATS, as another internal service would, to create an application of the owner's account. */
  const createApplicationOverNats = (name: string) =>
    nats.send('access.applications.create', { actor: { type: 'user', id: owner.userId }, accountId: owner.accountId, body: { name } });

  it('refuses a name holding an ANSI escape or a NUL with a 400 naming it, at the gateway and over NATS, and stores nothing', async () => {
    const before = (await read(`${account()}/applications`)).items;
    const escaped = await send('post', `${account()}/applications`, { name: '\u001b[31mSupport' }).expect(400);
    expect(escaped.body).toMatchObject({ code: 'VALIDATION_FAILED', message: `name ${ESCAPE}` });
    const nul = await send('post', `${account()}/applications`, { name: 'Support\u0000' }).expect(400);
    expect(nul.body).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^name\b/) });
    const reply = await createApplicationOverNats('Support\u0007');
    expect(reply.err).toMatchObject({ code: 'VALIDATION_FAILED', message: `body.name ${ESCAPE}` });
    expect((await read(`${account()}/applications`)).items).toEqual(before);
  });

  it('refuses a person or account name holding one (C0, DEL or C1), naming the field', async () => {
    const person = { firstName: 'Grace', lastName: 'Hopper', email: 'grace@navy.test', phone: '+12025550143', role: 'Developer' };
    const users = `${account()}/users`;
    expect((await send('post', users, { ...person, firstName: 'Grace\u001b[0m' }).expect(400)).body.message).toBe(`firstName ${ESCAPE}`);
    expect((await send('post', users, { ...person, lastName: 'Hop\u007fper' }).expect(400)).body.message).toBe(`lastName ${ESCAPE}`);
    const { name } = await read(account());
    expect((await send('patch', account(), { name: 'Acme\u0085' }).expect(400)).body.message).toBe(`name ${ESCAPE}`);
    expect((await send('patch', account(), { name: 'Acme\nCorp' }).expect(400)).body.message).toBe(`name ${ESCAPE}`);
    expect(await read(account())).toMatchObject({ name });
  });

  it('refuses a name holding a right-to-left override, an isolate or a line separator with a 400 naming it, at the gateway and over NATS, and stores nothing', async () => {
    const before = (await read(`${account()}/applications`)).items;
    const spoof = await send('post', `${account()}/applications`, { name: 'Ada\u202Emoc.live' }).expect(400);
    expect(spoof.body).toMatchObject({ code: 'VALIDATION_FAILED', message: `name ${ESCAPE}` });
    const reply = await createApplicationOverNats('Support\u2066');
    expect(reply.err).toMatchObject({ code: 'VALIDATION_FAILED', message: `body.name ${ESCAPE}` });
    expect((await read(`${account()}/applications`)).items).toEqual(before);
    const { name } = await read(account());
    expect((await send('patch', account(), { name: 'Acme\u2028Corp' }).expect(400)).body.message).toBe(`name ${ESCAPE}`);
    expect(await read(account())).toMatchObject({ name });
  });

  it('stores a description with tab and line breaks whole, and refuses any other control character, naming description', async () => {
    const description = 'Reads:\r\n\t- the audit trail\n\t- the delivery log';
    const created = await send('post', `${account()}/roles`, { name: 'Reader', description, grants: [] }).expect(201);
    const path = `${account()}/roles/${created.body.id}`;
    const refusal = 'description must not hold control characters other than tab, line feed and carriage return';
    expect((await send('patch', path, { description: 'Reads\u001b[31m everything' }).expect(400)).body.message).toBe(refusal);
    expect((await send('post', `${account()}/roles`, { name: 'Bell', description: 'Rings\u0007', grants: [] }).expect(400)).body.message).toBe(refusal);
    expect(await read(`${account()}/roles`)).toContainEqual(expect.objectContaining({ id: created.body.id, description }));
  });
});
