import { randomUUID } from 'node:crypto';
import { Events, type EventEnvelope } from '#libs/contracts/index.js';

/** A "password changed" event of a new account, to `email`: one mail, as the consumer tests publish it. */
export function passwordChangedEvent(email = 'ada@example.com'): EventEnvelope {
  const accountId = randomUUID();
  return {
    id: randomUUID(),
    type: Events.PasswordChanged,
    occurredAt: new Date().toISOString(),
    accountId,
    data: { accountId, principalType: 'user', principalId: randomUUID(), email, name: 'Ada', changedAt: new Date().toISOString(), locale: 'en' },
  };
}
