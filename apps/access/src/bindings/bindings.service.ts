import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  BINDINGS_CHANGED,
  principalOf,
  type BindingInput,
  type BindingsByPrincipal,
  type BindingsOfPrincipalsRequest,
  type BindingView,
  type RemovedPrincipalView,
  type RemovePrincipalRequest,
  type ReplaceBindingsRequest,
  type RoleHoldingsPage,
  type RoleHoldingsPageRequest,
} from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { DecisionStore, type BindingRecord } from '../checks/decision-store.js';
import { bindingChangeProblem } from '../checks/escalation.js';
import { changedBy } from '../events/change-events.js';
import { AccessStateService } from '../state/access-state.service.js';
import { BindingEntity } from './binding.entity.js';
import { bindingKey, writeBindingsReplaced } from './bindings-replaced.js';
import { roleHoldingsPage } from './role-holdings-page.js';

/** Who holds which role where. A replacement that changes something writes its event (audited by identity) in its transaction. */
@Injectable()
export class BindingsService {
  constructor(
    private readonly store: DecisionStore,
    private readonly state: AccessStateService,
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
  ) {}

  /** What {@link writeBindingsReplaced} needs. */
  private get events() {
    return { store: this.store, outbox: this.outbox };
  }

  /**
   * Sets every binding of a principal, after the owner and no-escalation rules; `dryRun` only
   * checks. Judged and written while no other change of the account can commit (see
   * {@link AccessStateService.mutate}): a role or application deleted meanwhile, or a concurrent
   * replacement, is seen. The reply is the bindings written, as judged in that transaction (not
   * read from memory after it: should the reload after the commit fail, memory still holds the
   * bindings of before). `onlyIfUnbound`: CONFLICT, nothing written, when the principal holds a
   * binding now (someone gave them one since a removal took theirs). `expected`: CONFLICT
   * ({@link BINDINGS_CHANGED}), nothing written, when the principal holds other bindings than
   * those now (someone changed them since the caller read them).
   */
  async replace(request: ReplaceBindingsRequest): Promise<BindingView[]> {
    const { accountId, principal } = request;
    if (request.dryRun) {
      return this.store.whenCurrent(accountId, () => {
        this.assertHeldAsExpected(request);
        return this.judge(request).map((binding) => this.view(accountId, binding));
      });
    }
    const written = await this.state.mutate(
      accountId,
      async (manager, version) => {
        const held = this.store.bindingsOf(principal, accountId);
        if (request.onlyIfUnbound && held.length > 0) {
          throw new DomainError(ErrorCode.Conflict, 'This principal was given roles since; nothing was changed');
        }
        this.assertHeldAsExpected(request);
        const proposed = this.judge(request);
        await manager.delete(BindingEntity, { accountId, principalId: principal.id, principalType: principal.type });
        if (proposed.length > 0) {
          await manager.insert(
            BindingEntity,
            proposed.map((binding) => ({ id: randomUUID(), accountId, principalType: principal.type, principalId: principal.id, ...binding })),
          );
        }
        const changed = await writeBindingsReplaced(manager, this.events, changedBy(request), { principal, before: held, after: proposed, version });
        return { changed, bindings: proposed.map((binding) => this.view(accountId, binding)) };
      },
      principal.id,
    );
    if (written.changed) this.relay.nudge();
    return written.bindings;
  }

  /**
   * Drops every binding of a principal that left the account. With an actor, judged first as a
   * replacement by none on its behalf, in the same change: a binding given meanwhile (the owner
   * making the principal an Admin) is judged, not stripped by someone who could not have. Answers
   * the bindings dropped, as they were in that change (what to give back, should the removal be undone).
   */
  async removePrincipal({ actor, accountId, principal, by }: RemovePrincipalRequest): Promise<Required<RemovedPrincipalView>> {
    const removed = await this.state.mutate(
      accountId,
      async (manager, version) => {
        if (this.store.isOwner(principal, accountId)) throw new DomainError(ErrorCode.Forbidden, 'The account owner cannot be removed');
        if (actor) this.judge({ actor, accountId, principal, bindings: [] });
        const held = this.store.bindingsOf(principal, accountId);
        const result = await manager.delete(BindingEntity, { accountId, principalId: principal.id, principalType: principal.type });
        // Without an actor, the principal left by itself (or declined), or its removal is being made sure of (a second unbinding, `by` its caller).
        const changedBy = { accountId, actor: principalOf(actor ?? by ?? principal), ip: null };
        const told = await writeBindingsReplaced(manager, this.events, changedBy, { principal, before: held, after: [], version });
        return { told, view: { removed: result.affected ?? 0, bindings: held.map((binding) => this.view(accountId, binding)) } };
      },
      principal.id,
    );
    if (removed.told) this.relay.nudge();
    return removed.view;
  }

  /** CONFLICT ({@link BINDINGS_CHANGED}) unless the principal holds exactly the `expected` bindings (when given). */
  private assertHeldAsExpected({ accountId, principal, expected }: ReplaceBindingsRequest): void {
    if (!expected) return;
    const held = this.store.bindingsOf(principal, accountId).map(bindingKey).sort();
    const read = expected
      .map((input) => bindingKey({ roleId: this.store.role(accountId, input.role)?.id ?? input.role, applicationIds: input.applicationIds ?? null }))
      .sort();
    if (held.length !== read.length || held.some((key, index) => key !== read[index])) {
      throw new DomainError(ErrorCode.Conflict, "This principal's roles or applications were changed since they were read; nothing was changed", {
        reason: BINDINGS_CHANGED,
      });
    }
  }

  /** The proposed bindings, resolved, once the owner and no-escalation rules allow them. */
  private judge({ actor, accountId, principal, bindings }: Pick<ReplaceBindingsRequest, 'actor' | 'accountId' | 'principal' | 'bindings'>): BindingRecord[] {
    const proposed = bindings.map((input, index) => this.resolve(accountId, input, index));
    const acting = this.store.actingAs(actor, accountId);
    const problem = bindingChangeProblem({
      actor,
      target: principal,
      actorIsOwner: acting.owner,
      targetIsOwner: this.store.isOwner(principal, accountId),
      actorRights: acting.rights,
      // What the target's bindings give, inactive or not: nobody may edit an inactive admin holding more than they do.
      targetRights: this.store.effective(principal, accountId),
      proposedRights: this.store.effectiveOfProposal(accountId, proposed),
    });
    if (problem) throw new DomainError(ErrorCode.Forbidden, problem);
    return proposed;
  }

  /** The bindings of many principals of one account. */
  ofPrincipals(request: BindingsOfPrincipalsRequest): BindingsByPrincipal | Promise<BindingsByPrincipal> {
    return this.store.whenCurrent(request.accountId, () => this.ofPrincipalsNow(request));
  }

  /** A page of every principal's roles in every account, for identity's role projection ({@link roleHoldingsPage}). */
  roleHoldings(request: RoleHoldingsPageRequest): RoleHoldingsPage {
    return roleHoldingsPage(this.store, request);
  }

  private ofPrincipalsNow({ accountId, principals }: BindingsOfPrincipalsRequest): BindingsByPrincipal {
    const result: BindingsByPrincipal = {};
    for (const principal of principals) {
      const owner = this.store.isOwner(principal, accountId) ? [{ roleId: 'owner', role: this.store.catalog.ownerRole, applicationIds: null }] : [];
      result[principal.id] = [...owner, ...this.store.bindingsOf(principal, accountId).map((binding) => this.view(accountId, binding))];
    }
    return result;
  }

  private resolve(accountId: string, input: BindingInput, index: number): BindingRecord {
    const role = this.store.role(accountId, input.role);
    if (!role)
      throw new DomainError(ErrorCode.ValidationFailed, `bindings.${index}.role: no role "${input.role}" in this account`, { field: `bindings.${index}.role` });
    const applicationIds = input.applicationIds === undefined || input.applicationIds === null ? null : [...new Set(input.applicationIds)];
    const unknown = (applicationIds ?? []).filter((id) => !this.store.hasApplication(accountId, id));
    if (unknown.length > 0)
      throw new DomainError(ErrorCode.ValidationFailed, `bindings.${index}.applicationIds: unknown application ${unknown.join(', ')}`, { unknown });
    if (applicationIds?.length === 0)
      throw new DomainError(ErrorCode.ValidationFailed, `bindings.${index}.applicationIds: empty (omit it for all applications)`);
    return { roleId: role.id, applicationIds };
  }

  private view(accountId: string, binding: BindingRecord): BindingView {
    return { roleId: binding.roleId, role: this.store.role(accountId, binding.roleId)?.name ?? binding.roleId, applicationIds: binding.applicationIds };
  }
}
