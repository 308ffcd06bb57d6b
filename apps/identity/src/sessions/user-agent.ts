import { MAX_USER_AGENT_LENGTH } from '#libs/contracts/index.js';

/** Where a sign-in or a refresh came from, as identity keeps it. */
export interface SignInClient {
  ip: string;
  /** See {@link storedUserAgent}. */
  userAgent: string | null;
  /** `{ userAgent }` for the details of the sign-in's audit event; undefined when the client sent none. */
  auditDetails: { userAgent: string } | undefined;
}

/** The {@link SignInClient} of a request: its address, and the User-Agent the gateway passed on with it (USER_AGENT_HEADER). */
export function signInClientOf(ip: string, userAgent: string | undefined): SignInClient {
  const stored = storedUserAgent(userAgent);
  return { ip, userAgent: stored, auditDetails: stored === null ? undefined : { userAgent: stored } };
}

/**
 * A User-Agent as a session keeps it: control characters (of any script: C0, DEL, C1) and runs of
 * white space become one space, the ends are trimmed, and it is cut to
 * {@link MAX_USER_AGENT_LENGTH} characters (code points: half of a surrogate pair is no text, and
 * PostgreSQL would refuse it in the audit event's jsonb); null when nothing is left. The gateway
 * cleans it too, but any NATS client may send the header. It is the client's to choose, so it is
 * shown as it was sent, never trusted.
 */
export function storedUserAgent(header: string | undefined): string | null {
  if (header === undefined) return null;
  const text = Array.from(header.replace(/[\p{Cc}\s]+/gu, ' ').trim())
    .slice(0, MAX_USER_AGENT_LENGTH)
    .join('')
    .trim();
  return text === '' ? null : text;
}

/** A browser or program a User-Agent may name: its name, and the pattern that finds its (major) version. */
interface KnownClient {
  name: string;
  version: RegExp;
}

/**
 * Tried in order: browsers built on another name that one too (Edge, Opera and Samsung Internet say
 * "Chrome", Chrome says "Safari"), so the more particular ones come first.
 */
const CLIENTS: KnownClient[] = [
  { name: 'Edge', version: /\bEdg(?:e|A|iOS)?\/(\d+)/ },
  { name: 'Opera', version: /\b(?:OPR|OPT|Opera)\/(\d+)/ },
  { name: 'Samsung Internet', version: /\bSamsungBrowser\/(\d+)/ },
  { name: 'Firefox', version: /\b(?:Firefox|FxiOS)\/(\d+)/ },
  { name: 'Chromium', version: /\bChromium\/(\d+)/ },
  { name: 'Chrome', version: /\b(?:Chrome|CriOS)\/(\d+)/ },
  { name: 'Safari', version: /\bVersion\/(\d+)(?:\.\d+)*(?: Mobile\/\w+)? Safari\// },
  { name: 'curl', version: /^curl\/(\d+\.\d+)/ },
  { name: 'Wget', version: /^Wget\/(\d+\.\d+)/ },
  { name: 'Postman', version: /^PostmanRuntime\/(\d+\.\d+)/ },
  { name: 'Python requests', version: /^python-requests\/(\d+\.\d+)/ },
  { name: 'OkHttp', version: /^okhttp\/(\d+\.\d+)/ },
  { name: 'Go', version: /^Go-http-client\/(\d+\.\d+)/ },
  { name: 'Node.js', version: /^(?:node|undici)(?:\/(\d+))?$/ },
];

/** Operating systems, tried in order (an iPhone says "like Mac OS X", Android says "Linux"). */
const SYSTEMS: Array<{ name: string; pattern: RegExp }> = [
  { name: 'iPhone', pattern: /\biPhone\b/ },
  { name: 'iPad', pattern: /\biPad\b/ },
  { name: 'Android', pattern: /\bAndroid\b/ },
  { name: 'Windows', pattern: /\bWindows\b/ },
  { name: 'ChromeOS', pattern: /\bCrOS\b/ },
  { name: 'macOS', pattern: /\b(?:Macintosh|Mac OS X)\b/ },
  { name: 'Linux', pattern: /\bLinux\b/ },
];

/**
 * A few words for a person to recognise a session by, from its User-Agent: "Firefox 133 on Linux",
 * "Safari 17 on iPhone", "curl 8.5"; the system alone when the browser is unknown; null when it
 * names nothing known (the raw User-Agent is beside it for that).
 */
export function deviceOf(userAgent: string | null): string | null {
  if (userAgent === null) return null;
  const client = clientOf(userAgent);
  const system = SYSTEMS.find(({ pattern }) => pattern.test(userAgent))?.name;
  if (client && system) return `${client} on ${system}`;
  return client ?? system ?? null;
}

function clientOf(userAgent: string): string | null {
  for (const { name, version } of CLIENTS) {
    const match = version.exec(userAgent);
    if (match) return match[1] ? `${name} ${match[1]}` : name;
  }
  return null;
}
