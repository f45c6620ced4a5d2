/**
 * The one place that decides what a staff member may do in a tenant: each staff action names the
 * roles that allow it, and `requireStaff` answers from the staff member's roles in that tenant,
 * read under the tenant's row-level security. Staff APIs call it first, and decide nothing alone.
 */
import { type Db, Forbidden } from '../../platform/index.ts';
import type { StaffRole } from '../accounts.ts';

/** Every staff action and the roles that allow it (a tenant admin may do everything). */
export const STAFF_PERMISSIONS = {
  'clients.manage': ['admin'],
  'staff.manage': ['admin'],
  'notices.write': ['admin', 'editor'],
  'notices.publish': ['admin', 'approver'],
  'health.read': ['admin', 'health-officer'],
  'health.write': ['admin', 'health-officer'],
  'disaster.alert': ['admin', 'disaster-officer'],
  'shelters.manage': ['admin', 'disaster-officer'],
  'broker.types': ['admin'],
  'calendar.manage': ['admin', 'editor'],
  'dashboard.read': ['admin', 'editor', 'approver', 'health-officer', 'disaster-officer', 'viewer'],
} as const satisfies Record<string, readonly StaffRole[]>;

export type StaffAction = keyof typeof STAFF_PERMISSIONS;

/** The roles the account holds in the tenant (none outside it: rows of other tenants are invisible). */
export async function staffRoles(db: Db, tenantCode: string, accountId: string): Promise<StaffRole[]> {
  return db.withTenant(tenantCode, async (tx) => {
    const { rows } = await tx.query<{ role: StaffRole }>(
      'select role from identity.staff_roles where account_id = $1 order by role',
      [accountId],
    );
    return rows.map((r) => r.role);
  });
}

/** Whether roles allow an action. */
export function allows(roles: readonly StaffRole[], action: StaffAction): boolean {
  const allowed: readonly StaffRole[] = STAFF_PERMISSIONS[action];
  return roles.some((role) => allowed.includes(role));
}

/**
 * Refuses unless the staff member may do `action` in the tenant.
 * @throws Forbidden naming the action, never the roles another tenant gave
 */
export async function requireStaff(
  db: Db,
  staff: { accountId: string; tenantCode: string },
  action: StaffAction,
): Promise<StaffRole[]> {
  const roles = await staffRoles(db, staff.tenantCode, staff.accountId);
  if (!allows(roles, action)) {
    throw new Forbidden(`this staff account may not do ${action} in tenant ${staff.tenantCode}`);
  }
  return roles;
}
