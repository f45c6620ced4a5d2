/**
 * Self-service accounts: residents register, verify their address, reset their password, move and
 * delete their account, and manage their second factors (authenticator app, passkeys) themselves,
 * on server-rendered pages under /account, with mail sent through
 * the job queue. It never stores a mailed token (only its hash), never tells whether an address has
 * an account, and never writes an address to a log or the audit trail.
 */
export { loadMailConfig, type MailConfig, mailOptions } from './config.ts';
export { MAIL_QUEUE, mailJobHandler } from './mail.ts';
export { type SelfServiceOptions, selfServiceRoutes } from './routes.ts';
export { sweepAccountTokens } from './tokens.ts';
