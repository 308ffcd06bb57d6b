import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A mail as received. */
export interface CaughtMail {
  id: number;
  receivedAt: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  links: string[];
  messageId: string;
}

/**
 * A real SMTP server that keeps what it receives: the mail catcher of `npm start` (with a page
 * listing mails and their links) and the SMTP server of the whole-system tests.
 */
export class MailCatcher {
  readonly mails: CaughtMail[] = [];
  private smtp: SMTPServer | undefined;
  private http: HttpServer | undefined;
  private listeners: Array<() => void> = [];
  /** When set, every mail is refused with this SMTP code (to test failures). */
  refuseWith: number | undefined;
  /** The SMTP port once started (kept after {@link stop}, so that `start()` comes back on it). */
  port = 0;

  /** Starts the SMTP server (port 0: any free port; by default the port it had before a stop) and returns its port. */
  async start(port = this.port, host = '127.0.0.1'): Promise<number> {
    this.smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // A stop cuts open connections (as a server going down would) instead of waiting 30 s for clients to leave.
      closeTimeout: 200,
      onData: (stream, _session, callback) => {
        if (this.refuseWith) {
          stream.resume();
          const error = Object.assign(new Error('Refused by the test'), { responseCode: this.refuseWith });
          return callback(error);
        }
        simpleParser(stream)
          .then(
            (parsed) => this.keep(parsed),
            () => undefined,
          )
          .finally(() => callback());
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.smtp!.once('error', reject);
      this.smtp!.listen(port, host, () => resolve());
    });
    // Once listening, a client that dies mid-session (a killed service) surfaces as an 'error' on the server: not ours to crash on.
    this.smtp.on('error', () => undefined);
    this.port = (this.smtp.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Serves a page listing the mails with clickable links, and `/mails.json`. Returns the port. */
  async serveWeb(port = 0, host = '127.0.0.1'): Promise<number> {
    this.http = createHttpServer((request, response) => {
      if (request.url === '/mails.json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        return response.end(JSON.stringify(this.mails));
      }
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(renderPage(this.mails));
    });
    await new Promise<void>((resolve) => this.http!.listen(port, host, resolve));
    return (this.http.address() as AddressInfo).port;
  }

  /** Waits until a mail matching `predicate` arrives (or `timeoutMs` passes). */
  async waitFor(predicate: (mail: CaughtMail) => boolean, timeoutMs = 30_000): Promise<CaughtMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.mails.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `No matching mail within ${timeoutMs} ms (got ${this.mails.length}: ${this.mails.map((m) => `${m.to.join(',')} "${m.subject}"`).join('; ')})`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.listeners.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Mails sent to `address`. */
  to(address: string): CaughtMail[] {
    return this.mails.filter((mail) => mail.to.includes(address.toLowerCase()));
  }

  /** Mails received with each Message-ID (a count above 1 is a duplicate). */
  countsByMessageId(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const mail of this.mails) counts.set(mail.messageId, (counts.get(mail.messageId) ?? 0) + 1);
    return counts;
  }

  /** Stops listening and cuts the connections open; `start()` brings it back on the same port. */
  async stop(): Promise<void> {
    const smtp = this.smtp;
    const http = this.http;
    this.smtp = undefined;
    this.http = undefined;
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
  }

  private keep(parsed: Awaited<ReturnType<typeof simpleParser>>): void {
    const text = parsed.text ?? '';
    const to = (Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : []).flatMap((address) =>
      address.value.map((v) => (v.address ?? '').toLowerCase()),
    );
    this.mails.push({
      id: this.mails.length + 1,
      receivedAt: new Date().toISOString(),
      from: parsed.from?.text ?? '',
      to,
      subject: parsed.subject ?? '',
      text,
      html: typeof parsed.html === 'string' ? parsed.html : '',
      links: linksIn(text),
      messageId: parsed.messageId ?? '',
    });
    this.listeners.splice(0).forEach((wake) => wake());
  }
}

function escape(value: string): string {
  return value.replace(/[&<>"]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char] ?? char);
}

function renderPage(mails: CaughtMail[]): string {
  const rows = [...mails]
    .reverse()
    .map(
      (mail) =>
        `<article><h3>${escape(mail.subject)}</h3><p><small>${escape(mail.receivedAt)} · to ${escape(mail.to.join(', '))}</small></p>` +
        `<ul>${mail.links.map((link) => `<li><a href="${escape(link)}">${escape(link)}</a></li>`).join('')}</ul><pre>${escape(mail.text)}</pre></article>`,
    )
    .join('<hr>');
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>Portico mail catcher</title></head><body style="font-family:sans-serif;max-width:60em;margin:auto"><h1>Portico mail catcher</h1><p>${mails.length} mail(s). Refreshes every 5 s. JSON: <a href="/mails.json">/mails.json</a></p>${rows || '<p>No mail yet.</p>'}</body></html>`;
}

/**
 * The links of a mail's text, each once: up to white space or a bracket, without the punctuation
 * that ends the sentence around it (`(https://.../reset-password),` gives `https://.../reset-password`).
 */
export function linksIn(text: string): string[] {
  const links = (text.match(/https?:\/\/[^\s<>"]+/g) ?? []).map((link) => link.replace(/[).,;:!?'\]]+$/, ''));
  return [...new Set(links)];
}
