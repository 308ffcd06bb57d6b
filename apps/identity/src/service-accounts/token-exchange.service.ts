import { Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import type { ClientCredentialsRequest, ClientCredentialsTokenView, Principal } from '#libs/contracts/index.js';
import { INVALID_CLIENT, UUID_PATTERN } from '#libs/contracts/index.js';
import { DomainError, ErrorCode } from '#libs/errors/index.js';
import { Clock, LOGGER } from '#libs/platform/index.js';
import { AuditService } from '../audit/audit.service.js';
import { hashSecretToken } from '../credentials/secret-token.js';
import { signInAddressKey, tooManyAttempts } from '../credentials/throttle-keys.js';
import { ThrottleService, type ThrottleKey } from '../credentials/throttle.service.js';
import { Transactions } from '../database/unit-of-work.js';
import { SessionsService } from '../sessions/sessions.service.js';
import { serviceAccountPrincipal } from './service-accounts.service.js';

/** A key as an exchange finds it, with its service account (both locked until the exchange commits). */
interface PresentedKey {
  id: string;
  secret_hash: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  service_account_id: string;
  account_id: string;
  active: boolean;
}

/** Why an exchange was refused (the audit trail's `details.reason`; the client always hears the same 401). */
type ExchangeRefusal = 'wrong-secret' | 'revoked' | 'expired' | 'inactive' | 'throttled';

/** A refusal found in the exchange's transaction, recorded once it has rolled back. */
class Refused extends Error {
  constructor(
    readonly reason: ExchangeRefusal,
    readonly key: PresentedKey,
  ) {
    super(reason);
  }
}

/**
 * The OAuth 2.0 client-credentials grant: a service account's key id and secret for a short-lived
 * access token. An unknown id, a wrong secret, a revoked or expired key, an inactive or deleted
 * service account: one identical 401. Every attempt is charged to its client address's throttling
 * counter first (as a sign-in's is; a success takes it back); every token issued or refused is
 * audited in the service account's account (an unknown id: a log line).
 */
@Injectable()
export class TokenExchangeService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly sessions: SessionsService,
    private readonly throttle: ThrottleService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async exchange({ clientId, clientSecret, client }: ClientCredentialsRequest): Promise<ClientCredentialsTokenView> {
    const keys = exchangeKeys(client.ip);
    const verdict = await this.throttle.reserve(keys);
    const keyId = clientId.toLowerCase();
    if (!verdict.allowed) {
      const key = await findKey(this.dataSource.manager, keyId, '');
      if (key) await this.record(null, 'service-account.token-refused', key, client.ip, { keyId: key.id, reason: 'throttled' });
      else this.logger.info({ ip: client.ip, action: 'service-account.token-refused', reason: 'throttled' }, 'Token exchange throttled');
      throw tooManyAttempts(verdict.retryAfterMs);
    }
    try {
      const issued = await this.transactions.run(async (unit) => {
        const key = await findKey(unit.manager, keyId, LOCKED);
        if (!key) return null;
        const refusal = this.refusalOf(key, clientSecret);
        if (refusal) throw new Refused(refusal, key);
        await unit.manager.query('UPDATE service_account_keys SET last_used_at = $1 WHERE id = $2', [this.clock.now(), key.id]);
        const token = await this.sessions.issueForServiceAccount(unit, {
          serviceAccount: serviceAccountPrincipal(key.service_account_id),
          accountId: key.account_id,
          keyId: key.id,
          keyExpiresAt: key.expires_at,
          ip: client.ip,
        });
        await this.record(unit.manager, 'service-account.token-issued', key, client.ip, { keyId: key.id });
        return token;
      });
      if (!issued) {
        this.logger.info(
          { ip: client.ip, action: 'service-account.token-refused', reason: 'unknown-client' },
          'Token exchange refused for an unknown client id',
        );
        throw invalidClient();
      }
      await this.throttle.succeeded(keys);
      return { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn };
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      await this.record(null, 'service-account.token-refused', error.key, client.ip, { keyId: error.key.id, reason: error.reason });
      throw invalidClient();
    }
  }

  /** Why the key may not be exchanged now with `secret`, or null. The hashes are compared in constant time. */
  private refusalOf(key: PresentedKey, secret: string): ExchangeRefusal | null {
    const presented = Buffer.from(hashSecretToken(secret), 'hex');
    if (!timingSafeEqual(presented, Buffer.from(key.secret_hash, 'hex'))) return 'wrong-secret';
    if (key.revoked_at) return 'revoked';
    if (key.expires_at && key.expires_at.getTime() <= this.clock.now().getTime()) return 'expired';
    if (!key.active) return 'inactive';
    return null;
  }

  private record(
    manager: EntityManager | null,
    action: 'service-account.token-issued' | 'service-account.token-refused',
    key: PresentedKey,
    ip: string,
    details: Record<string, string>,
  ) {
    const serviceAccount: Principal = serviceAccountPrincipal(key.service_account_id);
    return this.audit.record(manager, { accountIds: [key.account_id], action, actor: serviceAccount, target: serviceAccount, ip, details });
  }
}

/**
 * How an exchange locks the key it found and its service account until it commits: a revocation,
 * a deactivation or a deletion under way either committed first (and is seen) or waits, and then
 * ends the token this exchange issues too. The key is locked for update (the exchange writes its
 * last use); the service account shared (exchanges of its other keys go on together).
 */
const LOCKED = ' FOR NO KEY UPDATE OF k FOR SHARE OF s';

/** The key `keyId` and its service account (`lock`: {@link LOCKED}, or '' to read only); null for an id that names none. */
async function findKey(manager: EntityManager, keyId: string, lock: string): Promise<PresentedKey | null> {
  if (!UUID_PATTERN.test(keyId)) return null;
  const rows: PresentedKey[] = await manager.query(
    `SELECT k.id, k.secret_hash, k.expires_at, k.revoked_at, k.service_account_id, s.account_id, s.active
       FROM service_account_keys k JOIN service_accounts s ON s.id = k.service_account_id
      WHERE k.id = $1${lock}`,
    [keyId],
  );
  return rows[0] ?? null;
}

/** The counter an exchange is charged to: its client address, as a sign-in's (a key's 256-bit secret needs no counter of its own). */
function exchangeKeys(ip: string): ThrottleKey[] {
  return [signInAddressKey(ip)];
}

function invalidClient(): DomainError {
  return new DomainError(ErrorCode.InvalidCredentials, INVALID_CLIENT);
}
