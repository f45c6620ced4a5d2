/**
 * Settings of the mail identity sends residents (verification and password-reset links), validated
 * at start with the other capabilities'. Without SMTP_URL mail is off: no link is made or stored,
 * and a warning says so at every start.
 */
import { BadValue, type ConfigOption, readOptions, url } from '../../platform/index.ts';

export interface MailConfig {
  /** smtp://host:port or smtps://user:password@host:port; undefined: mail is off. */
  smtpUrl: string | undefined;
  /** The From of every mail: an address, or `Name <address>`. */
  from: string;
}

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;
const NAMED_ADDRESS = /^[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>$/;

function mailbox(raw: string): string {
  const value = raw.trim();
  if (!ADDRESS.test(value) && !NAMED_ADDRESS.test(value)) {
    throw new BadValue('must be an e-mail address or Name <address>');
  }
  return value;
}

export const mailOptions: readonly ConfigOption<MailConfig>[] = [
  {
    env: 'SMTP_URL',
    key: 'smtpUrl',
    description:
      'SMTP server for mail to residents (smtp://127.0.0.1:2525, smtps://user:password@mail.example.jp:465); unset: mail is off, so residents cannot verify their address or reset their password',
    default: undefined,
    parse: url(['smtp:', 'smtps:']),
    unsafe: (value) =>
      value === undefined
        ? 'mail is off (SMTP_URL is unset): registration and password-reset mails are not sent'
        : undefined,
  },
  {
    env: 'MAIL_FROM',
    key: 'from',
    description: 'Sender of mail to residents: an address or Name <address>',
    default: 'no-reply@localhost',
    parse: mailbox,
  },
];

/**
 * Reads the settings from `env`.
 * @throws ConfigError listing every bad value at once
 */
export function loadMailConfig(env: Record<string, string | undefined>): MailConfig {
  return readOptions(mailOptions, env);
}
