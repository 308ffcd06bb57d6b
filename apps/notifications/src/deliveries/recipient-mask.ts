const ADDRESS_IN_TEXT = /[^\s@<>()[\]\\,;:"']+@[^\s@<>()[\]\\,;:"']+/g;

/** `ada@example.com` -> `a***@example.com`: enough to tell mails apart, not enough to learn the address. */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

/** Masks every address inside a text (SMTP errors often quote the recipient). */
export function maskAddressesIn(text: string): string {
  return text.replace(ADDRESS_IN_TEXT, (address) => maskAddress(address));
}
