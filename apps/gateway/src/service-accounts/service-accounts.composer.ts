import {
  Subjects,
  type Actor,
  type BindingsByPrincipal,
  type ClientContext,
  type CreatedServiceAccountKeyView,
  type CreatedServiceAccountView,
  type CreateServiceAccountBody,
  type CreateServiceAccountKeyBody,
  type PageQuery,
  type Principal,
  type ServiceAccountPageView,
  type ServiceAccountRecord,
  type ServiceAccountView,
  type UpdateServiceAccountBody,
} from '#libs/contracts/index.js';
import type { Logger } from 'pino';
import type { RpcSender } from '#libs/platform/index.js';
import { addThenBind } from '../people/adding.js';
import { applicationsOf, Bindings, roleNames } from '../people/bindings.js';
import { edited, toBindings } from '../people/bindings-edit.js';

/**
 * Service accounts: identity's records and keys composed with access's roles and application
 * limits. Whoever changes one, or makes or revokes its keys, must be allowed to manage it (the
 * escalation rules of its bindings): a key is its holder's every permission.
 */
export class ServiceAccountsComposer {
  private readonly bindings: Bindings;

  /** A composer for one request: its calls carry that request's id. */
  constructor(
    private readonly rpc: RpcSender,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {
    // A service account's bindings are `roles[i]`, all limited to the same `applicationIds`.
    this.bindings = new Bindings(rpc, { role: (index) => `roles.${index}`, applicationIds: () => 'applicationIds' });
  }

  async list(actor: Actor, accountId: string, client: ClientContext, query: PageQuery): Promise<ServiceAccountPageView> {
    const page = await this.rpc.send(Subjects.ServiceAccountsList, { actor, accountId, client, query });
    const bindings = await this.bindings.of(
      accountId,
      page.items.map((item) => serviceAccount(item.id)),
    );
    return { items: page.items.map((item) => withBindings(item, bindings)), nextCursor: page.nextCursor };
  }

  async get(actor: Actor, accountId: string, client: ClientContext, serviceAccountId: string): Promise<ServiceAccountView> {
    const record = await this.rpc.send(Subjects.ServiceAccountsGet, { actor, accountId, client, serviceAccountId });
    return withBindings(record, await this.bindings.of(accountId, [serviceAccount(record.id)]));
  }

  /** Creates the service account, then binds its roles ({@link addThenBind}, as for a subuser). */
  async create(actor: Actor, accountId: string, client: ClientContext, body: CreateServiceAccountBody): Promise<CreatedServiceAccountView> {
    const created = await addThenBind(this.bindings, this.logger, actor, client, accountId, toBindings(body.roles, body.applicationIds ?? null), {
      principal: serviceAccount,
      add: (requestKey) => this.rpc.send(Subjects.ServiceAccountsCreate, { actor, accountId, client, body, requestKey }),
      remove: (serviceAccountId) => this.rpc.send(Subjects.ServiceAccountsRemove, { actor, accountId, client, serviceAccountId }),
    });
    return { id: created.id };
  }

  /**
   * Edits the service account, then rebinds new roles or applications, as a subuser's edit does
   * (a body naming one of them keeps the other as held; both: a plain replacement).
   */
  async update(actor: Actor, accountId: string, client: ClientContext, serviceAccountId: string, body: UpdateServiceAccountBody): Promise<ServiceAccountView> {
    const principal = await this.manageable(actor, accountId, client, serviceAccountId);
    const current = await this.bindings.assertManageable(actor, accountId, principal);
    const rebind = body.roles !== undefined || body.applicationIds !== undefined;
    if (rebind) await this.bindings.check(actor, accountId, principal, edited(body, current, 'service account'));
    // Identity changes the rest of the body (its roles and applications are access's).
    const updated = await this.rpc.send(Subjects.ServiceAccountsUpdate, { actor, accountId, client, serviceAccountId, body });
    if (!rebind) return withBindings(updated, await this.bindings.of(accountId, [principal]));
    if (body.roles !== undefined && body.applicationIds !== undefined) {
      await this.bindings.replace(actor, client, accountId, principal, toBindings(body.roles, body.applicationIds));
    } else {
      await this.bindings.edit(actor, client, accountId, principal, current, (held) => edited(body, held, 'service account'));
    }
    // Deleted meanwhile (unbound before these roles were written): unbound again, 404.
    const record = await this.bindings.stillInAccount(
      accountId,
      principal,
      () => this.rpc.send(Subjects.ServiceAccountsGet, { actor, accountId, client, serviceAccountId }),
      actor,
    );
    return withBindings(record, await this.bindings.of(accountId, [principal]));
  }

  /** Unbinds, then deletes (its keys and tokens with it), then unbinds again, as a subuser's deletion does. */
  async remove(actor: Actor, accountId: string, client: ClientContext, serviceAccountId: string): Promise<void> {
    const principal = await this.manageable(actor, accountId, client, serviceAccountId);
    await this.bindings.assertManageable(actor, accountId, principal);
    await this.bindings.removePrincipal(accountId, principal, actor);
    await this.rpc.send(Subjects.ServiceAccountsRemove, { actor, accountId, client, serviceAccountId });
    await this.bindings.unbindLeaver(accountId, principal, this.logger, { by: actor });
  }

  /** A new key, once the actor may manage the service account: a key is everything it holds. Its secret is in this answer only. */
  async createKey(
    actor: Actor,
    accountId: string,
    client: ClientContext,
    serviceAccountId: string,
    body: CreateServiceAccountKeyBody,
  ): Promise<CreatedServiceAccountKeyView> {
    await this.bindings.assertManageable(actor, accountId, await this.manageable(actor, accountId, client, serviceAccountId));
    return this.rpc.send(Subjects.ServiceAccountKeysCreate, { actor, accountId, client, serviceAccountId, body });
  }

  /** Revokes a key (its tokens are refused at once), once the actor may manage the service account. */
  async revokeKey(actor: Actor, accountId: string, client: ClientContext, serviceAccountId: string, keyId: string): Promise<void> {
    await this.bindings.assertManageable(actor, accountId, await this.manageable(actor, accountId, client, serviceAccountId));
    await this.rpc.send(Subjects.ServiceAccountKeysRevoke, { actor, accountId, client, serviceAccountId, keyId });
  }

  /** The service account's principal, once identity has found it in the account (404 otherwise). */
  private async manageable(actor: Actor, accountId: string, client: ClientContext, serviceAccountId: string): Promise<Principal> {
    await this.rpc.send(Subjects.ServiceAccountsGet, { actor, accountId, client, serviceAccountId });
    return serviceAccount(serviceAccountId);
  }
}

function serviceAccount(id: string): Principal {
  return { type: 'service-account', id };
}

function withBindings(record: ServiceAccountRecord, bindings: BindingsByPrincipal): ServiceAccountView {
  return { ...record, roles: roleNames(bindings[record.id]), applicationIds: applicationsOf(bindings[record.id]) };
}
