/**
 * Signing keys of the provider, private parts sealed in identity.signing_keys. The JWKS publishes
 * the current key, the next one (so relying parties that cache the JWKS already know it when it
 * starts signing) and recently retired ones (so tokens they signed still verify). Rotation promotes
 * next → current, current → retired, makes a new next, and tells every API process to reload.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Db, Queryable, SecretBox } from '../../platform/index.ts';
import { recordAudit } from '../audit.ts';

const PURPOSE = 'identity.signing-key';
const ALG = 'RS256';
/** Retired keys stay published this long: longer than any token or ID token they signed lives. */
export const RETIRED_KEY_DAYS = 14;
/** Every API process listens here and reloads its keys when a rotation commits. */
export const KEYS_CHANNEL = 'machi_identity_keys';

async function newKey(tx: Queryable, box: SecretBox, state: 'next' | 'current'): Promise<string> {
  const { privateKey } = await generateKeyPair(ALG, { modulusLength: 2048, extractable: true });
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(privateKey)), kid, alg: ALG, use: 'sig' };
  await tx.query(
    `insert into identity.signing_keys (kid, alg, private_jwk_sealed, state, promoted_at)
     values ($1, $2, $3, $4, case when $4 = 'current' then now() end)`,
    [kid, ALG, box.seal(JSON.stringify(jwk), PURPOSE), state],
  );
  return kid;
}

/** Makes the first current and next keys of a new deployment; does nothing when they exist. */
export async function ensureSigningKeys(db: Db, box: SecretBox): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('lock table identity.signing_keys in share row exclusive mode');
    const { rows } = await tx.query<{ state: string }>(
      `select state from identity.signing_keys where state in ('current', 'next')`,
    );
    const states = new Set(rows.map((r) => r.state));
    if (!states.has('current')) await newKey(tx, box, 'current');
    if (!states.has('next')) await newKey(tx, box, 'next');
  });
}

export interface Rotation {
  /** The key that signs from now on (published since the last rotation). */
  current: string;
  /** The key published now, to sign after the next rotation. */
  next: string;
  /** The key that signed until now, still published for verification. */
  retired: string | undefined;
  /** Retired keys dropped because nothing they signed can still be valid. */
  dropped: number;
}

export async function rotateSigningKeys(db: Db, box: SecretBox): Promise<Rotation> {
  await ensureSigningKeys(db, box);
  return db.transaction(async (tx) => {
    await tx.query('lock table identity.signing_keys in share row exclusive mode');
    const retired = await tx.query<{ kid: string }>(
      `update identity.signing_keys set state = 'retired', retired_at = now() where state = 'current' returning kid`,
    );
    const promoted = await tx.query<{ kid: string }>(
      `update identity.signing_keys set state = 'current', promoted_at = now() where state = 'next' returning kid`,
    );
    const next = await newKey(tx, box, 'next');
    const dropped = await tx.query(
      `delete from identity.signing_keys
        where state = 'retired' and retired_at < now() - make_interval(days => $1)`,
      [RETIRED_KEY_DAYS],
    );
    await tx.query('select pg_notify($1, $2)', [KEYS_CHANNEL, 'rotated']);
    const rotation = {
      current: promoted.rows[0]?.kid as string,
      next,
      retired: retired.rows[0]?.kid,
      dropped: dropped.rowCount,
    };
    await recordAudit(tx, { kind: 'key-rotated', outcome: 'success', detail: { ...rotation } });
    return rotation;
  });
}

/** The private JWKs in the order oidc-provider wants them: the first key of an algorithm signs. */
export async function loadSigningKeys(db: Db, box: SecretBox): Promise<JWK[]> {
  const { rows } = await db.query<{ private_jwk_sealed: string }>(
    `select private_jwk_sealed from identity.signing_keys
      order by case state when 'current' then 0 when 'next' then 1 else 2 end, created_at desc`,
  );
  return rows.map((r) => JSON.parse(box.openText(r.private_jwk_sealed, PURPOSE)) as JWK);
}
