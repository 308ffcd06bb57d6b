import {
  Subjects,
  type AcceptedView,
  type Actor,
  type BindingsByPrincipal,
  type ClientContext,
  type CreatedSubuserView,
  type CreateSubuserBody,
  type ListSubusersQuery,
  type Principal,
  type SubuserPageView,
  type SubuserRecord,
  type SubuserView,
  type UpdateSubuserBody,
} from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { Logger } from 'pino';
import type { RpcSender } from '#libs/platform/index.js';
import { addThenBind } from '../people/adding.js';
import { applicationsOf, Bindings, isGone, roleNames } from '../people/bindings.js';
import { edited, toBindings } from '../people/bindings-edit.js';

/** Subusers: identity's logins composed with access's roles and application limits. */
export class SubusersComposer {
  private readonly bindings: Bindings;

  /** A composer for one request: its calls carry that request's id. */
  constructor(
    private readonly rpc: RpcSender,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {
    // A subuser's bindings are `roles[i]`, all limited to the same `applicationIds`.
    this.bindings = new Bindings(rpc, { role: (index) => `roles.${index}`, applicationIds: () => 'applicationIds' });
  }

  async list(actor: Actor, accountId: string, client: ClientContext, query: ListSubusersQuery): Promise<SubuserPageView> {
    const page = await this.rpc.send(Subjects.SubusersList, { actor, accountId, client, query });
    const bindings = await this.bindings.of(
      accountId,
      page.items.map((item) => subuser(item.id)),
    );
    return { items: page.items.map((item) => withBindings(item, bindings)), nextCursor: page.nextCursor };
  }

  async get(actor: Actor, accountId: string, client: ClientContext, subuserId: string): Promise<SubuserView> {
    const record = await this.rpc.send(Subjects.SubusersGet, { actor, accountId, client, subuserId });
    return withBindings(record, await this.bindings.of(accountId, [subuser(record.id)]));
  }

  /**
   * Creates the subuser, then binds its roles ({@link addThenBind}: a create whose answer was lost
   * is sent again with the same key; a binding whose answer was lost is undone with the subuser,
   * unbinding first).
   */
  async create(actor: Actor, accountId: string, client: ClientContext, body: CreateSubuserBody): Promise<CreatedSubuserView> {
    const created = await addThenBind(this.bindings, this.logger, actor, client, accountId, toBindings(body.roles, body.applicationIds ?? null), {
      principal: subuser,
      add: (requestKey) => this.rpc.send(Subjects.SubusersCreate, { actor, accountId, client, body, requestKey }),
      remove: (subuserId) => this.rpc.send(Subjects.SubusersRemove, { actor, accountId, client, subuserId }),
    });
    return { id: created.id, subuserLoginUrl: created.subuserLoginUrl };
  }

  /**
   * Edits the subuser, then rebinds new roles or applications. Should either answer be lost, it
   * holds what it held (nothing more than before) and the client has a 504: the same PATCH again
   * completes it (both writes set values, so repeating them is harmless). A body naming roles or
   * applications but not both keeps the other as the subuser holds it: access rebinds only while it
   * holds what was read, and a change made since (the owner taking a role away) is read again and
   * kept ({@link Bindings.edit}); changed once more in that moment, 409 `bindings-changed`, with
   * identity's part of the edit done and the roles and applications as the other change left them.
   * A body naming both is a plain replacement: nothing read goes back, so nothing read can be stale.
   */
  async update(actor: Actor, accountId: string, client: ClientContext, subuserId: string, body: UpdateSubuserBody): Promise<SubuserView> {
    await this.rpc.send(Subjects.SubusersGet, { actor, accountId, client, subuserId });
    const current = await this.bindings.assertManageable(actor, accountId, subuser(subuserId));
    const rebind = body.roles !== undefined || body.applicationIds !== undefined;
    const orGone = (work: () => Promise<void>) => this.orGone(work, actor, accountId, client, subuserId);
    if (rebind) await orGone(() => this.bindings.check(actor, accountId, subuser(subuserId), edited(body, current)));
    const updated = await this.rpc.send(Subjects.SubusersUpdate, { actor, accountId, client, subuserId, body });
    if (!rebind) return withBindings(updated, await this.bindings.of(accountId, [subuser(subuserId)]));
    if (body.roles !== undefined && body.applicationIds !== undefined) {
      // Both named: nothing is built from a read, so nothing read can be stale; the later of two such edits stands, as for a person.
      await this.bindings.replace(actor, client, accountId, subuser(subuserId), toBindings(body.roles, body.applicationIds));
    } else {
      await orGone(() => this.bindings.edit(actor, client, accountId, subuser(subuserId), current, (held) => edited(body, held)));
    }
    // Deleted meanwhile (unbound before these roles were written): unbound again, 404.
    const record = await this.bindings.stillInAccount(
      accountId,
      subuser(subuserId),
      () => this.rpc.send(Subjects.SubusersGet, { actor, accountId, client, subuserId }),
      actor,
    );
    return withBindings(record, await this.bindings.of(accountId, [subuser(subuserId)]));
  }

  /**
   * Runs `work`; its refusal to keep roles' applications for a subuser that holds none becomes
   * NOT_FOUND when the subuser is gone (a deletion running at the same time unbinds it just before
   * identity deletes it: the subuser is gone, not the body wrong). Any other error passes as it is.
   */
  private async orGone(work: () => Promise<void>, actor: Actor, accountId: string, client: ClientContext, subuserId: string): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (
        error instanceof DomainError &&
        error.code === ErrorCode.ValidationFailed &&
        (error.details as { field?: unknown } | undefined)?.field === 'applicationIds'
      ) {
        // Only the subuser gone replaces the refusal: any other failure of this read leaves the 400 as it was.
        const gone = await this.rpc.send(Subjects.SubusersGet, { actor, accountId, client, subuserId }).then(
          () => undefined,
          (readError: unknown) => (isGone(readError) ? (readError as DomainError) : undefined),
        );
        if (gone) throw gone;
      }
      throw error;
    }
  }

  /**
   * Unbinds, then deletes: should the second step fail, the subuser is left holding nothing, and the
   * delete can be tried again; then unbinds again (an edit racing the delete may have bound it in
   * between; logged when that fails). Should its answer be lost, the delete was done or not: a retry deletes, or answers 404.
   */
  async remove(actor: Actor, accountId: string, client: ClientContext, subuserId: string): Promise<void> {
    await this.rpc.send(Subjects.SubusersGet, { actor, accountId, client, subuserId });
    await this.bindings.assertManageable(actor, accountId, subuser(subuserId));
    await this.bindings.removePrincipal(accountId, subuser(subuserId), actor);
    await this.rpc.send(Subjects.SubusersRemove, { actor, accountId, client, subuserId });
    await this.bindings.unbindLeaver(accountId, subuser(subuserId), this.logger, { by: actor });
  }

  /**
   * A reset mail to the subuser's e-mail, once the actor may manage it (no escalation), as for a
   * re-send; a subuser may always send one to itself (nobody may manage their own roles).
   */
  async sendPasswordReset(actor: Actor, accountId: string, client: ClientContext, subuserId: string): Promise<AcceptedView> {
    await this.rpc.send(Subjects.SubusersGet, { actor, accountId, client, subuserId });
    await this.bindings.assertManageableOrSelf(actor, accountId, subuser(subuserId));
    return this.rpc.send(Subjects.SubusersPasswordReset, { actor, accountId, client, subuserId });
  }

  /** A new activation link for a pending subuser, once the actor may manage it (no escalation). */
  async resendInvitation(actor: Actor, accountId: string, client: ClientContext, subuserId: string): Promise<AcceptedView> {
    await this.rpc.send(Subjects.SubusersGet, { actor, accountId, client, subuserId });
    await this.bindings.assertManageable(actor, accountId, subuser(subuserId));
    return this.rpc.send(Subjects.SubusersInvitationResend, { actor, accountId, client, subuserId });
  }

  /** Turns the subuser's second step off (its authenticator lost), once the actor may manage it (no escalation). */
  async resetSecondStep(actor: Actor, accountId: string, client: ClientContext, subuserId: string): Promise<void> {
    await this.rpc.send(Subjects.SubusersGet, { actor, accountId, client, subuserId });
    await this.bindings.assertManageable(actor, accountId, subuser(subuserId));
    await this.rpc.send(Subjects.SubusersSecondStepReset, { actor, accountId, client, subuserId });
  }

  async endSessions(actor: Actor, accountId: string, client: ClientContext, subuserId: string): Promise<{ ended: number }> {
    await this.rpc.send(Subjects.SubusersGet, { actor, accountId, client, subuserId });
    await this.bindings.assertManageable(actor, accountId, subuser(subuserId));
    return this.rpc.send(Subjects.SubusersSessionsEnd, { actor, accountId, client, subuserId });
  }
}

function subuser(id: string): Principal {
  return { type: 'subuser', id };
}

function withBindings(record: SubuserRecord, bindings: BindingsByPrincipal): SubuserView {
  return { ...record, roles: roleNames(bindings[record.id]), applicationIds: applicationsOf(bindings[record.id]) };
}
