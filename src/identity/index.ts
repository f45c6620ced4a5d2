/**
 * Identity: the accounts of the common ID (共通ID), residents and staff, and staff roles per tenant.
 * It never stores a password in the clear, and never reads staff roles outside the tenant's own
 * row-level-security scope. It runs the deployment's one OpenID provider; services get pairwise
 * subjects only, and secrets (signing keys, client secrets) are stored sealed.
 */
import { fileURLToPath } from 'node:url';
import type { MigrationSource } from '../platform/index.ts';

export type { Account, AccountKind, NewAccount, StaffMember, StaffRole } from './accounts.ts';
export { addAccount, findAccountByEmail, grantStaffRole, listStaff, STAFF_ROLES } from './accounts.ts';
export { type JpkiConfig, jpkiConfig, jpkiOptions, loadJpkiConfig } from './jpki/index.ts';
export { ACR, ACR_VALUES } from './oidc/assurance.ts';
export { type Bearer, WithdrawnToken } from './oidc/bearer.ts';
export {
  CLIENT_SCOPES,
  type ClientSummary,
  listClients,
  type NewClient,
  registerClient,
} from './oidc/clients.ts';
export { ensureSigningKeys, type Rotation, rotateSigningKeys } from './oidc/keys.ts';
export { consentAsResident } from './oidc/purpose-consent-mypage.ts';
export { BROKER_SCOPE, brokerResource } from './oidc/resources.ts';
export { generatePassword, hashPassword, verifyPassword } from './passwords.ts';
export { type IdentityHandle, identityJobHandlers, identityPlugin, issuerOf, OIDC_PATH } from './plugin.ts';
export { loadMailConfig, type MailConfig, mailOptions } from './self-service/index.ts';
export { allows, requireStaff, STAFF_PERMISSIONS, type StaffAction, staffRoles } from './staff/access.ts';
export { issueTotp } from './totp.ts';
export { loadUpstreamConfig, type UpstreamConfig, upstreamOptions } from './upstream/config.ts';

export const identityMigrations: MigrationSource = {
  capability: 'identity',
  dir: fileURLToPath(new URL('./migrations', import.meta.url)),
};
