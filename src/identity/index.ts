/**
 * Identity: the accounts of the common ID (共通ID), residents and staff, and staff roles per tenant.
 * It never stores a password in the clear, and never reads staff roles outside the tenant's own
 * row-level-security scope. (The OpenID Connect provider comes with the identity issue.)
 */
import { fileURLToPath } from 'node:url';
import type { MigrationSource } from '../platform/index.ts';

export type { Account, AccountKind, NewAccount, StaffMember, StaffRole } from './accounts.ts';
export { addAccount, findAccountByEmail, grantStaffRole, listStaff, STAFF_ROLES } from './accounts.ts';
export { generatePassword, hashPassword, verifyPassword } from './passwords.ts';

export const identityMigrations: MigrationSource = {
  capability: 'identity',
  dir: fileURLToPath(new URL('./migrations', import.meta.url)),
};
