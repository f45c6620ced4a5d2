/** What every self-service command works with. */
import type { Db, Queryable, SecretBox } from '../../platform/index.ts';
import type { Logouts } from '../oidc/revoke.ts';
import type { MailKind } from './mail.ts';

export interface SelfServiceContext {
  db: Db;
  box: SecretBox;
  /** The client's address, for the audit trail and the limits. */
  ip: string;
  /**
   * Sends a mail to the account in the transaction `tx` (a job in the outbox), or, when mail is
   * off, stores nothing and only warns.
   */
  mail(tx: Queryable, kind: MailKind, accountId: string): Promise<void>;
  /**
   * Tells the services of sessions a committed change ended, by back-channel logout; a delivery
   * that fails is logged, never thrown.
   */
  logout(logouts: Logouts): Promise<void>;
}

/** Refused for now; the page says when to try again. */
export interface Limited {
  outcome: 'limited';
  retryAfterSeconds: number;
}
