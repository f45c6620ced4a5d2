/**
 * A municipality's staff as its administrators manage them from the console: add a staff member
 * (a new account gets a password and an authenticator-app key, shown once) and change the roles
 * someone holds in this municipality. Roles elsewhere are untouched; the account itself (one per
 * person) is never deleted here. An administrator cannot take away their own administrator role,
 * so a municipality is never left without one by mistake.
 */
import { Conflict, type Db, NotFound, type SecretBox } from '../../platform/index.ts';
import {
  addAccount,
  findAccountByEmail,
  listStaff,
  type StaffMember,
  type StaffRole,
  setStaffRoles,
} from '../accounts.ts';
import { recordAudit } from '../audit.ts';
import { generatePassword } from '../passwords.ts';
import { issueTotp } from '../totp.ts';
import { staffRoles } from './access.ts';
import type { StaffCaller } from './caller.ts';

export interface MemberContext {
  db: Db;
  box: SecretBox;
  staff: StaffCaller;
  ip: string;
}

export interface NewMember {
  email: string;
  displayName: string;
  roles: StaffRole[];
}

export type AddedMember =
  | { created: true; accountId: string; password: string; totpSecret: string; otpauthUri: string }
  | { created: false; accountId: string };

async function auditRoles(ctx: MemberContext, accountId: string, roles: readonly StaffRole[]) {
  await recordAudit(ctx.db, {
    kind: 'staff-roles-changed',
    outcome: 'success',
    accountId: ctx.staff.accountId,
    tenantId: ctx.staff.tenantCode,
    ip: ctx.ip,
    detail: { member: accountId, roles: [...roles] },
  });
}

/**
 * Puts a person on the municipality's staff with the roles given: an existing staff account (by
 * e-mail) gains them; otherwise a staff account is made, with credentials returned only here.
 * @throws Conflict when the address belongs to a resident's account
 */
export async function addMember(ctx: MemberContext, input: NewMember): Promise<AddedMember> {
  const existing = await findAccountByEmail(ctx.db, input.email);
  if (existing && existing.kind !== 'staff') {
    throw new Conflict('this e-mail address belongs to a resident account; staff use a work address');
  }
  if (existing) {
    const roles = new Set([...(await staffRoles(ctx.db, ctx.staff.tenantCode, existing.id)), ...input.roles]);
    await setStaffRoles(ctx.db, ctx.staff.tenantCode, existing.id, [...roles]);
    await auditRoles(ctx, existing.id, [...roles]);
    return { created: false, accountId: existing.id };
  }
  const password = generatePassword();
  const account = await addAccount(ctx.db, {
    kind: 'staff',
    email: input.email,
    displayName: input.displayName,
    password,
  });
  await setStaffRoles(ctx.db, ctx.staff.tenantCode, account.id, input.roles);
  const totp = await issueTotp(ctx.db, ctx.box, account.id, input.email);
  await recordAudit(ctx.db, {
    kind: 'account-created',
    outcome: 'success',
    accountId: account.id,
    tenantId: ctx.staff.tenantCode,
    ip: ctx.ip,
    detail: { kind: 'staff', by: ctx.staff.accountId },
  });
  await auditRoles(ctx, account.id, input.roles);
  return {
    created: true,
    accountId: account.id,
    password,
    totpSecret: totp.secret,
    otpauthUri: totp.otpauthUri,
  };
}

/**
 * Sets a staff member's roles in this municipality (none: off its staff).
 * @throws NotFound when the account is not on this municipality's staff, Conflict when an
 *   administrator would remove their own administrator role
 */
export async function changeMemberRoles(
  ctx: MemberContext,
  accountId: string,
  roles: StaffRole[],
): Promise<StaffRole[]> {
  const current = await staffRoles(ctx.db, ctx.staff.tenantCode, accountId);
  if (current.length === 0) throw new NotFound('no such staff member in this municipality');
  if (accountId === ctx.staff.accountId && current.includes('admin') && !roles.includes('admin')) {
    throw new Conflict('you cannot remove your own administrator role; ask another administrator');
  }
  await setStaffRoles(ctx.db, ctx.staff.tenantCode, accountId, roles);
  await auditRoles(ctx, accountId, roles);
  return staffRoles(ctx.db, ctx.staff.tenantCode, accountId);
}

export function listMembers(ctx: MemberContext): Promise<StaffMember[]> {
  return listStaff(ctx.db, ctx.staff.tenantCode);
}
