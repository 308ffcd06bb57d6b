import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';

/** How a process proves who it is to NATS: a user and password, a credentials file, or nothing. */
export interface NatsCredentials {
  user?: string;
  password?: string;
  /** A `.creds` file (user JWT + NKey seed), read again on every (re)connect so that a rotated Secret is picked up. */
  credsFile?: string;
}

/** The connection options that carry `credentials`. */
export function natsAuthOptions(credentials: NatsCredentials): Pick<ConnectionOptions, 'user' | 'pass' | 'authenticator'> {
  const { credsFile } = credentials;
  if (credsFile) return { authenticator: credsAuthenticator(() => readFileSync(credsFile)) };
  return { user: credentials.user, pass: credentials.password };
}

/**
 * The inbox prefix of a process named `name`: its replies (and JetStream's answers) come on
 * `_INBOX.<name>.>`, so a NATS user may be allowed to read its own replies and nobody else's.
 */
export function inboxPrefixOf(name: string): string {
  return `_INBOX.${name}`;
}

/**
 * One NATS connection per process, with its health known at every moment, and what the process
 * knows of the NATS it reaches: how many of its servers keep a copy of the events stream.
 */
export class NatsLink {
  private connected = true;
  private readonly reconnectListeners = new Set<() => void>();
  private readonly disconnectListeners = new Set<() => void>();

  private constructor(
    readonly connection: NatsConnection,
    /** The process's logger, for what is said about NATS (the link's status, the events stream). */
    readonly logger: Logger,
    /** Where this process's replies arrive (see {@link inboxPrefixOf}). */
    readonly inboxPrefix: string,
    /** NATS servers that keep a copy of the events stream (NATS_STREAM_REPLICAS), see `ensureEventsStream`. */
    readonly eventsStreamReplicas: number,
  ) {
    void this.followStatus();
  }

  /**
   * Connects (retrying for ever in the background once connected; failing fast on the first
   * attempt only after `waitMs`). Replies come under {@link inboxPrefixOf} the process's name.
   * `eventsStreamReplicas` defaults to 1 (a single NATS server).
   */
  static async open(
    options: NatsCredentials & { url: string; name: string; logger: Logger; waitMs?: number; eventsStreamReplicas?: number },
  ): Promise<NatsLink> {
    const deadline = Date.now() + (options.waitMs ?? 30_000);
    for (;;) {
      try {
        const connection = await connect({
          servers: options.url.split(','),
          name: options.name,
          ...natsAuthOptions(options),
          inboxPrefix: inboxPrefixOf(options.name),
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          pingInterval: 10_000,
        });
        return new NatsLink(connection, options.logger, inboxPrefixOf(options.name), options.eventsStreamReplicas ?? 1);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        options.logger.warn({ err: (error as Error).message }, 'NATS not reachable yet, retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /** True while the connection is up (not reconnecting, not closed). */
  isUp(): boolean {
    return this.connected && !this.connection.isClosed() && !this.connection.isDraining();
  }

  /** Calls `listener` after every reconnect (something broadcast meanwhile may have been missed). Returns the unsubscribe function. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /** Calls `listener` whenever the connection drops (replies to requests in flight may never come). Returns the unsubscribe function. */
  onDisconnect(listener: () => void): () => void {
    this.disconnectListeners.add(listener);
    return () => this.disconnectListeners.delete(listener);
  }

  /** Closes after flushing what was already published. */
  async close(): Promise<void> {
    if (this.connection.isClosed()) return;
    await this.connection.drain().catch(() => this.connection.close());
  }

  private async followStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        this.logger.warn('NATS disconnected');
        this.disconnectListeners.forEach((listener) => listener());
      } else if (status.type === 'reconnect') {
        this.connected = true;
        this.logger.info('NATS reconnected');
        this.reconnectListeners.forEach((listener) => listener());
      } else if (status.type === 'error') {
        // A permissions violation, say: the server refused one publish or subscription and the connection goes on.
        this.logger.error({ err: status.error.message }, 'NATS refused an operation');
      }
    }
  }
}
