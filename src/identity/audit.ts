/**
 * The audit trail of identity: logins, consents, keys and factors, for the operator and for the
 * resident's own history. A secret must never reach it, so every detail is inspected before it is
 * written and one that carries a secret-looking key (or a PEM block, or a JWT) is refused.
 */
import { InternalError, type Queryable } from '../platform/index.ts';

const AUDIT_KINDS = [
  'login',
  'login-failed',
  'step-up',
  'logout',
  'consent-granted',
  'consent-revoked',
  'key-rotated',
  'account-created',
  'account-deleted',
  'email-verified',
  'municipality-changed',
  'password-reset',
  'totp-enrolled',
  'totp-removed',
  'passkey-registered',
  'passkey-removed',
  'card-bound',
  'locked-out',
  'upstream-linked',
  'client-registered',
  'staff-roles-changed',
  'service-request-declared',
  'purpose-defined',
] as const;
type AuditKind = (typeof AUDIT_KINDS)[number];
type AuditOutcome = 'success' | 'failure';

/** Stored as JSON (what JSON.stringify makes of it): the facts an operator needs, never a secret. */
type AuditDetail = Record<string, unknown>;

interface NewAuditEvent {
  kind: AuditKind;
  outcome: AuditOutcome;
  accountId?: string | null;
  /** The OpenID client (relying party) involved, if any. */
  clientId?: string | null;
  tenantId?: string | null;
  ip?: string | null;
  detail?: AuditDetail;
}

interface AuditEvent {
  id: number;
  at: Date;
  kind: AuditKind;
  outcome: AuditOutcome;
  accountId: string | null;
  clientId: string | null;
  tenantId: string | null;
  ip: string | null;
  detail: AuditDetail;
}

/** Matched against each word of a key (`otpCode` → otp, code), so `encode` or `keyId` pass. */
const SECRET_WORDS = new Set([
  'assertion',
  'authorization',
  'cert',
  'certs',
  'code',
  'codes',
  'hash',
  'hotp',
  'jwk',
  'jwt',
  'nonce',
  'otp',
  'pass',
  'pin',
  'pwd',
  'salt',
  'seed',
  'sig',
  'totp',
  'verifier',
]);
/** Matched anywhere in a key with its separators removed (`accessToken`, `client_secret`, `x-api-key`). */
const SECRET_PARTS = [
  'apikey',
  'certificate',
  'cookie',
  'credential',
  'masterkey',
  'otpauth',
  'passphrase',
  'passwd',
  'password',
  'privatekey',
  'secret',
  'sessionid',
  'sessionkey',
  'signature',
  'signingkey',
  'token',
];
/** Values that are secrets (or a card's certificate, which names the person) whatever their key. */
const SECRET_VALUES = [/-----BEGIN [A-Z0-9 ]+-----/, /^eyJ[\w-]*\.[\w-]*\./];
/** Deeper than any honest detail; also stops a cyclic object. */
const MAX_DEPTH = 16;

function keyLooksSecret(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  const squashed = words.join('');
  return (
    squashed === 'key' ||
    words.some((w) => SECRET_WORDS.has(w)) ||
    SECRET_PARTS.some((p) => squashed.includes(p))
  );
}

/**
 * Throws when a detail carries something that looks like a secret, at any depth, naming where.
 * A programming error, not bad input: callers build details from fixed keys.
 */
function assertNoSecrets(value: unknown, path = 'detail', depth = 0): void {
  if (depth > MAX_DEPTH) {
    throw new InternalError(`audit ${path} is nested too deeply`);
  }
  if (typeof value === 'string' && SECRET_VALUES.some((re) => re.test(value))) {
    throw new InternalError(`audit ${path} holds a value that looks like a key, certificate or token`);
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      assertNoSecrets(item, `${path}[${i}]`, depth + 1);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (keyLooksSecret(key)) {
        throw new InternalError(`audit ${path}.${key} looks like a secret; audit events must not hold one`);
      }
      assertNoSecrets(item, `${path}.${key}`, depth + 1);
    }
  }
}

/**
 * Records an event and returns its id. Works with the database or inside a transaction (a tenant's
 * too); inside one, the event is kept only if the transaction commits, so record a failure with
 * the database itself when the surrounding transaction is about to roll back.
 * @throws InternalError for an unknown kind or outcome, or a detail that looks like it holds a secret
 */
async function recordAudit(db: Queryable, event: NewAuditEvent): Promise<number> {
  if (!(AUDIT_KINDS as readonly string[]).includes(event.kind)) {
    throw new InternalError(`unknown audit event kind ${JSON.stringify(event.kind)}`);
  }
  if (event.outcome !== 'success' && event.outcome !== 'failure') {
    throw new InternalError(`unknown audit outcome ${JSON.stringify(event.outcome)}`);
  }
  const detail = event.detail ?? {};
  assertNoSecrets(detail);
  const { rows } = await db.query<{ id: number }>(
    `insert into identity.audit_events (kind, outcome, account_id, client_id, tenant_id, ip, detail)
     values ($1, $2, $3, $4, $5, $6, $7) returning id`,
    [
      event.kind,
      event.outcome,
      event.accountId ?? null,
      event.clientId ?? null,
      event.tenantId ?? null,
      event.ip ?? null,
      JSON.stringify(detail),
    ],
  );
  return Number(rows[0]?.id);
}

interface AuditQuery {
  accountId?: string;
  kinds?: readonly AuditKind[];
  /** At most this many events (1 to 1000). */
  limit: number;
  /** Only events older than the event with this id: the id of the last event of the previous page. */
  before?: number;
}

const MAX_LIMIT = 1000;

/** Events newest first, optionally of one account and of some kinds, a page at a time. */
async function listAuditEvents(db: Queryable, query: AuditQuery): Promise<AuditEvent[]> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const where = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replace('?', `$${params.length}`));
  };
  if (query.accountId !== undefined) where('account_id = ?', query.accountId);
  if (query.kinds !== undefined) where('kind = any(?::text[])', query.kinds);
  if (query.before !== undefined) where('id < ?', query.before);
  params.push(Math.min(Math.max(Math.trunc(query.limit), 1), MAX_LIMIT));
  const { rows } = await db.query<{
    id: number;
    at: Date;
    kind: AuditKind;
    outcome: AuditOutcome;
    account_id: string | null;
    client_id: string | null;
    tenant_id: string | null;
    ip: string | null;
    detail: AuditDetail;
  }>(
    `select id, at, kind, outcome, account_id, client_id, tenant_id, ip, detail
     from identity.audit_events
     ${conditions.length > 0 ? `where ${conditions.join(' and ')}` : ''}
     order by id desc limit $${params.length}`,
    params,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at,
    kind: r.kind,
    outcome: r.outcome,
    accountId: r.account_id,
    clientId: r.client_id,
    tenantId: r.tenant_id,
    ip: r.ip,
    detail: r.detail,
  }));
}

export type { AuditDetail, AuditEvent, AuditKind, AuditOutcome, AuditQuery, NewAuditEvent };
export { AUDIT_KINDS, assertNoSecrets, listAuditEvents, recordAudit };
