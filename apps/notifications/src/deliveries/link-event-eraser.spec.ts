import { Events, type EventEnvelope, type EventType } from '#libs/contracts/index.js';
import { carriesLinkToken } from './link-event-eraser.js';

const event = (type: EventType, data: Record<string, unknown>) =>
  ({ id: 'e', type, occurredAt: '2030-01-01T00:00:00Z', accountId: null, data }) as unknown as EventEnvelope;
const person = { email: 'ada@example.com', locale: 'en', expiresAt: '2099-01-01T00:00:00Z' };

describe('which events carry a plain link token', () => {
  it.each([
    ['an invitation', event(Events.UserInvited, { ...person, token: 'plain' })],
    ["a subuser's invitation", event(Events.SubuserInvited, { ...person, token: 'plain' })],
    ['a reset link', event(Events.PasswordResetRequested, { ...person, token: 'plain' })],
    ['an e-mail change link', event(Events.EmailChangeRequested, { ...person, inUse: false, token: 'plain' })],
    ['the undo link of an e-mail change', event(Events.EmailChanged, { ...person, previousEmail: 'old@example.com', undoToken: 'plain' })],
  ])('%s carries one', (_label, carrying) => {
    expect(carriesLinkToken(carrying)).toBe(true);
  });

  it.each([
    ['an e-mail change to an address in use (no link)', event(Events.EmailChangeRequested, { ...person, inUse: true })],
    ['an e-mail change notice without an undo link', event(Events.EmailChanged, { ...person, previousEmail: 'old@example.com' })],
    ['a password-changed notice', event(Events.PasswordChanged, { ...person, changedAt: '2030-01-01T00:00:00Z' })],
    ['voided links (their hashes only)', event(Events.LinksVoided, { tokenHashes: ['a'.repeat(64)] })],
    ['an account event', event(Events.AccountCreated, { accountId: 'a', slug: 'acme', ownerUserId: 'u' })],
    ['an event without data', event(Events.UserInvited, null as unknown as Record<string, unknown>)],
  ])('%s carries none', (_label, plain) => {
    expect(carriesLinkToken(plain)).toBe(false);
  });
});
