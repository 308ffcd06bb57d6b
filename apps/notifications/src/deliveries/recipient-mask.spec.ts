import { maskAddress, maskAddressesIn } from './recipient-mask.js';

describe('maskAddress', () => {
  it.each([
    ['ada@example.com', 'a***@example.com'],
    ['a@example.com', 'a***@example.com'],
    ['first.last+tag@sub.example.org', 'f***@sub.example.org'],
    ['', '***'],
    ['not-an-address', '***'],
    ['@example.com', '***'],
  ])('%s -> %s', (address, masked) => {
    expect(maskAddress(address)).toBe(masked);
  });
});

describe('maskAddressesIn', () => {
  it('masks the addresses an SMTP error quotes', () => {
    expect(maskAddressesIn('550 5.1.1 <ada@example.com>: Recipient address rejected')).toBe('550 5.1.1 <a***@example.com>: Recipient address rejected');
  });

  it.each([
    [
      'with an apostrophe in it',
      "550 5.1.1 <jean.dupont'secret@example.com>: Recipient address rejected",
      '550 5.1.1 <j***@example.com>: Recipient address rejected',
    ],
    ['with the other characters an address may have', "550 <o'brien!#$%&*+/=?^_`{|}~-x@example.com> unknown", '550 <o***@example.com> unknown'],
    ['between single quotes', "550 'ada@example.com' unknown", "550 'a***@example.com' unknown"],
    [
      'with a quoted local part',
      '550 5.1.1 <"ada lovelace"@example.com>: Recipient address rejected',
      '550 5.1.1 <"***@example.com>: Recipient address rejected',
    ],
  ])('masks an address %s', (_label, text, masked) => {
    expect(maskAddressesIn(text)).toBe(masked);
  });

  it('leaves text without addresses as it is', () => {
    expect(maskAddressesIn('connect ECONNREFUSED 127.0.0.1:25')).toBe('connect ECONNREFUSED 127.0.0.1:25');
  });
});
