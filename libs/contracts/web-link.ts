/**
 * A page of the web panel: `base` (PUBLIC_WEB_URL) + `path`, keeping the base's own path (a panel
 * served under `/app` gets `/app/activate`), with `?token=` when a token is given. Every link
 * Portico hands out, in mails and in answers, is built here.
 */
export function webLink(base: string, path: string, token?: string): string {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  url.search = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
  url.hash = '';
  return url.toString();
}
