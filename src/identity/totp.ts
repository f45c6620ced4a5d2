/**
 * TOTP second factor (RFC 6238 as authenticator apps speak it: HMAC-SHA-1, 6 digits, 30-second
 * steps, one step of clock drift either way). The seed is kept only sealed by the secret box and
 * shown to the resident once, at enrolment. A code is accepted once: the step it belongs to is
 * recorded, and no code of that step or an earlier one is accepted again.
 * Six digits fall to guessing without a limit: count every wrong code with the login throttle.
 */
import { generateSecret, generateURI, verify } from 'otplib';
import { Conflict, NotFound, type Queryable, type SecretBox } from '../platform/index.ts';

const PURPOSE = 'identity.totp';
const PERIOD_SECONDS = 30;
/** One step either way in seconds, which otplib turns into steps. */
const DRIFT_SECONDS = PERIOD_SECONDS;
const CODE = /^\d{6}$/;

interface TotpEnrolment {
  /** For the QR code the authenticator app scans. */
  otpauthUri: string;
  /** Base32, for typing in by hand; shown once and never again. */
  secret: string;
}

interface Factor {
  secretSealed: string;
  confirmed: boolean;
  lastStep: number | null;
}

async function loadFactor(db: Queryable, accountId: string): Promise<Factor | undefined> {
  const { rows } = await db.query<{ secret_sealed: string; confirmed: boolean; last_step: number | null }>(
    `select secret_sealed, confirmed_at is not null as confirmed, last_step
     from identity.totp_factors where account_id = $1`,
    [accountId],
  );
  const row = rows[0];
  return row && { secretSealed: row.secret_sealed, confirmed: row.confirmed, lastStep: row.last_step };
}

/**
 * The step a code matches within the allowed drift, skipping steps already used; undefined when
 * none does. otplib compares the codes in constant time.
 */
async function matchingStep(secret: string, code: string, lastStep: number | null, now: Date) {
  const token = code.replace(/\s/g, '');
  if (!CODE.test(token)) {
    return undefined;
  }
  const epoch = Math.floor(now.getTime() / 1000);
  const newestStep = Math.floor((epoch + DRIFT_SECONDS) / PERIOD_SECONDS);
  if (lastStep !== null && lastStep >= newestStep) {
    return undefined;
  }
  const result = await verify({
    secret,
    token,
    epoch,
    period: PERIOD_SECONDS,
    epochTolerance: DRIFT_SECONDS,
    ...(lastStep === null ? {} : { afterTimeStep: lastStep }),
  });
  return result.valid ? Math.floor(epoch / PERIOD_SECONDS) + result.delta : undefined;
}

function isForeignKeyViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23503';
}

/**
 * Starts (or starts over) an enrolment with a fresh seed; the factor counts only once confirmed.
 * @param label what the app shows next to the codes, usually the e-mail address
 * @throws Conflict when the account has a confirmed factor already (remove it first), NotFound without the account
 */
async function startTotpEnrolment(
  db: Queryable,
  box: SecretBox,
  accountId: string,
  label: string,
  options: { issuer?: string } = {},
): Promise<TotpEnrolment> {
  const secret = generateSecret();
  let rows: unknown[];
  try {
    ({ rows } = await db.query(
      `insert into identity.totp_factors (account_id, secret_sealed) values ($1, $2)
       on conflict (account_id) do update
         set secret_sealed = excluded.secret_sealed, last_step = null, created_at = now()
         where totp_factors.confirmed_at is null
       returning account_id`,
      [accountId, box.seal(secret, PURPOSE)],
    ));
  } catch (error) {
    if (isForeignKeyViolation(error)) throw new NotFound('no such account');
    throw error;
  }
  if (rows.length === 0) {
    throw new Conflict('the account has an authenticator already; remove it before enrolling another');
  }
  return { otpauthUri: generateURI({ issuer: options.issuer ?? 'Machi', label, secret }), secret };
}

/**
 * Confirms an enrolment with a code from the app, proving it holds the seed. The code is used up.
 * Returns false for a wrong code (the enrolment stays pending).
 * @throws NotFound when no enrolment was started, Conflict when the factor is confirmed already
 */
async function confirmTotpEnrolment(
  db: Queryable,
  box: SecretBox,
  accountId: string,
  code: string,
  now: Date = new Date(),
): Promise<boolean> {
  const factor = await loadFactor(db, accountId);
  if (!factor) {
    throw new NotFound('no authenticator enrolment was started');
  }
  if (factor.confirmed) {
    throw new Conflict('the authenticator is confirmed already');
  }
  const step = await matchingStep(box.openText(factor.secretSealed, PURPOSE), code, null, now);
  if (step === undefined) {
    return false;
  }
  // Only the seed the code was checked against: a restarted enrolment must be confirmed anew.
  const { rowCount } = await db.query(
    `update identity.totp_factors set confirmed_at = $3, last_step = $4
     where account_id = $1 and secret_sealed = $2 and confirmed_at is null`,
    [accountId, factor.secretSealed, now, step],
  );
  return rowCount === 1;
}

/**
 * The enrolment started and not yet confirmed, to show its QR code again (after a mistyped code);
 * undefined when none is pending.
 */
async function pendingTotpEnrolment(
  db: Queryable,
  box: SecretBox,
  accountId: string,
  label: string,
  options: { issuer?: string } = {},
): Promise<TotpEnrolment | undefined> {
  const factor = await loadFactor(db, accountId);
  if (!factor || factor.confirmed) return undefined;
  const secret = box.openText(factor.secretSealed, PURPOSE);
  return { otpauthUri: generateURI({ issuer: options.issuer ?? 'Machi', label, secret }), secret };
}

/**
 * Checks a code of the account's confirmed factor; false for a wrong code, a used one, one outside
 * the drift, or no factor. Two requests with the same code race on one conditional update: one wins.
 */
async function verifyTotp(
  db: Queryable,
  box: SecretBox,
  accountId: string,
  code: string,
  now: Date = new Date(),
): Promise<boolean> {
  const factor = await loadFactor(db, accountId);
  if (!factor?.confirmed) {
    return false;
  }
  const step = await matchingStep(box.openText(factor.secretSealed, PURPOSE), code, factor.lastStep, now);
  if (step === undefined) {
    return false;
  }
  const { rowCount } = await db.query(
    `update identity.totp_factors set last_step = $3
     where account_id = $1 and secret_sealed = $2 and confirmed_at is not null
       and (last_step is null or last_step < $3)`,
    [accountId, factor.secretSealed, step],
  );
  return rowCount === 1;
}

/** Whether the account has a confirmed TOTP factor (a pending enrolment does not count). */
async function hasTotp(db: Queryable, accountId: string): Promise<boolean> {
  const { rows } = await db.query(
    'select 1 from identity.totp_factors where account_id = $1 and confirmed_at is not null',
    [accountId],
  );
  return rows.length > 0;
}

/** Removes the factor, confirmed or pending; returns whether there was one. */
async function removeTotp(db: Queryable, accountId: string): Promise<boolean> {
  const { rowCount } = await db.query('delete from identity.totp_factors where account_id = $1', [accountId]);
  return rowCount > 0;
}

/**
 * Gives a staff account a new, already confirmed factor (replacing any it had): the administrator
 * hands the seed to the staff member, who adds it to an authenticator app before the first login.
 */
async function issueTotp(
  db: Queryable,
  box: SecretBox,
  accountId: string,
  label: string,
  options: { issuer?: string } = {},
): Promise<TotpEnrolment> {
  await removeTotp(db, accountId);
  const enrolment = await startTotpEnrolment(db, box, accountId, label, options);
  await db.query('update identity.totp_factors set confirmed_at = now() where account_id = $1', [accountId]);
  return enrolment;
}

export type { TotpEnrolment };
export {
  confirmTotpEnrolment,
  hasTotp,
  issueTotp,
  pendingTotpEnrolment,
  removeTotp,
  startTotpEnrolment,
  verifyTotp,
};
