/**
 * Accounts (共通ID): one per person, residents with a home municipality, staff with roles per
 * tenant. Staff roles are tenant-owned rows, read and written only inside `withTenant`.
 */
import { BadRequest, Conflict, type Db, type Queryable } from '../platform/index.ts';
import { generatePassword, hashPassword, verifyPassword } from './passwords.ts';

export type AccountKind = 'resident' | 'staff';
/** Roles a staff member holds in one tenant (tenant admin, editor, approver, health and disaster officers). */
export type StaffRole = 'admin' | 'editor' | 'approver' | 'health-officer' | 'disaster-officer' | 'viewer';
export const STAFF_ROLES: readonly StaffRole[] = [
  'admin',
  'editor',
  'approver',
  'health-officer',
  'disaster-officer',
  'viewer',
];

export interface Account {
  id: string;
  kind: AccountKind;
  /** null for an account made through an upstream provider that gave no e-mail address. */
  email: string | null;
  displayName: string;
  homeTenantCode: string | null;
}

export interface NewAccount {
  kind: AccountKind;
  email: string;
  displayName: string;
  password: string;
  homeTenantCode?: string | null;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Creates an account with a hashed password.
 * @throws BadRequest for a malformed e-mail or short password, Conflict when the e-mail is taken
 */
export async function addAccount(db: Queryable, input: NewAccount): Promise<Account> {
  if (!EMAIL.test(input.email)) {
    throw new BadRequest('the e-mail address is not valid');
  }
  if (input.password.length < 12) {
    throw new BadRequest('a password needs at least 12 characters');
  }
  if (input.kind === 'resident' && !input.homeTenantCode) {
    throw new BadRequest('a resident needs a home municipality');
  }
  const passwordHash = await hashPassword(input.password);
  const { rows } = await db.query<{ id: string }>(
    `insert into identity.accounts (kind, email, display_name, password_hash, home_tenant_id)
     values ($1, $2, $3, $4, $5)
     on conflict do nothing
     returning id`,
    [
      input.kind,
      input.email,
      input.displayName,
      passwordHash,
      input.kind === 'resident' ? input.homeTenantCode : null,
    ],
  );
  if (!rows[0]) {
    throw new Conflict('an account with this e-mail address exists already');
  }
  return {
    id: rows[0].id,
    kind: input.kind,
    email: input.email,
    displayName: input.displayName,
    homeTenantCode: input.kind === 'resident' ? (input.homeTenantCode ?? null) : null,
  };
}

export async function findAccountByEmail(db: Queryable, email: string): Promise<Account | undefined> {
  const { rows } = await db.query<{ id: string }>(
    'select id from identity.accounts where lower(email) = lower($1)',
    [email],
  );
  return rows[0] ? findAccountById(db, rows[0].id) : undefined;
}

/** Gives a staff account a role in the tenant. */
export async function grantStaffRole(
  db: Db,
  tenantCode: string,
  accountId: string,
  role: StaffRole,
): Promise<void> {
  if (!STAFF_ROLES.includes(role)) {
    throw new BadRequest(`role must be one of ${STAFF_ROLES.join(', ')}`);
  }
  await db.withTenant(tenantCode, (tx) =>
    tx.query(
      `insert into identity.staff_roles (tenant_id, account_id, role) values ($1, $2, $3)
       on conflict do nothing`,
      [tenantCode, accountId, role],
    ),
  );
}

/**
 * Sets the account's roles in the tenant to exactly `roles` (none: no longer on its staff).
 * @throws BadRequest for an unknown role
 */
export async function setStaffRoles(
  db: Db,
  tenantCode: string,
  accountId: string,
  roles: readonly StaffRole[],
): Promise<void> {
  const unknown = roles.filter((role) => !STAFF_ROLES.includes(role));
  if (unknown.length > 0) {
    throw new BadRequest(`role must be one of ${STAFF_ROLES.join(', ')}`);
  }
  await db.withTenant(tenantCode, async (tx) => {
    await tx.query(
      'delete from identity.staff_roles where account_id = $1 and not (role = any($2::text[]))',
      [accountId, roles],
    );
    await tx.query(
      `insert into identity.staff_roles (tenant_id, account_id, role)
       select $1, $2, unnest($3::text[]) on conflict do nothing`,
      [tenantCode, accountId, roles],
    );
  });
}

export interface StaffMember {
  accountId: string;
  email: string;
  displayName: string;
  roles: StaffRole[];
}

/** The staff of one tenant with their roles there. */
export async function listStaff(db: Db, tenantCode: string): Promise<StaffMember[]> {
  const roles = await db.withTenant(tenantCode, async (tx) => {
    const { rows } = await tx.query<{ account_id: string; roles: StaffRole[] }>(
      'select account_id, array_agg(role order by role) as roles from identity.staff_roles group by account_id',
    );
    return rows;
  });
  if (roles.length === 0) {
    return [];
  }
  // Accounts are not tenant-owned (one per person across municipalities); only roles are.
  const accounts = await db.query<{ id: string; email: string; display_name: string }>(
    'select id, email, display_name from identity.accounts where id = any($1::uuid[]) order by email',
    [roles.map((r) => r.account_id)],
  );
  const rolesOf = new Map(roles.map((r) => [r.account_id, r.roles]));
  return accounts.rows.map((a) => ({
    accountId: a.id,
    email: a.email,
    displayName: a.display_name,
    roles: rolesOf.get(a.id) ?? [],
  }));
}

export interface AccountDetails extends Account {
  emailVerified: boolean;
  hasPassword: boolean;
}

/** The account with this id, or undefined (also for a malformed id). */
export async function findAccountById(db: Queryable, id: string): Promise<AccountDetails | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    return undefined;
  }
  const { rows } = await db.query<{
    id: string;
    kind: AccountKind;
    email: string | null;
    display_name: string;
    home_tenant_id: string | null;
    email_verified_at: Date | null;
    has_password: boolean;
  }>(
    `select id, kind, email, display_name, home_tenant_id, email_verified_at, password_hash is not null as has_password
       from identity.accounts where id = $1`,
    [id],
  );
  const row = rows[0];
  return row
    ? {
        id: row.id,
        kind: row.kind,
        email: row.email,
        displayName: row.display_name,
        homeTenantCode: row.home_tenant_id,
        emailVerified: row.email_verified_at !== null,
        hasPassword: row.has_password,
      }
    : undefined;
}

/** A hash of a random password, checked when no account matches so both answers take as long. */
let decoyHash: Promise<string> | undefined;

/**
 * The account whose e-mail and password these are, or undefined. Takes the same time whether the
 * e-mail is unknown or the password wrong, so the answer does not reveal who has an account.
 */
export async function authenticatePassword(
  db: Queryable,
  email: string,
  password: string,
): Promise<Account | undefined> {
  const { rows } = await db.query<{ id: string; password_hash: string | null }>(
    'select id, password_hash from identity.accounts where lower(email) = lower($1)',
    [email.trim()],
  );
  const row = rows[0];
  decoyHash ??= hashPassword(generatePassword());
  const ok = await verifyPassword(password, row?.password_hash ?? (await decoyHash));
  if (!row?.password_hash || !ok) {
    return undefined;
  }
  return findAccountById(db, row.id);
}
