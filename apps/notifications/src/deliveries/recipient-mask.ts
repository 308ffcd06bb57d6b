/**
 * An address inside a text: a local part, quoted (`"ada lovelace"@...`, which the contracts accept)
 * or of any characters an address may have unquoted (RFC 5322 atext and dots, `'` included:
 * jean.d'arc@...), then a domain (where `'` cannot be, so a closing quote ends it). Spaces,
 * brackets, double quotes and separators end either.
 */
const ADDRESS_IN_TEXT = /(?:"[^"\r\n]*"|[^\s@<>()[\]\\,;:"]+)@[^\s@<>()[\]\\,;:"']+/g;

/** `ada@example.com` -> `a***@example.com`: enough to tell mails apart, not enough to learn the address. */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

/** Masks every address inside a text (SMTP errors often quote the recipient); single quotes around one stay. */
export function maskAddressesIn(text: string): string {
  return text.replace(ADDRESS_IN_TEXT, (found) => {
    const quote = /^'*/.exec(found)![0];
    return quote + maskAddress(found.slice(quote.length));
  });
}
