/**
 * The SQL of self-service accounts: the municipalities a resident may choose, self-registrations,
 * and the changes a resident makes to their own account (password, home municipality, deletion).
 */
import type { Queryable } from '../../platform/index.ts';

/** The terms a registering resident agrees to; raise it when the terms change. */
export const TERMS_VERSION = '1';

export interface Municipality {
  code: string;
  name: string;
  nameEn: string;
  prefecture: string;
  prefectureEn: string;
}

/** The deployment's municipalities, by code (so by prefecture). */
export async function listMunicipalities(db: Queryable): Promise<Municipality[]> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    name_en: string;
    prefecture: string | null;
    prefecture_en: string | null;
  }>(
    `select m.id, m.name, m.name_en, p.name as prefecture, p.name_en as prefecture_en
       from platform.tenants m left join platform.tenants p on p.id = m.parent_id
      where m.kind = 'municipality'
      order by m.id`,
  );
  return rows.map((r) => ({
    code: r.id,
    name: r.name,
    nameEn: r.name_en,
    prefecture: r.prefecture ?? '',
    prefectureEn: r.prefecture_en ?? '',
  }));
}

export async function recordRegistration(db: Queryable, accountId: string): Promise<void> {
  await db.query('insert into identity.self_registrations (account_id, terms_version) values ($1, $2)', [
    accountId,
    TERMS_VERSION,
  ]);
}

/**
 * Whether the account registered itself and has not verified its e-mail address yet: it may not
 * log in. Accounts made by the operator or the demo are not held back.
 */
export async function awaitsEmailVerification(db: Queryable, accountId: string): Promise<boolean> {
  const { rows } = await db.query(
    `select 1 from identity.self_registrations r join identity.accounts a on a.id = r.account_id
      where r.account_id = $1 and a.email_verified_at is null`,
    [accountId],
  );
  return rows.length > 0;
}

export async function markEmailVerified(db: Queryable, accountId: string): Promise<void> {
  await db.query(
    'update identity.accounts set email_verified_at = coalesce(email_verified_at, now()) where id = $1',
    [accountId],
  );
}

/** Sets the password; a reset link proves the address too, so it counts as verified. */
export async function setPasswordHash(db: Queryable, accountId: string, passwordHash: string): Promise<void> {
  await db.query(
    `update identity.accounts set password_hash = $2, email_verified_at = coalesce(email_verified_at, now())
      where id = $1`,
    [accountId, passwordHash],
  );
}

/** Moves a resident; returns the municipality they left, or undefined when nothing changed. */
export async function setHomeMunicipality(
  db: Queryable,
  accountId: string,
  code: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ previous: string }>(
    `update identity.accounts a set home_tenant_id = $2
       from identity.accounts old
      where a.id = $1 and old.id = a.id and a.kind = 'resident' and a.home_tenant_id <> $2
      returning old.home_tenant_id as previous`,
    [accountId, code],
  );
  return rows[0]?.previous;
}

/** Deletes the account; its factors, card bindings, roles, registration and links go with it. */
export async function deleteAccountRow(db: Queryable, accountId: string): Promise<void> {
  await db.query('delete from identity.accounts where id = $1', [accountId]);
}
