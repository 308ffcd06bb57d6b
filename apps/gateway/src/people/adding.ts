import { randomUUID } from 'node:crypto';
import type { Actor, BindingInput, Principal } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { Bindings } from './bindings.js';

/** Identity's side of adding someone to an account (a person, a subuser). */
export interface Addition<T extends { id: string }> {
  /** The principal identity's id names. */
  principal(id: string): Principal;
  /** Adds them. */
  add(): Promise<T>;
  /** The id of whom {@link add} would have added, found by what is unique in the account (e-mail, login); undefined if nobody. */
  lookUp(): Promise<string | undefined>;
  /** Takes them out again. */
  remove(id: string): Promise<unknown>;
}

/**
 * Adding someone is two writes: identity adds, then access binds. Checks the bindings may be given,
 * adds, binds (undoing the add if that fails). Either answer may be lost (a replica that died after
 * its commit): an add whose answer never came is completed, the one found holding nothing getting
 * the bindings (the answer stays 504, and a retry would get 409, the e-mail or login taken); a
 * binding whose answer never came is undone with the add, unbinding first.
 */
export async function addThenBind<T extends { id: string }>(
  bindings: Bindings,
  actor: Actor,
  accountId: string,
  wanted: BindingInput[],
  addition: Addition<T>,
): Promise<T> {
  await bindings.check(actor, accountId, addition.principal(randomUUID()), wanted);
  const added = await addition.add().catch(async (error: unknown) => {
    if (isTimeout(error)) await bindIfAdded(bindings, actor, accountId, wanted, addition).catch(() => undefined);
    throw error;
  });
  try {
    await bindings.replace(actor, accountId, addition.principal(added.id), wanted);
  } catch (error) {
    await undoAdd(bindings, accountId, addition, added.id).catch(() => undefined);
    throw error;
  }
  return added;
}

/** Whether a call failed for want of an answer in time: it may have been carried out. */
export function isTimeout(error: unknown): boolean {
  return error instanceof DomainError && error.code === ErrorCode.UpstreamTimeout;
}

/** Binds whom identity added though its answer was lost, if found holding nothing (else another request added them). */
async function bindIfAdded<T extends { id: string }>(bindings: Bindings, actor: Actor, accountId: string, wanted: BindingInput[], addition: Addition<T>) {
  const id = await addition.lookUp();
  if (id === undefined || (await bindings.of(accountId, [addition.principal(id)]))[id]?.length) return;
  await bindings.replace(actor, accountId, addition.principal(id), wanted);
}

/**
 * Undoes an add whose binding failed: unbinds first (the binding may have been made though its
 * answer was lost), then removes; should unbinding fail, they stay in the account (never out of it
 * holding a role), as a failed removal leaves them.
 */
async function undoAdd<T extends { id: string }>(bindings: Bindings, accountId: string, addition: Addition<T>, id: string): Promise<void> {
  await bindings.removePrincipal(accountId, addition.principal(id));
  await addition.remove(id);
}
