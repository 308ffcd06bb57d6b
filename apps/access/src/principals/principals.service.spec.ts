import { isActivityData, isIsoInstant } from './principals.service.js';

const change = {
  principalType: 'subuser',
  principalId: '00000000-0000-4000-8000-000000000002',
  active: false,
  changedAt: '2026-03-01T10:00:00.123456Z',
};
const valid = { accountId: '00000000-0000-4000-8000-00000000000a', changes: [change] };
const withChange = (changed: Record<string, unknown>) => ({ ...valid, changes: [change, { ...change, ...changed }] });

describe('an activity event access applies', () => {
  it('is one with an account and changes, each of a principal of a known type, with an active flag and a time', () => {
    expect(isActivityData(valid as never)).toBe(true);
    expect(isActivityData(withChange({ principalType: 'user', principalId: '00000000-0000-4000-8000-000000000003', active: true }) as never)).toBe(true);
  });

  it.each([
    ['no data', null],
    ['an account id that is not a UUID', { ...valid, accountId: 'acme' }],
    ['no changes', { ...valid, changes: [] }],
    ['changes that are not a list', { ...valid, changes: change }],
    ['the shape of one change (no list)', { accountId: valid.accountId, ...change }],
    ['a change that is nothing', { ...valid, changes: [change, null] }],
    ['an unknown type of principal', withChange({ principalType: 'robot' })],
    ['a principal id that is not a UUID', withChange({ principalId: 42 })],
    ['an active flag that is not a boolean', withChange({ active: 'false' })],
    ['no time', withChange({ changedAt: undefined })],
    ['a time that is not one', withChange({ changedAt: 'yesterday' })],
    ['a time with an offset', withChange({ changedAt: '2026-03-01T10:00:00.123456+02:00' })],
  ])('is not one with %s', (_what, data) => {
    expect(isActivityData(data as never)).toBe(false);
  });
});

describe('an instant in an activity event', () => {
  it.each(['2026-03-01T10:00:00Z', '2026-03-01T10:00:00.1Z', '2026-03-01T10:00:00.123456Z', '2028-02-29T23:59:59.999999Z'])('may be %s', (value) => {
    expect(isIsoInstant(value)).toBe(true);
  });

  it.each([
    '2026-03-01',
    '2026-03-01 10:00:00Z',
    '2026-03-01T10:00:00',
    '2026-03-01T10:00:00.1234567Z',
    '2026-03-01T10:00:00+00:00',
    '2026-02-30T10:00:00Z',
    '2026-03-01T24:00:00Z',
    '2026-13-01T10:00:00Z',
    ' 2026-03-01T10:00:00Z',
    1772359200000,
  ])('is not %s', (value) => {
    expect(isIsoInstant(value)).toBe(false);
  });
});
