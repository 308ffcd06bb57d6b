import { parse } from 'node:querystring';
import { rememberingQueryParser } from './query-parser.js';

describe('the remembering query parser', () => {
  it('parses as querystring.parse does, seen before or not', () => {
    const parser = rememberingQueryParser();
    for (const query of ['applicationId=a1&sort=name', 'tag=x&tag=y', 'q=%C3%A9l%C3%A8ve+x', '', 'a']) {
      expect(parser(query)).toEqual(parse(query));
      expect(parser(query)).toEqual(parse(query));
    }
    expect(parser(undefined)).toEqual({});
    expect(parser(null)).toEqual({});
  });

  it('gives each call its own copy: what one request does to its query never reaches the next', () => {
    const parser = rememberingQueryParser();
    const first = parser('tag=x&tag=y&sort=name');
    first.sort = 'email';
    (first.tag as string[]).push('z');
    expect(parser('tag=x&tag=y&sort=name')).toEqual({ tag: ['x', 'y'], sort: 'name' });
  });

  it('keeps at most its limit of distinct queries, still answering right past it', () => {
    const parser = rememberingQueryParser(2);
    for (let i = 0; i < 5; i += 1) {
      expect(parser(`page=${i}`)).toEqual({ page: String(i) });
      expect(parser.remembered()).toBeLessThanOrEqual(2);
    }
    expect(parser('page=0')).toEqual({ page: '0' });
    expect(parser.remembered()).toBeGreaterThan(0);
  });

  it('does not keep the parse of a long query string (nobody can pin much memory with many of them)', () => {
    const parser = rememberingQueryParser();
    const long = Array.from({ length: 300 }, (_, i) => `k${i}=v`).join('&');
    expect(parser(long)).toEqual(parse(long));
    expect(parser.remembered()).toBe(0);
  });
});
