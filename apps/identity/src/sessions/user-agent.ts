import { cleanUserAgent } from '#libs/platform/index.js';

/** Where a sign-in or a refresh came from, as identity keeps it. */
export interface SignInClient {
  ip: string;
  /** See {@link storedUserAgent}. */
  userAgent: string | null;
}

/** The {@link SignInClient} of a request: its address, and the User-Agent the gateway passed on with it (USER_AGENT_HEADER). */
export function signInClientOf(ip: string, userAgent: string | undefined): SignInClient {
  return { ip, userAgent: storedUserAgent(userAgent) };
}

/** `{ userAgent }` for the details of a sign-in's audit event; undefined when the client sent none. */
export function userAgentDetails({ userAgent }: SignInClient): { userAgent: string } | undefined {
  return userAgent === null ? undefined : { userAgent };
}

/** A User-Agent as a session keeps it: cleaned as the gateway cleans it (any NATS client may send the header); null when none is left. */
export function storedUserAgent(header: string | undefined): string | null {
  return cleanUserAgent(header) ?? null;
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
  // Its number is the HTTP version (1.1 or 2.0), not Go's.
  { name: 'Go HTTP client', version: /^Go-http-client\// },
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
