import request from 'supertest';
import type { CaughtMail } from '#libs/testing/mail-catcher.js';
import { TEST_WEB_URL, type TestSystem } from '#libs/testing/system.js';

/** A password every policy rule accepts. */
export const PASSWORD = 'correct horse battery staple';
/** Another acceptable password. */
export const NEW_PASSWORD = 'violet tractor drifts over quiet hills';

/** A signed-in principal: its id, account and tokens. */
export interface SignedIn {
  accountId: string;
  userId: string;
  email: string;
  accessToken: string;
  refreshToken: string;
}

/** The token of the first link in `mail` under `path` (e.g. `/activate`, `/reset-password`). */
export function linkToken(mail: CaughtMail, path: string): string {
  const link = mail.links.find((candidate) => candidate.startsWith(`${TEST_WEB_URL}${path}?`));
  if (!link) throw new Error(`No ${path} link in: ${mail.subject}\n${mail.text}`);
  return new URL(link).searchParams.get('token')!;
}

/** Whether a mail carries a link to `path` under the test web URL. */
function linksTo(path: string): (mail: CaughtMail) => boolean {
  return (mail) => mail.links.some((link) => link.startsWith(`${TEST_WEB_URL}${path}?`));
}

/** The authorization header of an access token. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** Test steps that go through HTTP and read real mail only. */
export class People {
  constructor(private readonly system: TestSystem) {}

  get http() {
    return request(this.system.url);
  }

  /** Signs up an account; its owner activates from the mail and signs in. */
  async signUp(slug: string, email = `owner@${slug}.test`): Promise<SignedIn> {
    const created = await this.http
      .post('/v1/accounts')
      .send({ name: `Account ${slug}`, slug, owner: { firstName: 'Olive', lastName: slug, email, phone: '+447700900100' } })
      .expect(201);
    await this.activateFromMail(email);
    const session = await this.login(email);
    const account = created.body as { id: string; ownerId: string };
    return { ...session, accountId: account.id, userId: account.ownerId };
  }

  /** Waits for the activation mail sent to `email` (the `nth`, counting from 1) and sets the password from it. */
  async activateFromMail(email: string, password = PASSWORD, nth = 1): Promise<void> {
    const mail = await this.nthMail(email, linksTo('/activate'), nth);
    await this.http
      .post('/v1/auth/activate')
      .send({ token: linkToken(mail, '/activate'), password })
      .expect(204);
  }

  /** Waits for the `nth` invitation mail sent to `email`, someone who has a login, and accepts it; answers the account joined. */
  async acceptFromMail(email: string, nth = 1): Promise<{ accountId: string; accountName: string }> {
    const mail = await this.nthMail(email, linksTo('/accept-invitation'), nth);
    const response = await this.http
      .post('/v1/auth/invitation/accept')
      .send({ token: linkToken(mail, '/accept-invitation') })
      .expect(200);
    return response.body as { accountId: string; accountName: string };
  }

  /** Adds someone who already has a login into `owner`'s account with `role`, and accepts the invitation mailed to them; returns their id. */
  async join(owner: SignedIn, person: { email: string; role: string }): Promise<string> {
    const before = this.system.mail.to(person.email).filter(linksTo('/accept-invitation')).length;
    const userId = await this.invite(owner, person);
    await this.acceptFromMail(person.email.toLowerCase(), before + 1);
    return userId;
  }

  /** Signs in a user. */
  async login(email: string, password = PASSWORD): Promise<Omit<SignedIn, 'accountId' | 'userId'>> {
    const response = await this.http.post('/v1/auth/login').send({ email, password }).expect(200);
    const pair = response.body as { accessToken: string; refreshToken: string };
    return { email, accessToken: pair.accessToken, refreshToken: pair.refreshToken };
  }

  /** Invites (or adds) a person into `owner`'s account with `role`; returns their id. */
  async invite(owner: SignedIn, person: { firstName?: string; lastName?: string; email: string; phone?: string; role: string }): Promise<string> {
    const response = await this.http
      .post(`/v1/accounts/${owner.accountId}/users`)
      .set(bearer(owner.accessToken))
      .send({ firstName: 'Test', lastName: 'Person', phone: '+447700900200', ...person })
      .expect(201);
    return (response.body as { id: string }).id;
  }

  /** Invites a new person, who activates and signs in. */
  async member(owner: SignedIn, email: string, role: string, names: { firstName?: string; lastName?: string } = {}): Promise<SignedIn> {
    const userId = await this.invite(owner, { email, role, ...names });
    await this.activateFromMail(email);
    return { ...(await this.login(email)), accountId: owner.accountId, userId };
  }

  /** The `nth` mail to `address` matching `predicate`. */
  async nthMail(address: string, predicate: (mail: CaughtMail) => boolean = () => true, nth = 1): Promise<CaughtMail> {
    await this.system.mail.waitFor(() => this.system.mail.to(address).filter(predicate).length >= nth);
    return this.system.mail.to(address).filter(predicate)[nth - 1];
  }
}
