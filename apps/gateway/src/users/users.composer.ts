import {
  Subjects,
  type AcceptedView,
  type Actor,
  type ClientContext,
  type CreatedView,
  type CreateUserBody,
  type ListUsersQuery,
  type Principal,
  type UpdateUserBody,
  type UserPageView,
  type UserRecord,
  type UserView,
} from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { Logger } from 'pino';
import type { RpcSender } from '#libs/platform/index.js';
import { addThenBind, outcomeUnknown } from '../people/adding.js';
import { Bindings, PERSON_BINDING_FIELDS, roleNames, type LostBindings, isNotFound } from '../people/bindings.js';

/**
 * The user table and its actions: identity's people composed with access's roles. Every
 * change to someone is first checked against the escalation rules (a dry run of the bindings),
 * so nothing is half-done when access says no.
 */
export class UsersComposer {
  private readonly bindings: Bindings;

  /** A composer for one request: its calls carry that request's id. */
  constructor(
    private readonly rpc: RpcSender,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {
    this.bindings = new Bindings(rpc, PERSON_BINDING_FIELDS);
  }

  async list(actor: Actor, accountId: string, client: ClientContext, query: ListUsersQuery): Promise<UserPageView> {
    const page = await this.rpc.send(Subjects.UsersList, { actor, accountId, client, query });
    const bindings = await this.bindings.of(
      accountId,
      page.items.map((item) => person(item.id)),
    );
    return { items: page.items.map((item) => ({ ...item, roles: roleNames(bindings[item.id]) })), nextCursor: page.nextCursor };
  }

  async get(actor: Actor, accountId: string, client: ClientContext, userId: string): Promise<UserView> {
    const record = await this.rpc.send(Subjects.UsersGet, { actor, accountId, client, userId });
    return this.withRoles(accountId, record);
  }

  /**
   * Creates or adds the person, then binds the role ({@link addThenBind}: an add whose answer was
   * lost is sent again with the same key, a binding whose answer was lost undone, unbinding first).
   */
  async create(actor: Actor, accountId: string, client: ClientContext, body: CreateUserBody): Promise<CreatedView> {
    const created = await addThenBind(this.bindings, this.logger, actor, client, accountId, [{ role: body.role }], {
      principal: person,
      add: (requestKey) => this.rpc.send(Subjects.UsersCreate, { actor, accountId, client, body, requestKey }),
      remove: (userId) => this.rpc.send(Subjects.UsersRemove, { actor, accountId, client, userId }),
    });
    return { id: created.id };
  }

  /**
   * Edits the person, then rebinds a new role. Should either answer be lost, the person holds the
   * role they held (nothing more than before) and the client has a 504: the same PATCH again
   * completes it (both writes set values, so repeating them is harmless). The new role is the whole
   * of what they hold afterwards: nothing read is sent back, so no change made meanwhile is written
   * over with an older read (the later of two role changes stands, as for any two edits).
   */
  async update(actor: Actor, accountId: string, client: ClientContext, userId: string, body: UpdateUserBody): Promise<UserView> {
    await this.rpc.send(Subjects.UsersGet, { actor, accountId, client, userId });
    if (body.role) await this.bindings.check(actor, accountId, person(userId), [{ role: body.role }]);
    else {
      refuseSelf(actor, userId, 'Edit your own name and phone with PATCH /v1/me; nobody may change their own role or deactivate themselves');
      await this.bindings.assertManageable(actor, accountId, person(userId));
    }
    const updated = await this.rpc.send(Subjects.UsersUpdate, { actor, accountId, client, userId, body });
    if (!body.role) return this.withRoles(accountId, updated);
    await this.bindings.replace(actor, client, accountId, person(userId), [{ role: body.role }]);
    // Removed meanwhile (unbound before this role was written): unbound again, 404.
    const record = await this.bindings.stillInAccount(accountId, person(userId), this.reader(actor, accountId, client, userId), actor);
    return this.withRoles(accountId, record);
  }

  /**
   * Unbinds, then removes: should the second step fail, the person is left a member holding
   * nothing (no rights, and the removal can be tried again), never a non-member still holding roles.
   * Then unbinds again, once identity confirms they are out (an edit racing the removal may have
   * bound them in between; logged when that fails).
   * Should its answer be lost, the removal was done or not: a retry removes, or answers 404.
   */
  async remove(actor: Actor, accountId: string, client: ClientContext, userId: string): Promise<void> {
    await this.rpc.send(Subjects.UsersGet, { actor, accountId, client, userId });
    refuseSelf(actor, userId, `Leave the account with DELETE /v1/me/memberships/${accountId}`);
    await this.bindings.assertManageable(actor, accountId, person(userId));
    await this.bindings.removePrincipal(accountId, person(userId), actor);
    await this.rpc.send(Subjects.UsersRemove, { actor, accountId, client, userId });
    await this.bindings.unbindLeaver(accountId, person(userId), this.logger, { stillOut: this.reader(actor, accountId, client, userId), by: actor });
  }

  async resendInvitation(actor: Actor, accountId: string, client: ClientContext, userId: string): Promise<AcceptedView> {
    await this.rpc.send(Subjects.UsersGet, { actor, accountId, client, userId });
    await this.bindings.assertManageable(actor, accountId, person(userId));
    return this.rpc.send(Subjects.UsersInvitationResend, { actor, accountId, client, userId });
  }

  /**
   * Unbinds first, as {@link remove} does, but only a pending person; should identity refuse after
   * all (the person activated meanwhile), the roles the unbinding took are given back, unless
   * someone gave them roles since ({@link Bindings.giveBack}: an owner's change is never undone).
   * Not when identity's answer was lost: the person may be out of the account by then, and giving
   * back would leave a non-member holding roles; they stay holding nothing, and the same revocation
   * again completes it. Nor when identity found them gone (a removal took them meanwhile).
   */
  async revokeInvitation(actor: Actor, accountId: string, client: ClientContext, userId: string): Promise<void> {
    const record = await this.rpc.send(Subjects.UsersGet, { actor, accountId, client, userId });
    if (record.status !== 'pending') throw new DomainError(ErrorCode.Conflict, 'This person has already activated their access');
    const read = await this.bindings.assertManageable(actor, accountId, person(userId));
    // What access took, as it was then (a role given since the read included); what was read, from an access of the release before.
    const taken = await this.bindings.removePrincipal(accountId, person(userId), actor);
    try {
      await this.rpc.send(Subjects.UsersInvitationRevoke, { actor, accountId, client, userId });
    } catch (error) {
      if (!outcomeUnknown(error) && !isNotFound(error)) await this.giveBack(actor, client, accountId, userId, taken ? { taken } : { read });
      throw error;
    }
    await this.bindings.unbindLeaver(accountId, person(userId), this.logger, { stillOut: this.reader(actor, accountId, client, userId), by: actor });
  }

  /**
   * The reset mail goes to the person's own mailbox and nothing of it comes back (R7); still, as
   * for a re-send, only to someone the actor may manage (no escalation): their own, or that of
   * someone holding no permission the actor lacks.
   */
  async sendPasswordReset(actor: Actor, accountId: string, client: ClientContext, userId: string): Promise<AcceptedView> {
    await this.rpc.send(Subjects.UsersGet, { actor, accountId, client, userId });
    await this.bindings.assertManageableOrSelf(actor, accountId, person(userId));
    return this.rpc.send(Subjects.UsersPasswordReset, { actor, accountId, client, userId });
  }

  async endSessions(actor: Actor, accountId: string, client: ClientContext, userId: string): Promise<{ ended: number }> {
    await this.rpc.send(Subjects.UsersGet, { actor, accountId, client, userId });
    await this.bindings.assertManageableOrSelf(actor, accountId, person(userId));
    return this.rpc.send(Subjects.UsersSessionsEnd, { actor, accountId, client, userId });
  }

  /** {@link Bindings.giveBack}, warning when the roles were not given back (the person then holds what was given since, or nothing). */
  private async giveBack(actor: Actor, client: ClientContext, accountId: string, userId: string, lost: LostBindings): Promise<void> {
    await this.bindings.giveBack(actor, client, accountId, person(userId), lost).catch((error: unknown) => {
      this.logger.warn({ err: error, accountId, userId }, 'A refused revocation could not give back the roles it took');
    });
  }

  /** A read of the person in the account, as `actor` (NOT_FOUND once they are not in it). */
  private reader(actor: Actor, accountId: string, client: ClientContext, userId: string): () => Promise<UserRecord> {
    return () => this.rpc.send(Subjects.UsersGet, { actor, accountId, client, userId });
  }

  private async withRoles(accountId: string, record: UserRecord): Promise<UserView> {
    const bindings = await this.bindings.of(accountId, [person(record.id)]);
    return { ...record, roles: roleNames(bindings[record.id]) };
  }
}

function person(id: string): Principal {
  return { type: 'user', id };
}

/**
 * Refuses (403) an admin route aimed at the caller: one manages others here, and does for oneself
 * what `instead` says (the rule that nobody changes their own roles would otherwise answer, naming
 * roles a body without one never mentioned).
 */
function refuseSelf(actor: Actor, userId: string, instead: string): void {
  if (actor.type === 'user' && actor.id === userId) throw new DomainError(ErrorCode.Forbidden, instead);
}
