import type { EntityManager } from 'typeorm';
import type { EventDataMap, Events } from '#libs/contracts/index.js';
import type { OutboxWriter } from '#libs/outbox/index.js';
import type { PrincipalProfile } from './principal-profile.js';

/** The events that tell a login's own e-mail of something done with its credentials (security notices). */
export type LoginNoticeType =
  typeof Events.PasswordChanged | typeof Events.SecondStepChanged | typeof Events.SecondStepBlocked | typeof Events.RecoveryCodeUsed;

/** What a notice of `T` says besides whose login it is about, where it goes and in what language. */
export type LoginNoticeDetails<T extends LoginNoticeType> = Omit<EventDataMap[T], 'accountId' | 'principalType' | 'principalId' | 'email' | 'name' | 'locale'>;

/**
 * Queues the security notice `type` to the e-mail of `profile`'s login, in `manager`'s transaction,
 * saying `details`. Whether it was queued (not when the login has no e-mail: a subuser may have
 * none): the caller then nudges the outbox relay after its commit.
 */
export async function queueLoginNotice<T extends LoginNoticeType>(
  outbox: OutboxWriter,
  manager: EntityManager,
  profile: PrincipalProfile,
  type: T,
  details: LoginNoticeDetails<T>,
): Promise<boolean> {
  if (profile.email === null) return false;
  const { principal, accountId, email, name, locale } = profile;
  const data = { accountId, principalType: principal.type, principalId: principal.id, email, name, locale, ...details };
  await outbox.add(manager, type, accountId, data as EventDataMap[T]);
  return true;
}
