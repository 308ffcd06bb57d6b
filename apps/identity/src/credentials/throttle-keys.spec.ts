import { addressKey, passwordCheckKeys, resetAddressKey, signUpAddressKey, subuserSignInKeys, userSignInKeys } from './throttle-keys.js';

describe('addressKey: the counter of a client address', () => {
  it.each([
    ['an IPv4 address, as is', '192.0.2.7', '192.0.2.7'],
    ['an IPv6 address, by its /64', '2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['another address of the same /64, the same', '2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['the next /64, another', '2001:db8:1:3::1', '2001:db8:1:3::/64'],
    ['upper case and leading zeros, as the canonical form', '2001:0DB8:0001:0002::1', '2001:db8:1:2::/64'],
    ['a compressed prefix, expanded', '2001:db8::1', '2001:db8:0:0::/64'],
    ['the loopback', '::1', '0:0:0:0::/64'],
    ['a zone, dropped', 'fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['an IPv4-mapped address, as its IPv4 address', '::ffff:192.0.2.7', '192.0.2.7'],
    ['an IPv4-mapped address in hex, as its IPv4 address', '::FFFF:c000:0207', '192.0.2.7'],
    ['an IPv4-mapped address written out, as its IPv4 address', '0:0:0:0:0:ffff:192.0.2.7', '192.0.2.7'],
    ['an IPv4-embedded address of another prefix, by its /64', '64:ff9b::192.0.2.7', '64:ff9b:0:0::/64'],
    ['something that is not an address, as is', 'unknown', 'unknown'],
  ])('keys %s', (_case, ip, key) => {
    expect(addressKey(ip)).toBe(key);
  });
});

describe('every per-address counter', () => {
  const a = '2001:db8:1:2::a';
  const b = '2001:db8:1:2:ffff::b';
  const addressCounters = (ip: string) =>
    [
      ...userSignInKeys('ada@example.test', ip),
      ...subuserSignInKeys('acme', 'bot', ip),
      ...passwordCheckKeys({ type: 'user', id: 'p1', email: 'ada@example.test' }, ip),
      resetAddressKey(ip),
      signUpAddressKey(ip, 5),
    ]
      .filter((key) => key.kind === 'address')
      .map((key) => key.key);

  it('charges two addresses of one IPv6 /64 to the same counters (sign-in, password check, reset request, sign-up)', () => {
    expect(addressCounters(a)).toHaveLength(5);
    expect(addressCounters(b)).toEqual(addressCounters(a));
  });

  it('charges an IPv4 client the same whether the socket shows it mapped or not', () => {
    expect(addressCounters('::ffff:198.51.100.4')).toEqual(addressCounters('198.51.100.4'));
  });
});

describe('a check of the current password', () => {
  it("counts as a sign-in of the principal and of the login it signs in with: a person's e-mail, a subuser's account and login", () => {
    const ip = '198.51.100.7';
    expect(passwordCheckKeys({ type: 'user', id: 'p1', email: 'Ada@Example.test' }, ip).map((key) => key.key)).toEqual([
      'signin:principal:p1',
      userSignInKeys('ada@example.test', ip)[0].key,
      `signin:ip:${addressKey(ip)}`,
    ]);
    expect(passwordCheckKeys({ type: 'subuser', id: 's1', accountSlug: 'acme', login: 'desk' }, ip).map((key) => key.key)).toEqual([
      'signin:principal:s1',
      subuserSignInKeys('acme', 'desk', ip)[0].key,
      `signin:ip:${addressKey(ip)}`,
    ]);
  });
});
