/** Identity's services wired as the module wires them, on an {@link IdentityTestDatabase}: for integration tests that go through several services. */
import { Test } from '@nestjs/testing';
import pg from 'pg';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import { Events, type Actor, type EventType, type LinksVoidedData, type PrincipalType } from '#libs/contracts/index.js';
import { Clock, CONFIG, InFlightTracker, LOGGER, ManualClock, NATS_LINK, type NatsLink } from '#libs/platform/index.js';
import { eventually } from '#libs/testing/eventually.js';
import { AccountsService } from '../accounts/accounts.service.js';
import { AuditService } from '../audit/audit.service.js';
import { ActionTokensService } from '../credentials/action-tokens.service.js';
import { EmailChangeService } from '../credentials/email-change.service.js';
import { PasswordHasher, type Argon2 } from '../credentials/password-hasher.js';
import { PasswordResetService } from '../credentials/password-reset.service.js';
import { PasswordsService } from '../credentials/passwords.service.js';
import { ThrottleService } from '../credentials/throttle.service.js';
import { OutboxRelay, OutboxWriter } from '#libs/outbox/index.js';
import { FactorSecrets } from '../mfa/factor-secrets.js';
import { MfaService } from '../mfa/mfa.service.js';
import { AuthService } from '../sessions/auth.service.js';
import { GateBroadcaster } from '../sessions/gate-broadcaster.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { SigningKeysService } from '../sessions/signing-keys.service.js';
import { SubusersService } from '../subusers/subusers.service.js';
import { ServiceAccountKeysService } from '../service-accounts/service-account-keys.service.js';
import { ServiceAccountsService } from '../service-accounts/service-accounts.service.js';
import { TokenExchangeService } from '../service-accounts/token-exchange.service.js';
import { AccountSizes } from '../users/account-sizes.js';
import { UsersService } from '../users/users.service.js';
import { InvitationsService } from '../users/invitations.service.js';
import { IdentityTestDatabase } from './integration-harness-spec.js';
import { Transactions } from './unit-of-work.js';

/** What the services broadcast on plain NATS (to the gateways), in order. */
export type Broadcast = { subject: string; payload: unknown };

/**
 * argon2 that hashes as `fake:<password>` at once, and verifies at once too, except for a password
 * {@link hold}ed: its verification waits until released, as a sign-in queued behind others does.
 */
export class HeldArgon2 implements Argon2 {
  private held = new Map<string, { started: () => void; released: Promise<void> }>();
  private heldHashes = new Map<string, { started: () => void; released: Promise<void> }>();
  /** How many hashes were asked for. */
  hashes = 0;

  async hash(password: string): Promise<string> {
    this.hashes += 1;
    const hold = this.heldHashes.get(password);
    if (hold) {
      this.heldHashes.delete(password);
      hold.started();
      await hold.released;
    }
    return `fake:${password}`;
  }

  async verify(phc: string, password: string): Promise<boolean> {
    const hold = this.held.get(password);
    if (hold) {
      this.held.delete(password);
      hold.started();
      await hold.released;
    }
    return phc === `fake:${password}`;
  }

  /** Holds the next verification of `password`: `started` resolves once it is under way, `release()` lets it finish. */
  hold(password: string): { started: Promise<void>; release: () => void } {
    return holdIn(this.held, password);
  }

  /** Holds the next hash of `password`, as a hash waiting in argon2's queue: `started` once it is asked for, `release()` lets it finish. */
  holdHash(password: string): { started: Promise<void>; release: () => void } {
    return holdIn(this.heldHashes, password);
  }
}

function holdIn(holds: Map<string, { started: () => void; released: Promise<void> }>, password: string): { started: Promise<void>; release: () => void } {
  let started!: () => void;
  let release!: () => void;
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  holds.set(password, { started, released });
  return { started: startedPromise, release };
}

/** The services of one identity replica, on `db`, with a controllable clock and argon2, and NATS broadcasts kept in {@link broadcasts}. */
export class IdentityServices {
  readonly clock = new ManualClock();
  readonly argon2 = new HeldArgon2();
  readonly broadcasts: Broadcast[] = [];
  accounts: AccountsService;
  auth: AuthService;
  users: UsersService;
  invitations: InvitationsService;
  subusers: SubusersService;
  serviceAccounts: ServiceAccountsService;
  serviceAccountKeys: ServiceAccountKeysService;
  tokenExchange: TokenExchangeService;
  passwords: PasswordsService;
  resets: PasswordResetService;
  sessions: SessionsService;
  audit: AuditService;
  tokens: ActionTokensService;
  emailChanges: EmailChangeService;
  mfa: MfaService;
  secrets: FactorSecrets;
  /** The work under way in the background (a self-service reset request's lookup and mail). */
  readonly inFlight = new InFlightTracker();

  constructor(private readonly db: IdentityTestDatabase) {}

  async start(): Promise<void> {
    const link = { connection: { publish: (subject: string, payload: string) => this.broadcasts.push({ subject, payload: JSON.parse(payload) }) } };
    const module = await Test.createTestingModule({
      providers: [
        { provide: DataSource, useValue: this.db.dataSource },
        { provide: Clock, useValue: this.clock },
        { provide: CONFIG, useValue: this.db.config },
        { provide: LOGGER, useValue: pino({ level: 'silent' }) },
        { provide: NATS_LINK, useValue: link as unknown as NatsLink },
        { provide: InFlightTracker, useValue: this.inFlight },
        { provide: PasswordHasher, useValue: new PasswordHasher(8, 100, this.argon2) },
        AccountsService,
        ActionTokensService,
        AuditService,
        AuthService,
        AccountSizes,
        EmailChangeService,
        FactorSecrets,
        GateBroadcaster,
        MfaService,
        OutboxRelay,
        OutboxWriter,
        PasswordResetService,
        PasswordsService,
        SessionsService,
        SigningKeysService,
        SubusersService,
        ServiceAccountsService,
        ServiceAccountKeysService,
        TokenExchangeService,
        ThrottleService,
        Transactions,
        UsersService,
        InvitationsService,
      ],
    }).compile();
    // Only the signing keys need starting; the outbox relay never runs (the events stay in the outbox).
    await module.get(SigningKeysService).onModuleInit();
    this.accounts = module.get(AccountsService);
    this.auth = module.get(AuthService);
    this.users = module.get(UsersService);
    this.invitations = module.get(InvitationsService);
    this.subusers = module.get(SubusersService);
    this.serviceAccounts = module.get(ServiceAccountsService);
    this.serviceAccountKeys = module.get(ServiceAccountKeysService);
    this.tokenExchange = module.get(TokenExchangeService);
    this.passwords = module.get(PasswordsService);
    this.resets = module.get(PasswordResetService);
    this.sessions = module.get(SessionsService);
    this.audit = module.get(AuditService);
    this.tokens = module.get(ActionTokensService);
    this.emailChanges = module.get(EmailChangeService);
    this.mfa = module.get(MfaService);
    this.secrets = module.get(FactorSecrets);
  }

  /** The actor of a session-less call by `principal` (the session id is not checked by these services). */
  actor(type: PrincipalType, id: string): Actor {
    return { type, id, sessionId: '00000000-0000-4000-8000-000000000000' };
  }

  /** The link token of the latest `type` event in the outbox for `principalId`. */
  async lastLinkToken(type: EventType, principalId: string): Promise<string> {
    const rows = await this.db.dataSource.query<Array<{ token: string }>>(
      `SELECT payload->'data'->>'token' AS token FROM outbox
        WHERE type = $1 AND $2 IN (payload->'data'->>'userId', payload->'data'->>'subuserId', payload->'data'->>'principalId')
        ORDER BY created_at DESC LIMIT 1`,
      [type, principalId],
    );
    if (rows.length === 0) throw new Error(`No ${type} event for ${principalId}`);
    return rows[0].token;
  }

  /** Every link hash named by an `identity.links.voided` event in the outbox. */
  async voidedLinkHashes(): Promise<Set<string>> {
    const rows = await this.db.dataSource.query<Array<{ payload: { data: LinksVoidedData } }>>(`SELECT payload FROM outbox WHERE type = $1`, [
      Events.LinksVoided,
    ]);
    return new Set(rows.flatMap((row) => row.payload.data.tokenHashes));
  }

  /** How many sessions of `principalId` are open. */
  async openSessions(principalId: string): Promise<number> {
    const [{ count }] = await this.db.dataSource.query<Array<{ count: number }>>(
      `SELECT count(*)::int AS count FROM sessions WHERE principal_id = $1 AND revoked_at IS NULL`,
      [principalId],
    );
    return count;
  }
}

/**
 * A connection of its own to the test database: to hold a lock in a transaction (so that another
 * change stops, uncommitted, where it needs it) and to see how many others wait for locks.
 */
export class SideConnection {
  private readonly client: pg.Client;

  constructor(db: IdentityTestDatabase) {
    this.client = new pg.Client({ connectionString: db.database.url });
  }

  async open(): Promise<void> {
    await this.client.connect();
    await this.client.query('SET search_path = identity, public');
  }

  async close(): Promise<void> {
    await this.client.end();
  }

  /** Opens a transaction that runs `lockSql` and keeps its locks until {@link release}. */
  async hold(lockSql: string, parameters: unknown[] = []): Promise<void> {
    await this.client.query('BEGIN');
    await this.client.query(lockSql, parameters);
  }

  /** Keeps every other transaction from writing to the outbox: a change then waits, uncommitted, just before its events. */
  holdOutbox(): Promise<void> {
    return this.hold('LOCK TABLE outbox IN EXCLUSIVE MODE');
  }

  /** Runs one more statement in the transaction of {@link hold}. */
  async run(sql: string, parameters: unknown[] = []): Promise<void> {
    await this.client.query(sql, parameters);
  }

  /** Ends the transaction of {@link hold} (rolled back), freeing its locks. */
  async release(): Promise<void> {
    await this.client.query('ROLLBACK');
  }

  /** Ends the transaction of {@link hold} by committing what it did (a change that lands while others wait for it). */
  async commit(): Promise<void> {
    await this.client.query('COMMIT');
  }

  /**
   * Starts `first`, then `second`, each once it waits for the lock `lockSql` takes (held here
   * meanwhile), then frees it: PostgreSQL hands it to them in that order. Their outcomes.
   */
  async queueBehind(lockSql: string, parameters: unknown[], first: () => Promise<unknown>, second: () => Promise<unknown>) {
    await this.hold(lockSql, parameters);
    const started: Array<Promise<unknown>> = [];
    try {
      started.push(first());
      await this.untilWaiting(1);
      started.push(second());
      await this.untilWaiting(2);
    } catch (error) {
      // A flow that did not wait as expected: freed, and ended before the test ends.
      await this.release();
      await Promise.allSettled(started);
      throw error;
    }
    await this.release();
    return Promise.allSettled(started);
  }

  /** Ends the session that waits for a lock in a statement containing `text` (its transaction rolls back), as a replica that died. */
  async terminateWaiting(text: string): Promise<void> {
    await this.client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await this.client.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND strpos(query, $1) > 0`,
      [text],
    );
    if (rows.length !== 1 || !rows[0].ended) throw new Error(`Not one session waiting in a statement with ${text}: ${rows.length}`);
  }

  /** Waits until exactly `count` other sessions of the database wait for a lock. */
  async untilWaiting(count: number): Promise<void> {
    await eventually(`${count} sessions waiting for a lock`, async () => (await this.waitingOnLocks()) === count, 5000, 10);
  }

  private async waitingOnLocks(): Promise<number> {
    // Inside a transaction, pg_stat_activity is read once and kept: read it afresh.
    await this.client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await this.client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    return rows[0].n;
  }
}

/**
 * A fresh identity database (of LC_CTYPE `ctype`, if given) and its services for the tests of the
 * file or `describe` block that calls this: started before them, dropped after.
 */
export function freshIdentityServices(ctype?: string, env: Record<string, string> = {}): { db: IdentityTestDatabase; services: IdentityServices } {
  const db = new IdentityTestDatabase(ctype);
  const services = new IdentityServices(db);
  beforeAll(async () => {
    await db.start(env);
    await services.start();
  });
  afterAll(() => db.stop());
  return { db, services };
}
