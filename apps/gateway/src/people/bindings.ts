import {
  isBindingsChanged,
  principalOf,
  Subjects,
  type Actor,
  type BindingInput,
  type BindingsByPrincipal,
  type BindingView,
  type ClientContext,
  type Principal,
  type ReplaceBindingsRequest,
} from '#libs/contracts/index.js';
import { ACCOUNT_NOT_FOUND, DomainError, ErrorCode } from '#libs/errors/index.js';
import type { Logger } from 'pino';
import type { RpcSender } from '#libs/platform/index.js';
import { refusesUnknownField } from '../http/earlier-release.js';

/**
 * The gateway's side of role bindings: access holds them and enforces the escalation rules
 * (nobody grants what they lack, touches the owner, or changes their own roles); identity holds
 * the people. These calls compose the two, for one request.
 */
export class Bindings {
  constructor(
    private readonly rpc: RpcSender,
    private readonly fields: BindingFieldNames,
  ) {}

  /** The bindings of these principals in the account. */
  async of(accountId: string, principals: Principal[]): Promise<BindingsByPrincipal> {
    if (principals.length === 0) return {};
    return this.rpc.send(Subjects.AccessBindingsOfPrincipals, { accountId, principals });
  }

  /** Whether `actor` may give `principal` these bindings (nothing changes). Throws FORBIDDEN otherwise. */
  async check(actor: Actor, accountId: string, principal: Principal, bindings: BindingInput[]): Promise<void> {
    await this.rpc
      .send(Subjects.AccessBindingsReplace, { actor: principalOf(actor), accountId, principal, bindings, dryRun: true })
      .catch((error: unknown) => inBodyTerms(error, this.fields));
  }

  /** Sets every binding of `principal` in the account (`client`: where the request came from, for the audit trail). */
  async replace(actor: Actor, client: ClientContext, accountId: string, principal: Principal, bindings: BindingInput[]): Promise<BindingView[]> {
    return this.sendReplace({ actor: principalOf(actor), client, accountId, principal, bindings });
  }

  /**
   * Sends a replacement. An access of an earlier release refuses the fields it does not know yet
   * (`expected`, `client`) as unknown (400): the replacement is then sent again without those, as
   * that release took it, for as long as the rollout lasts (docs/deploy.md §4): without `expected`,
   * unconditionally, as that release wrote it; without `client`, audited without the address.
   */
  private async sendReplace(request: ReplaceBindingsRequest): Promise<BindingView[]> {
    return this.sendToAnyRelease(Subjects.AccessBindingsReplace, request, ['expected', 'client']).catch((error: unknown) => inBodyTerms(error, this.fields));
  }

  /**
   * Sends `request`; when an access of an earlier release refuses some of `laterFields` as unknown
   * (400), sends it once more without those, as that release takes it (docs/deploy.md §4).
   */
  private async sendToAnyRelease<S extends typeof Subjects.AccessBindingsReplace | typeof Subjects.AccessBindingsRemovePrincipal, R extends object>(
    subject: S,
    request: R,
    laterFields: ReadonlyArray<keyof R & string>,
  ) {
    return this.rpc.send(subject, request as never).catch((error: unknown) => {
      const refused = laterFields.filter((field) => request[field] !== undefined && refusesUnknownField(error, field));
      if (refused.length === 0) throw error;
      const older = { ...request };
      for (const field of refused) delete older[field];
      return this.rpc.send(subject, older as never);
    });
  }

  /**
   * Sets `principal`'s bindings to what `edit` makes of those it holds (`read`: what the caller read):
   * access writes them only while the principal still holds `read`, judged in its change. Should
   * someone have changed them since the read (the owner taking a role away while an admin changes
   * the applications), they are read again and `edit` applied to those, once: the change made
   * meanwhile is kept, never overwritten by the older read. Rejects (CONFLICT, `bindings-changed`)
   * when they changed again before that second write; nothing of it was written.
   */
  async edit(
    actor: Actor,
    client: ClientContext,
    accountId: string,
    principal: Principal,
    read: BindingView[],
    edit: (held: BindingView[]) => BindingInput[],
  ): Promise<void> {
    const replaceIfHeld = (held: BindingView[]) =>
      this.sendReplace({ actor: principalOf(actor), client, accountId, principal, bindings: edit(held), expected: grantable(held) });
    try {
      await replaceIfHeld(read);
    } catch (error) {
      if (!isBindingsChanged(error)) throw error;
      await replaceIfHeld((await this.of(accountId, [principal]))[principal.id] ?? []);
    }
  }

  /**
   * Whether `actor` may manage `principal` at all (edit, deactivate, remove, end sessions): the
   * same escalation rules as re-granting the principal its current bindings.
   */
  async assertManageable(actor: Actor, accountId: string, principal: Principal): Promise<BindingView[]> {
    const current = (await this.of(accountId, [principal]))[principal.id] ?? [];
    await this.check(actor, accountId, principal, grantable(current));
    return current;
  }

  /**
   * {@link assertManageable}, except for the actor itself: what one may do to oneself without
   * managing anyone (send oneself a reset mail, end one's own sessions), where the rule that nobody
   * changes their own roles must not refuse it.
   */
  async assertManageableOrSelf(actor: Actor, accountId: string, principal: Principal): Promise<void> {
    if (actor.type === principal.type && actor.id === principal.id) return;
    await this.assertManageable(actor, accountId, principal);
  }

  /**
   * Drops every binding of a principal that leaves the account. With `actor` (a removal by an admin),
   * access judges it, as {@link assertManageable} does, in the change that unbinds: the dry run
   * before answers early, this one holds against a role given meanwhile. Without (the principal
   * leaves by itself, or declines), only the owner is refused. Answers the bindings dropped, as
   * they were in that change (undefined from an access of the release before, which does not say).
   */
  async removePrincipal(accountId: string, principal: Principal, actor?: Actor): Promise<BindingView[] | undefined> {
    const removed = await this.rpc.send(Subjects.AccessBindingsRemovePrincipal, { ...(actor && { actor: principalOf(actor) }), accountId, principal });
    return removed.bindings;
  }

  /**
   * Unbinds a principal again, not judged, the audit trail naming `by` (the caller whose request
   * makes sure a removed principal holds nothing). An access of an earlier release refuses `by`
   * as unknown: sent again without it (the trail then names the principal itself).
   */
  private async unbindAgain(accountId: string, principal: Principal, by: Actor | undefined): Promise<void> {
    await this.sendToAnyRelease(Subjects.AccessBindingsRemovePrincipal, { accountId, principal, ...(by && { by: principalOf(by) }) }, ['by']);
  }

  /**
   * Reads the principal again after a rebinding (`read`: identity's record of it) and answers the
   * record. A removal that ran meanwhile unbound it before this binding was written, and would
   * leave someone who is gone holding roles nobody can take away (a role held cannot be deleted):
   * when identity answers that the principal is not there, it is unbound again and the NOT_FOUND
   * passes on (`by`, the caller, named in the audit trail). Not when the answer is about the caller
   * (no longer working in the account): the principal is still there, and keeps what it holds.
   */
  async stillInAccount<T>(accountId: string, principal: Principal, read: () => Promise<T>, by: Actor): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (isGone(error)) await this.unbindAgain(accountId, principal, by);
      throw error;
    }
  }

  /**
   * Unbinds again a principal identity has just taken out of the account: a rebinding that raced
   * the removal may have been written after the first unbinding ({@link stillInAccount} catches the
   * ones written after this). `stillOut` (a read of identity), when given, must confirm that the
   * principal is still out, so that the roles of someone added again in that moment stay; `by`, the
   * caller who removed it (absent: it left by itself). The removal is done whatever this answers: a failure is logged.
   */
  async unbindLeaver(
    accountId: string,
    principal: Principal,
    logger: Pick<Logger, 'warn'>,
    { stillOut, by }: { stillOut?: () => Promise<unknown>; by?: Actor } = {},
  ): Promise<void> {
    try {
      if (stillOut && !(await isOut(stillOut))) return;
      await this.unbindAgain(accountId, principal, by);
    } catch (error) {
      logger.warn({ err: error, accountId, principal }, 'Could not unbind again a principal that left its account (a rebinding racing the removal may remain)');
    }
  }

  /**
   * Gives a principal back the bindings a removal took, should the step after it fail. `taken`
   * (what access answered it dropped): only while the principal still holds none, which access
   * checks in the change that writes them, so that a change of its roles made meanwhile (the owner
   * giving it another role) is never overwritten; rejects (CONFLICT) when it holds some. `read`
   * (what was read before, when an access of the release before answered the removal without
   * saying; it also refuses `onlyIfUnbound`): a plain replacement, as that release gave back.
   */
  async giveBack(actor: Actor, client: ClientContext, accountId: string, principal: Principal, lost: LostBindings): Promise<void> {
    const bindings = grantable('taken' in lost ? lost.taken : lost.read);
    if (bindings.length === 0) return;
    await this.sendReplace({ actor: principalOf(actor), client, accountId, principal, bindings, ...('taken' in lost && { onlyIfUnbound: true }) });
  }
}

/** The bindings a removal took: as access answered it dropped them, or as read before it (from an access of the release before). */
export type LostBindings = { taken: BindingView[] } | { read: BindingView[] };

/** How an HTTP body names what access calls `bindings.<i>.role` and `bindings.<i>.applicationIds`. */
export interface BindingFieldNames {
  role(index: number): string;
  applicationIds(index: number): string;
}

/** A person's bodies: their one role is `role`, their applications `applicationIds`. */
export const PERSON_BINDING_FIELDS: BindingFieldNames = { role: () => 'role', applicationIds: () => 'applicationIds' };

/** A refusal of access naming the fields as the caller's body does (a 400 about `bindings.0.role` means nothing to a client that sent `role`). */
export function inBodyTerms(error: unknown, fields: BindingFieldNames): never {
  if (!(error instanceof DomainError) || error.code !== ErrorCode.ValidationFailed) throw error;
  const rename = (text: string) =>
    text.replace(/bindings\.(\d+)\.(role|applicationIds)/g, (_match, index: string, field: 'role' | 'applicationIds') => fields[field](Number(index)));
  const details = { ...(error.details as Record<string, unknown> | undefined) };
  if (typeof details.field === 'string') details.field = rename(details.field);
  for (const list of ['fields', 'problems'] as const) {
    const texts = details[list];
    if (Array.isArray(texts)) details[list] = (texts as unknown[]).map((text) => (typeof text === 'string' ? rename(text) : text));
  }
  throw new DomainError(error.code, rename(error.message), error.details === undefined ? undefined : details);
}

/** Whether a service answered NOT_FOUND (the principal, or the account for the caller). */
export function isNotFound(error: unknown): boolean {
  return error instanceof DomainError && error.code === ErrorCode.NotFound;
}

/** Whether `read` answers that the principal is not in the account (false when it is there; any other failure rejects). */
async function isOut(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (error) {
    if (isGone(error)) return true;
    throw error;
  }
}

/** Whether identity answered that the principal asked about is not in the account, rather than that the caller no longer works there. */
export function isGone(error: unknown): boolean {
  return isNotFound(error) && (error as DomainError).message !== ACCOUNT_NOT_FOUND;
}

/** `bindings` as a replacement gives them, the owner's pseudo-binding left out. */
function grantable(bindings: BindingView[]): BindingInput[] {
  return bindings.filter((binding) => binding.roleId !== OWNER_ROLE_ID).map(asInput);
}

/** The pseudo-binding access lists for the account owner (not a role that can be granted). */
const OWNER_ROLE_ID = 'owner';

/** A binding as it can be sent back (by role id, so a renamed role stays the same). */
export function asInput(binding: BindingView): BindingInput {
  return { role: binding.roleId, applicationIds: binding.applicationIds };
}

/**
 * The role ids of some bindings, each once, in order: what to send back to keep the roles held
 * (access takes a name or an id, and a name may have come to stand for another role since it was read).
 */
export function roleIds(bindings: BindingView[] | undefined): string[] {
  return [...new Set((bindings ?? []).map((binding) => binding.roleId))];
}

/** The role names of some bindings, each once, in order. */
export function roleNames(bindings: BindingView[] | undefined): string[] {
  return [...new Set((bindings ?? []).map((binding) => binding.role))];
}

/**
 * The applications the bindings are limited to: null when any of them covers every application,
 * none when there are no bindings (a subuser whose only application was deleted holds nothing
 * anywhere, not everything everywhere).
 */
export function applicationsOf(bindings: BindingView[] | undefined): string[] | null {
  if (bindings?.some((binding) => binding.applicationIds === null)) return null;
  return [...new Set((bindings ?? []).flatMap((binding) => binding.applicationIds ?? []))];
}
