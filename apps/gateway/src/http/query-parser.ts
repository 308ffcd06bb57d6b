import { parse, type ParsedUrlQuery } from 'node:querystring';

/** How many distinct query strings {@link rememberingQueryParser} keeps the parse of. */
export const REMEMBERED_QUERIES = 1024;

/** The longest query string whose parse is kept (longer ones are parsed each time): at most ~1 MB held in all. */
export const REMEMBERED_QUERY_LENGTH = 1024;

/** A query parser for Express (`app.set('query parser', ...)`) that says how many parses it holds. */
export type QueryParser = ((query: string | null | undefined) => ParsedUrlQuery) & { remembered(): number };

/**
 * Express's `simple` query parser (`querystring.parse`), remembering the parse of the query
 * strings it saw last: a panel asks the same few (`?applicationId=...`) on every page, and
 * parsing costs more than a lookup. Each call gets its own copy (arrays too), so what one request
 * does with its query never reaches another. Bounded: only short query strings are kept, and when
 * full, it starts again from empty.
 */
export function rememberingQueryParser(limit = REMEMBERED_QUERIES): QueryParser {
  const parsed = new Map<string, ParsedUrlQuery>();
  const parser = (query: string | null | undefined): ParsedUrlQuery => {
    const text = query ?? '';
    if (text.length > REMEMBERED_QUERY_LENGTH) return parse(text);
    let known = parsed.get(text);
    if (!known) {
      if (parsed.size >= limit) parsed.clear();
      known = parse(text);
      parsed.set(text, known);
    }
    return copyOf(known);
  };
  return Object.assign(parser, { remembered: () => parsed.size });
}

function copyOf(query: ParsedUrlQuery): ParsedUrlQuery {
  const copy: ParsedUrlQuery = Object.create(null) as ParsedUrlQuery;
  for (const key in query) {
    const value = query[key];
    copy[key] = Array.isArray(value) ? [...value] : value;
  }
  return copy;
}
