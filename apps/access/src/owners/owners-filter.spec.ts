import { ACCOUNT_EVENTS, eventSubject, Events, type EventType } from '#libs/contracts/index.js';

/** Whether a NATS subject filter (`*` one token, `>` the rest) matches `subject`. */
function matches(filter: string, subject: string): boolean {
  const wanted = filter.split('.');
  const tokens = subject.split('.');
  for (const [index, token] of wanted.entries()) {
    if (token === '>') return tokens.length > index;
    if (token !== '*' && token !== tokens[index]) return false;
  }
  return tokens.length === wanted.length;
}

const identityEvents = Object.values(Events).filter((type) => type.startsWith('identity.')) as EventType[];

describe("the owners consumer's subject filter", () => {
  it.each([Events.AccountCreated, Events.OwnershipTransferred])('takes %s, which it applies', (type) => {
    expect(matches(ACCOUNT_EVENTS, eventSubject(type))).toBe(true);
  });

  it('takes no other event of identity: access never reads the mail events and the link tokens they carry', () => {
    const taken = identityEvents.filter((type) => matches(ACCOUNT_EVENTS, eventSubject(type)));
    expect(taken.sort()).toEqual([Events.AccountClosed, Events.AccountCreated, Events.OwnershipTransferred].sort());
    expect(identityEvents).toEqual(expect.arrayContaining([Events.UserInvited, Events.PasswordResetRequested, Events.EmailChangeRequested]));
  });
});
