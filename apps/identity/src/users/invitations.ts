import type { EntityManager } from 'typeorm';
import { MembershipInvitationEntity } from './membership-invitation.entity.js';

/** A membership: one person in one account. */
export interface MembershipKey {
  accountId: string;
  userId: string;
}

/** What an account typed of someone it invites: all it sees of them until they accept. */
export interface TypedPerson {
  email: string;
  firstName: string;
  lastName: string;
  phone: string;
}

/**
 * The columns of a person as their account sees them, for queries that join `memberships m`,
 * `users u` and `membership_invitations i` (left, on the same membership): until they accept an
 * invitation, the values the account typed, `pending`, inactive as the account set it, and no
 * second step (nor its block); the person's own values otherwise.
 */
export const PERSON_AS_THE_ACCOUNT_SEES = `
  COALESCE(i.first_name, u.first_name) AS "firstName", COALESCE(i.last_name, u.last_name) AS "lastName",
  COALESCE(i.email, u.email) AS email, COALESCE(i.phone, u.phone) AS phone,
  CASE WHEN i.user_id IS NULL THEN u.status ELSE 'pending' END AS status,
  (i.user_id IS NULL AND u.second_step) AS "mfaEnabled",
  (i.user_id IS NULL AND EXISTS (SELECT 1 FROM totp_factors f WHERE f.user_id = u.id AND f.blocked_at IS NOT NULL)) AS "mfaBlocked",
  COALESCE(i.active, m.active) AS active`;

/**
 * Opens the invitation of a membership just inserted (inactive): what the account typed is kept,
 * and the user table finds and sorts the row by it.
 */
export async function openInvitation(manager: EntityManager, key: MembershipKey, typed: TypedPerson): Promise<void> {
  await manager.insert(MembershipInvitationEntity, { ...key, ...typed, active: true });
  await showTypedValues(manager, key);
}

/**
 * The open invitation of a membership, locked until the transaction ends, or null. The person's
 * row is locked first (FOR NO KEY UPDATE, unless the caller holds it already), in the order of
 * every flow on a person and their links (ActionTokensService.consumeLocked): an acceptance, a
 * re-send, an edit and a removal of one invitation queue rather than deadlock.
 */
export async function lockedInvitation(manager: EntityManager, key: MembershipKey): Promise<MembershipInvitationEntity | null> {
  await manager.query('SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE', [key.userId]);
  return manager.findOne(MembershipInvitationEntity, { where: { ...key }, lock: { mode: 'pessimistic_write' } });
}

/** An admin edits what the account typed, or whether the membership is to be active once accepted. */
export async function retypeInvitation(manager: EntityManager, key: MembershipKey, changes: Partial<TypedPerson & { active: boolean }>): Promise<void> {
  if (Object.keys(changes).length === 0) return;
  await manager.update(MembershipInvitationEntity, { ...key }, changes);
  await showTypedValues(manager, key);
}

/**
 * Accepts an invitation: it is deleted, and the membership takes the person's own values and the
 * activity the account set. Answers that activity, or null when there was no invitation (revoked,
 * or the person removed, meanwhile).
 */
export async function acceptInvitation(manager: EntityManager, key: MembershipKey): Promise<boolean | null> {
  const rows = await manager.query<Array<{ active: boolean }>>(
    `WITH accepted AS (DELETE FROM membership_invitations WHERE account_id = $1 AND user_id = $2 RETURNING active),
          joined AS (
            UPDATE memberships m
               SET active = accepted.active,
                   search = identity.person_search(u.first_name, u.last_name, u.email, u.phone),
                   sort_name = identity.person_sort_name(u.first_name, u.last_name),
                   email_lower = u.email_lower
              FROM accepted, users u
             WHERE m.account_id = $1 AND m.user_id = $2 AND u.id = m.user_id
         RETURNING m.active)
     SELECT active FROM joined`,
    [key.accountId, key.userId],
  );
  return rows.length === 0 ? null : rows[0].active;
}

/** The membership's search text and sort keys become the invitation's typed values (the trigger on `users` leaves them so). */
async function showTypedValues(manager: EntityManager, key: MembershipKey): Promise<void> {
  await manager.query(
    `UPDATE memberships m
        SET search = identity.person_search(i.first_name, i.last_name, i.email, i.phone),
            sort_name = identity.person_sort_name(i.first_name, i.last_name),
            email_lower = lower(i.email)
       FROM membership_invitations i
      WHERE m.account_id = $1 AND m.user_id = $2 AND i.account_id = m.account_id AND i.user_id = m.user_id`,
    [key.accountId, key.userId],
  );
}
