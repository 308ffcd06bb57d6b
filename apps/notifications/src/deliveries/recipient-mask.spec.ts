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

  it('leaves text without addresses as it is', () => {
    expect(maskAddressesIn('connect ECONNREFUSED 127.0.0.1:25')).toBe('connect ECONNREFUSED 127.0.0.1:25');
  });
});
