/** Access's services on a test database and NATS server, wired as the module wires them: for integration tests that go through several services. */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import type { Principal } from '#libs/contracts/index.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { NatsLink } from '#libs/platform/index.js';
import { dataSourceOptions } from '#libs/platform/storage.js';
import { TestDatabase } from '#libs/testing/database.js';
import { TestNatsServer } from '#libs/testing/nats-server.js';
import { accessDatabase } from '../access.database.js';
import { ApplicationsService } from '../applications/applications.service.js';
import { BindingEntity } from '../bindings/binding.entity.js';
import { BindingsService } from '../bindings/bindings.service.js';
import { loadCatalog } from '../catalog/catalog.loader.js';
import { BUILTIN_ROLE_PREFIX, DecisionStore } from '../checks/decision-store.js';
import { AccountOwnerEntity } from '../owners/account-owner.entity.js';
import { OwnersService } from '../owners/owners.service.js';
import { RolesService } from '../roles/roles.service.js';
import { AccessRepository } from './access-repository.js';
import { AccessStateService } from './access-state.service.js';

/** The services of one access replica (voximplant catalogue); its outbox relay never runs, so the events stay in the outbox for the tests to read. */
export class AccessServices {
  readonly logger = pino({ level: 'silent' });
  readonly database = new TestDatabase();
  readonly nats = new TestNatsServer();
  link: NatsLink;
  dataSource: DataSource;
  store: DecisionStore;
  state: AccessStateService;
  roles: RolesService;
  applications: ApplicationsService;
  bindings: BindingsService;
  /** Applies identity's owner events when called (its durable consumer is not started). */
  owners: OwnersService;

  async start(): Promise<void> {
    await Promise.all([this.database.create(), this.nats.start()]);
    this.link = await NatsLink.open({ url: this.nats.url, name: 'access-services-test', logger: this.logger });
    this.dataSource = new DataSource(dataSourceOptions(accessDatabase({ DATABASE_URL: this.database.url, DATABASE_POOL_SIZE: 4 })));
    await this.dataSource.initialize();
    this.store = new DecisionStore(loadCatalog('voximplant'));
    this.state = new AccessStateService(this.store, new AccessRepository(this.dataSource), this.dataSource, this.link, this.logger, {
      ACCESS_RESYNC_INTERVAL_MS: 60_000,
      DATABASE_POOL_SIZE: 4,
    });
    await this.state.onApplicationBootstrap();
    ({ roles: this.roles, applications: this.applications } = this.limitedTo(500, 10_000));
    this.bindings = new BindingsService(this.store, this.state, new OutboxWriter(), new OutboxRelay(this.dataSource, this.link, this.logger));
    this.owners = new OwnersService(
      this.state,
      this.store,
      new OutboxWriter(),
      new OutboxRelay(this.dataSource, this.link, this.logger),
      this.link,
      this.logger,
    );
  }

  async stop(): Promise<void> {
    this.state?.onModuleDestroy();
    await this.dataSource?.destroy();
    await this.link?.close();
    await this.nats.destroy();
    await this.database.drop();
  }

  /** Roles and applications services with room for `customRoles` custom roles and `applications` applications an account. */
  limitedTo(customRoles: number, applications: number): { roles: RolesService; applications: ApplicationsService } {
    const relay = new OutboxRelay(this.dataSource, this.link, this.logger);
    return {
      roles: new RolesService(this.store, this.state, new OutboxWriter(), relay, { ACCESS_MAX_CUSTOM_ROLES: customRoles }),
      applications: new ApplicationsService(this.dataSource, this.store, this.state, new OutboxWriter(), relay, { ACCESS_MAX_APPLICATIONS: applications }),
    };
  }

  /** A new account (or `accountId`) owned by a new user (or `owner`). */
  async account(accountId: string = randomUUID(), owner: Principal = { type: 'user', id: randomUUID() }): Promise<{ accountId: string; actor: Principal }> {
    await this.state.mutate(accountId, (manager) => manager.insert(AccountOwnerEntity, { accountId, userId: owner.id }));
    return { accountId, actor: owner };
  }

  /**
   * A new account with two applications (`first`, `second`), an Admin, and a subuser holding
   * Developer and Support limited to `first`: what an Admin's edit of a subuser starts from.
   */
  async accountWithSubuser(): Promise<{ accountId: string; owner: Principal; admin: Principal; subuser: Principal; first: string; second: string }> {
    const { accountId, actor: owner } = await this.account();
    const client = { ip: '203.0.113.10' };
    const first = (await this.applications.create({ actor: owner, accountId, client, body: { name: 'first' } })).id;
    const second = (await this.applications.create({ actor: owner, accountId, client, body: { name: 'second' } })).id;
    const admin: Principal = { type: 'user', id: randomUUID() };
    const subuser: Principal = { type: 'subuser', id: randomUUID() };
    await this.bind(accountId, admin, `${BUILTIN_ROLE_PREFIX}Admin`);
    await this.bind(accountId, subuser, `${BUILTIN_ROLE_PREFIX}Developer`, [first]);
    await this.bind(accountId, subuser, `${BUILTIN_ROLE_PREFIX}Support`, [first]);
    return { accountId, owner, admin, subuser, first, second };
  }

  /** Gives `principal` a role in the account, in all applications or some. */
  async bind(accountId: string, principal: Principal, roleId: string, applicationIds: string[] | null = null): Promise<void> {
    await this.state.mutate(accountId, (manager) =>
      manager.insert(BindingEntity, { id: randomUUID(), accountId, principalType: principal.type, principalId: principal.id, roleId, applicationIds }),
    );
  }
}

/** Access's services for the tests of the file or `describe` block that calls this: started before them, stopped (database dropped) after. */
export function freshAccessServices(): AccessServices {
  const services = new AccessServices();
  beforeAll(() => services.start(), 30_000);
  afterAll(() => services.stop());
  return services;
}
