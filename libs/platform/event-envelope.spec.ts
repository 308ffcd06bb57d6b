import { readEvent } from './event-envelope.js';

describe('readEvent', () => {
  const message = (body: string) => ({ json: <T>() => JSON.parse(body) as T });
  const good = { id: '0b7e9a52-5f0e-4a53-b3c4-1a2b3c4d5e6f', type: 'identity.user.invited', occurredAt: '', accountId: null, data: {} };

  it.each([
    ['without an account', good],
    ['of an account', { ...good, accountId: '7f0c3d3e-8d5c-4a51-9b8e-3f1f7b0e2a10' }],
  ])('reads a well-formed envelope %s', (_label, body) => {
    expect(readEvent(message(JSON.stringify(body)))).toEqual(body);
  });

  it.each([
    ['not JSON', '{'],
    ['null', 'null'],
    ['an array', JSON.stringify([good])],
    ['a number', '42'],
    ['a string', '"identity.user.invited"'],
    ['no id', JSON.stringify({ ...good, id: undefined })],
    ['an id that is not a string', JSON.stringify({ ...good, id: 42 })],
    ['an id that is not a UUID', JSON.stringify({ ...good, id: 'x' })],
    ['no type', JSON.stringify({ ...good, type: undefined })],
    ['a type that is not a string', JSON.stringify({ ...good, type: ['identity.user.invited'] })],
    ['no account id', JSON.stringify({ ...good, accountId: undefined })],
    ['an account id that is not a UUID', JSON.stringify({ ...good, accountId: 'acme' })],
    ['no data', JSON.stringify({ ...good, data: undefined })],
    ['null data', JSON.stringify({ ...good, data: null })],
    ['data that is not an object', JSON.stringify({ ...good, data: 'x' })],
    ['data that is an array', JSON.stringify({ ...good, data: [] })],
  ])('refuses %s', (_label, body) => {
    expect(readEvent(message(body))).toBeNull();
  });
});
