/**
 * Mail to residents, through the durable job queue (queue `identity.mail`): a request only enqueues
 * the kind of mail and the account id, so no address or link waits in the queue; the job reads the
 * address, makes the link's token and sends, Japanese first with English below. Errors it reports
 * carry SMTP codes, never an address.
 */
import nodemailer from 'nodemailer';
import type { Db, JobHandler, Queryable } from '../../platform/index.ts';
import { enqueue } from '../../platform/index.ts';
import { findAccountById } from '../accounts.ts';
import type { MailConfig } from './config.ts';
import { discardToken, issueToken, TOKEN_SECONDS, type TokenPurpose } from './tokens.ts';

export const MAIL_QUEUE = 'identity.mail';

export type MailKind = 'verify-email' | 'reset-password' | 'already-registered';
const MAIL_KINDS: readonly MailKind[] = ['verify-email', 'reset-password', 'already-registered'];

/** Adds the mail to the queue; pass the transaction of the change that causes it. */
export async function enqueueMail(db: Queryable, kind: MailKind, accountId: string): Promise<void> {
  await enqueue(db, MAIL_QUEUE, { kind, accountId }, { maxAttempts: 8 });
}

interface Mail {
  subject: string;
  text: string;
}

const hours = (purpose: TokenPurpose) => TOKEN_SECONDS[purpose] / 3600;

/** The mail of each kind; `link` is the page it leads to (with its token where it has one). */
export function composeMail(kind: MailKind, name: string, link: string): Mail {
  switch (kind) {
    case 'verify-email':
      return {
        subject: '【Machi 共通ID】メールアドレスの確認 / Confirm your e-mail address',
        text: `${name} 様

Machi 共通ID へのご登録ありがとうございます。
次のリンクを開いて、メールアドレスの確認を完了してください（${hours(kind)}時間有効）。確認が済むとログインできます。

${link}

お心当たりがない場合は、このメールを削除してください。アカウントは有効になりません。

----
Dear ${name},

Thank you for registering for the Machi Common ID.
Open the link above to confirm your e-mail address (valid for ${hours(kind)} hours). Then you can log in.

If you did not register, please delete this mail; the account will not be activated.
`,
      };
    case 'reset-password':
      return {
        subject: '【Machi 共通ID】パスワードの再設定 / Reset your password',
        text: `${name} 様

パスワード再設定のお申し込みを受け付けました。
次のリンクを開いて、新しいパスワードを設定してください（${hours(kind)}時間有効、1回限り）。

${link}

お心当たりがない場合は、このメールを削除してください。パスワードは変わりません。

----
Dear ${name},

We received a request to reset your password.
Open the link above to choose a new password (valid for ${hours(kind)} hour, once).

If you did not ask for this, please delete this mail; your password stays as it is.
`,
      };
    case 'already-registered':
      return {
        subject: '【Machi 共通ID】新規登録のお申し込みについて / About a registration with your address',
        text: `${name} 様

このメールアドレスで Machi 共通ID の新規登録のお申し込みがありましたが、このアドレスのアカウントはすでにあるため、新しいアカウントは作られていません。
ご本人のお申し込みでパスワードがわからない場合は、次のページでパスワードを再設定してください。

${link}

お心当たりがない場合は、このメールを無視してください。

----
Dear ${name},

Someone asked to register for the Machi Common ID with this address. You already have an account, so no new one was made.
If it was you and you do not remember your password, reset it on the page linked above.

If it was not you, please ignore this mail.
`,
      };
  }
}

/** The failure of one send, without the addresses an SMTP error may quote. */
function sendFailure(kind: MailKind, error: unknown): Error {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  const failure = new Error(
    `sending the ${kind} mail failed: ${typeof code === 'string' ? code : 'error'}${
      typeof responseCode === 'number' ? ` (SMTP ${responseCode})` : ''
    }`,
  );
  // A permanent SMTP refusal (5xx) or a refused recipient does not get better by retrying.
  const permanent = (typeof responseCode === 'number' && responseCode >= 500) || code === 'EENVELOPE';
  return Object.assign(failure, { retryable: !permanent });
}

function parseJob(payload: Record<string, unknown>): { kind: MailKind; accountId: string } {
  const { kind, accountId } = payload;
  if (!MAIL_KINDS.includes(kind as MailKind) || typeof accountId !== 'string') {
    throw Object.assign(new Error('not an identity.mail job'), { retryable: false });
  }
  return { kind: kind as MailKind, accountId };
}

/** Sends the queued mails through SMTP_URL; without it each job fails for good ("mail is off"). */
export function mailJobHandler(db: Db, options: { mail: MailConfig; publicUrl: string }): JobHandler {
  const transport = options.mail.smtpUrl ? nodemailer.createTransport(options.mail.smtpUrl) : undefined;
  return async (job) => {
    const { kind, accountId } = parseJob(job.payload);
    if (!transport) {
      throw Object.assign(new Error('mail is off (SMTP_URL is not set)'), { retryable: false });
    }
    const account = await findAccountById(db, accountId);
    // Deleted meanwhile, without an address (made by an upstream login), or verified by an earlier
    // link: nothing to send.
    if (!account?.email || (kind === 'verify-email' && account.emailVerified)) return;
    const to = account.email;
    const token = kind === 'already-registered' ? undefined : await issueToken(db, accountId, kind);
    const link =
      kind === 'verify-email'
        ? `${options.publicUrl}/account/verify?token=${token}`
        : kind === 'reset-password'
          ? `${options.publicUrl}/account/reset/confirm?token=${token}`
          : `${options.publicUrl}/account/reset`;
    const mail = composeMail(kind, account.displayName, link);
    try {
      await transport.sendMail({
        from: options.mail.from,
        to,
        subject: mail.subject,
        text: mail.text,
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
    } catch (error) {
      if (token) await discardToken(db, token);
      throw sendFailure(kind, error);
    }
  };
}
