/**
 * Brute-force protection for logins, counted in the database so that every API process sees the
 * same failures. Each attempt is counted twice: against the account it names (slows a guesser
 * down on one account from any number of addresses) and against the client address (slows one
 * address trying many accounts). A lock refuses every attempt on its key, right password or not,
 * so it must be short at first: it grows only when the failures go on.
 *
 * Usage, with the same `account` string every time (the e-mail as typed, so unknown addresses are
 * slowed down exactly like known ones and do not reveal which exist):
 *   loginAllowed → (verify the password or code) → recordLoginFailure | recordLoginSuccess
 */
import { parseAddress, type Queryable } from '../platform/index.ts';

interface ThrottlePolicy {
  /** The failure that locks the key, counted within the window. */
  maxFailures: number;
  /** Failures further apart than this do not add up. */
  windowSeconds: number;
  /** The first lock; each further lock before the key is forgiven lasts twice as long... */
  baseLockSeconds: number;
  /** ...up to this. */
  maxLockSeconds: number;
}

/** An account is locked by its 5th failure within 15 minutes: 1 minute, then 2, 4, … up to 1 hour. */
const ACCOUNT_THROTTLE: ThrottlePolicy = {
  maxFailures: 5,
  windowSeconds: 15 * 60,
  baseLockSeconds: 60,
  maxLockSeconds: 60 * 60,
};

/**
 * An address is locked by its 50th failure within 15 minutes, with the same growing locks. Higher
 * than an account's limit because a town hall or a mobile carrier puts many people behind one
 * address; an IPv6 client is counted by its /64, which one household or device usually holds whole.
 */
const IP_THROTTLE: ThrottlePolicy = {
  maxFailures: 50,
  windowSeconds: 15 * 60,
  baseLockSeconds: 60,
  maxLockSeconds: 60 * 60,
};

/** After a day without a failure a key starts afresh (its next lock is the shortest again). */
const THROTTLE_FORGIVE_SECONDS = 24 * 60 * 60;

interface LoginAttempt {
  /** The account named by the attempt: its e-mail (any case) or id. */
  account: string;
  /** The client's address as the HTTP server sees it (behind a trusted proxy: the forwarded one). */
  ip: string;
  /** The current time; tests move it instead of waiting. */
  now?: Date;
}

type LoginVerdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface FailureOutcome {
  /** This failure locked the account (audit it as 'locked-out'). */
  accountLocked: boolean;
  /** This failure locked the address. */
  ipLocked: boolean;
  /** How long the lock it set lasts; 0 when it set none. */
  lockedForSeconds: number;
}

function accountKey(account: string): string {
  return `account:${account.trim().toLowerCase()}`;
}

/** IPv4 (also written IPv4-mapped in IPv6) as such; IPv6 by its /64, since one client holds a whole one. */
function ipKey(ip: string): string {
  const bytes = parseAddress(ip.trim());
  if (!bytes) {
    return `ip:${ip.trim().toLowerCase()}`;
  }
  const mapped =
    bytes.length === 16 &&
    bytes.subarray(0, 10).every((b) => b === 0) &&
    bytes[10] === 0xff &&
    bytes[11] === 0xff;
  if (bytes.length === 4 || mapped) {
    return `ip:${[...bytes.subarray(-4)].join('.')}`;
  }
  const groups = Buffer.from(bytes.subarray(0, 8)).toString('hex').match(/.{4}/g) ?? [];
  return `ip:${groups.join(':')}::/64`;
}

function secondsUntil(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
}

/**
 * Whether none of the keys is locked. Also for throttling something other than logins (mail
 * requests, say) with keys and policies of its own in the same table: `eventsAllowed`, then
 * `countEvent` for each key. Prefix such keys (`mail-`) so they never meet a login's, and keep their
 * window within the logins' 15 minutes, which the sweep assumes.
 */
async function eventsAllowed(db: Queryable, keys: string[], now = new Date()): Promise<LoginVerdict> {
  const { rows } = await db.query<{ until: Date | null }>(
    `select max(locked_until) as until from identity.login_throttle
     where key = any($1::text[]) and locked_until > $2::timestamptz`,
    [keys, now],
  );
  const until = rows[0]?.until;
  return until
    ? { allowed: false, retryAfterSeconds: secondsUntil(new Date(until), now) }
    : { allowed: true };
}

/** Whether an attempt may be checked at all; when not, the caller answers 429 with Retry-After. */
async function loginAllowed(db: Queryable, attempt: LoginAttempt): Promise<LoginVerdict> {
  return eventsAllowed(db, [accountKey(attempt.account), ipKey(attempt.ip)], attempt.now ?? new Date());
}

/**
 * Counts one failure on a key in one statement: concurrent failures from several processes wait for
 * each other's row lock and all count. A failure on a key that is locked already (a race with the
 * failure that locked it) changes nothing, so it neither extends the lock nor counts twice.
 * Returns the end of the lock this failure set, if it set one.
 */
const COUNT_FAILURE = `insert into identity.login_throttle as t (key, failures, first_failure_at, last_failure_at)
  values ($1, 1, $2::timestamptz, $2::timestamptz)
  on conflict (key) do update set (failures, first_failure_at, last_failure_at, locked_until, lockouts) = (
    select case when l.locks then 0 else f.failures end,
           case when s.fresh then $2::timestamptz else t.first_failure_at end,
           $2::timestamptz,
           case when l.locks
                then $2::timestamptz + make_interval(secs => least($6::float8 * 2 ^ f.lockouts, $7::float8))
                else t.locked_until end,
           f.lockouts + l.locks::int
    from (select t.last_failure_at <= $4::timestamptz as forgiven,
                 t.failures = 0 or t.first_failure_at <= $3::timestamptz
                   or t.last_failure_at <= $4::timestamptz as fresh) s,
         lateral (select case when s.fresh then 1 else t.failures + 1 end as failures,
                         case when s.forgiven then 0 else t.lockouts end as lockouts) f,
         lateral (select f.failures >= $5::int as locks) l
  )
  where t.locked_until is null or t.locked_until <= $2::timestamptz
  returning case when failures = 0 then locked_until end as locked_until`;

async function countFailure(db: Queryable, key: string, policy: ThrottlePolicy, now: Date): Promise<number> {
  const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
  const { rows } = await db.query<{ locked_until: Date | null }>(COUNT_FAILURE, [
    key,
    now,
    ago(policy.windowSeconds),
    ago(THROTTLE_FORGIVE_SECONDS),
    policy.maxFailures,
    policy.baseLockSeconds,
    policy.maxLockSeconds,
  ]);
  const until = rows[0]?.locked_until;
  return until ? secondsUntil(new Date(until), now) : 0;
}

/** Counts one event (see `eventsAllowed`) on a key; returns how long the lock it set lasts, 0 when it set none. */
async function countEvent(db: Queryable, key: string, policy: ThrottlePolicy, now = new Date()) {
  return countFailure(db, key, policy, now);
}

/** Counts a failed attempt against the account and the address; says whether it locked either. */
async function recordLoginFailure(db: Queryable, attempt: LoginAttempt): Promise<FailureOutcome> {
  const now = attempt.now ?? new Date();
  const account = await countFailure(db, accountKey(attempt.account), ACCOUNT_THROTTLE, now);
  const ip = await countFailure(db, ipKey(attempt.ip), IP_THROTTLE, now);
  return { accountLocked: account > 0, ipLocked: ip > 0, lockedForSeconds: Math.max(account, ip) };
}

/**
 * Forgets the account's failures after a successful login. The address keeps its count: one
 * success (the attacker's own account, say) must not wipe the failures of a spray from there.
 */
async function recordLoginSuccess(db: Queryable, attempt: { account: string }): Promise<void> {
  await db.query('delete from identity.login_throttle where key = $1', [accountKey(attempt.account)]);
}

/** Deletes rows that no longer change any decision; run it now and then (a job). Returns how many. */
async function sweepLoginThrottle(db: Queryable, options: { now?: Date } = {}): Promise<number> {
  const now = options.now ?? new Date();
  const window = Math.max(ACCOUNT_THROTTLE.windowSeconds, IP_THROTTLE.windowSeconds);
  const { rowCount } = await db.query(
    `delete from identity.login_throttle
     where (locked_until is null or locked_until <= $1::timestamptz)
       and (last_failure_at <= $2::timestamptz or (lockouts = 0 and first_failure_at <= $3::timestamptz))`,
    [now, new Date(now.getTime() - THROTTLE_FORGIVE_SECONDS * 1000), new Date(now.getTime() - window * 1000)],
  );
  return rowCount;
}

export type { FailureOutcome, LoginAttempt, LoginVerdict, ThrottlePolicy };
export {
  ACCOUNT_THROTTLE,
  countEvent,
  eventsAllowed,
  IP_THROTTLE,
  ipKey,
  loginAllowed,
  recordLoginFailure,
  recordLoginSuccess,
  sweepLoginThrottle,
  THROTTLE_FORGIVE_SECONDS,
};
