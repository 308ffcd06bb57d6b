import { SecondChanceMap } from './second-chance-map.js';

describe('SecondChanceMap', () => {
  it('pushes out the oldest entry not read since eviction last passed, and says which', () => {
    const evicted: string[] = [];
    const map = new SecondChanceMap<string, number>(3, (key) => evicted.push(key));
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    expect(map.get('a')).toBe(1);
    map.set('d', 4);
    expect(evicted).toEqual(['b']);
    expect([map.has('a'), map.has('b'), map.has('c'), map.has('d')]).toEqual([true, false, true, true]);
    // 'a' had its second chance: unread since, it is now the oldest unread after 'c'.
    map.set('e', 5);
    map.set('f', 6);
    expect(evicted).toEqual(['b', 'c', 'a']);
    expect(map.size).toBe(3);
  });

  it('pushes out the oldest when every entry was read, whatever the order of the reads', () => {
    const evicted: string[] = [];
    const map = new SecondChanceMap<string, number>(3, (key) => evicted.push(key));
    for (const [key, value] of [
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ] as const)
      map.set(key, value);
    // Least recently used would push out c.
    for (const key of ['c', 'b', 'a']) map.get(key);
    map.set('d', 4);
    expect(evicted).toEqual(['a']);
    expect(map.delete('b')).toBe(true);
    expect(evicted).toEqual(['a']);
    expect(map.size).toBe(2);
  });

  it('replaces a value in place: the entry keeps its age', () => {
    const evicted: string[] = [];
    const map = new SecondChanceMap<string, number>(2, (key) => evicted.push(key));
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 10);
    map.set('c', 3);
    expect(evicted).toEqual(['a']);
    expect([map.get('b'), map.get('c')]).toEqual([2, 3]);
  });
});
