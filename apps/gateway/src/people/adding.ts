import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Actor, BindingInput, ClientContext, Principal } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import type { Bindings } from './bindings.js';

/** Identity's side of adding someone to an account (a person, a subuser). */
export interface Addition<T extends { id: string }> {
  /** The principal identity's id names. */
  principal(id: string): Principal;
  /** Adds them; identity does it once per `requestKey`, answering the same again. */
  add(requestKey: string): Promise<T>;
  /** Takes them out again. */
  remove(id: string): Promise<unknown>;
}

/**
 * Adding someone is two writes: identity adds, then access binds. Checks the bindings may be given,
 * adds, binds (undoing the add if that fails). Either answer may be lost (a replica that died after
 * its commit, or is slow): an add whose answer never came is sent once more with the same key
 * ({@link addOnce}), and if that one answers, they are bound as usual; a binding whose answer never
 * came is undone with the add, unbinding first.
 */
export async function addThenBind<T extends { id: string }>(
  bindings: Bindings,
  logger: Pick<Logger, 'warn'>,
  actor: Actor,
  client: ClientContext,
  accountId: string,
  wanted: BindingInput[],
  addition: Addition<T>,
): Promise<T> {
  await bindings.check(actor, accountId, addition.principal(randomUUID()), wanted);
  const added = await addOnce(logger, accountId, addition);
  try {
    await bindings.replace(actor, client, accountId, addition.principal(added.id), wanted);
  } catch (error) {
    await undoAdd(bindings, actor, accountId, addition, added.id).catch(() => undefined);
    throw error;
  }
  return added;
}

/** Whether a call failed for want of an answer in time: it may have been carried out. */
function isTimeout(error: unknown): boolean {
  return error instanceof DomainError && error.code === ErrorCode.UpstreamTimeout;
}

/**
 * Whether a write may have been done though it failed: no answer in time, or a 503 whose service
 * lost its database and says the outcome is unknown (the commit may have happened). Other 503s
 * (argon2's queue full, no service answering) were refused before anything was done. An add is
 * sent again under the same key.
 */
export function outcomeUnknown(error: unknown): boolean {
  if (isTimeout(error)) return true;
  return (
    error instanceof DomainError && error.code === ErrorCode.ServiceUnavailable && (error.details as { outcome?: unknown } | undefined)?.outcome === 'unknown'
  );
}

/**
 * Adds under a key of its own; when the answer does not come in time (or its outcome is unknown), sends the same add with the
 * same key once more. Identity claims the key in the add's transaction, so the second waits for the
 * first's outcome: committed, it answers the same id; rolled back (a replica that died before its
 * commit), it does the work. Should the second fail too, its error stands and nothing is bound.
 */
async function addOnce<T extends { id: string }>(logger: Pick<Logger, 'warn'>, accountId: string, addition: Addition<T>): Promise<T> {
  const requestKey = randomUUID();
  try {
    return await addition.add(requestKey);
  } catch (error) {
    if (!outcomeUnknown(error)) throw error;
  }
  const context = { accountId, requestKey };
  logger.warn(context, 'An add was not answered, or not surely: sending it again with the same key');
  try {
    const added = await addition.add(requestKey);
    logger.warn({ ...context, id: added.id }, 'The add sent again was answered: binding as usual');
    return added;
  } catch (error) {
    logger.warn({ ...context, err: error }, 'The add sent again failed too: nothing is bound');
    throw error;
  }
}

/**
 * Undoes an add whose binding failed: unbinds first (the binding may have been made though its
 * answer was lost), then removes; should unbinding fail, they stay in the account (never out of it
 * holding a role), as a failed removal leaves them.
 */
async function undoAdd<T extends { id: string }>(bindings: Bindings, actor: Actor, accountId: string, addition: Addition<T>, id: string): Promise<void> {
  await bindings.removePrincipal(accountId, addition.principal(id), actor);
  await addition.remove(id);
}
