import { collapsedTerm, searchTerm } from './search-term.js';

describe('searchTerm', () => {
  it.each([
    ['ada', 'ada'],
    ['  Ada   Love ', 'Ada Love'],
    ['+44 7700-900', '+447700900'],
    ['(07700) 900.123', '07700900123'],
    ['7700', '7700'],
    ['100%', '100%'],
    ['ab1', 'ab1'],
    ['12 Rue', '12 Rue'],
  ])('%s -> %s', (term, looked) => {
    expect(searchTerm(term)).toBe(looked);
  });
});

describe('collapsedTerm', () => {
  it.each([
    ['  ops   desk ', 'ops desk'],
    ['555-01', '555-01'],
    ['(020) 7946', '(020) 7946'],
  ])('reads %j as %j: spaces collapsed, nothing of a phone number taken away', (term, expected) => {
    expect(collapsedTerm(term)).toBe(expected);
  });
});
