/** The words of the self-service pages, Japanese first. */
import type { Lang } from '../oidc/pages.ts';
import type { Field } from './forms.ts';
import { MIN_PASSWORD } from './forms.ts';

const JA = {
  registerTitle: '新規登録',
  registerLead:
    'Machi 共通ID を作成します。登録後に届くメールのリンクを開くと、ログインできるようになります。',
  email: 'メールアドレス',
  name: 'お名前（サービスに表示されます）',
  password: 'パスワード',
  newPassword: '新しいパスワード',
  passwordHint: `${MIN_PASSWORD}文字以上。ほかのサービスと同じものは避けてください。`,
  municipality: 'お住まいの市区町村',
  choose: '選んでください',
  terms: '利用規約と個人情報の取扱いに同意します',
  register: '登録する',
  sentTitle: 'メールを確認してください',
  sentRegister:
    '入力されたメールアドレスにメールを送りました。メールのリンクを開いて登録を完了してください。届かない場合は、迷惑メールのフォルダもご確認ください。',
  sentReset:
    'このメールアドレスのアカウントがある場合は、パスワード再設定のメールを送りました。リンクは1時間有効です。',
  sentResend: '確認がまだのアカウントがある場合は、確認のメールをもう一度送りました。',
  mailOff:
    'このサーバーではメールの送信が設定されていないため、メールは届きません（管理者の方へ: SMTP_URL）。',
  verifiedTitle: 'メールアドレスの確認',
  verified: 'メールアドレスを確認しました。ご利用のサービスからログインしてください。',
  badLink: 'このリンクは使えません。すでに使われたか、有効期限が切れています。もう一度お手続きください。',
  resendTitle: '確認メールの再送',
  resendLead:
    '登録したメールアドレスを入力してください。確認がまだの場合は、確認のメールをもう一度送ります。',
  resetTitle: 'パスワードの再設定',
  resetLead: '登録したメールアドレスを入力してください。パスワードを再設定するためのメールを送ります。',
  send: '送信する',
  resetConfirmLead: '新しいパスワードを入力してください。ほかの端末でのログインはすべて終了します。',
  resetSubmit: 'パスワードを変更する',
  resetDone: 'パスワードを変更しました。新しいパスワードでログインしてください。',
  deleteTitle: 'アカウントの削除',
  deleteLead:
    'アカウントを削除すると、登録した情報とサービスへの情報提供の同意がすべて消え、元に戻せません。確認のため、メールアドレスとパスワードを入力してください。',
  code: '認証アプリの6桁の確認コード（設定している方のみ）',
  confirmDelete: 'このアカウントを削除します',
  deleteSubmit: '削除する',
  deleted: 'アカウントを削除しました。ご利用ありがとうございました。',
  moveTitle: 'お住まいの市区町村の変更',
  moveLead:
    '引っ越しをしたときは、新しくお住まいの市区町村を選んでください。確認のため、メールアドレスとパスワードを入力してください。',
  newMunicipality: '新しくお住まいの市区町村',
  moveSubmit: '変更する',
  moved: (name: string) => `お住まいの市区町村を${name}に変更しました。`,
  wrong: 'メールアドレスまたはパスワードが違います。',
  wrongCode: '認証アプリの確認コードが違うか、使用済みです。',
  needsCode: 'このアカウントには認証アプリの確認コードも必要です。',
  notResident: '職員のアカウントは、この画面では変更できません。管理者にお問い合わせください。',
  locked: (minutes: number) =>
    `短い時間に多くのお申し込みや失敗があったため、受け付けを止めています。${minutes}分後にもう一度お試しください。`,
  formExpired:
    'フォームの有効期限が切れたか、このサイトから送信されたものではありません。ページを読み込み直してから、もう一度お試しください。',
  badRequest: '入力を読み取れませんでした。ページを読み込み直してから、もう一度お試しください。',
  failed: '問題が発生しました。しばらくしてからもう一度お試しください。',
  busy: 'アクセスが集中しています。しばらくしてからもう一度お試しください。',
  navLabel: 'アカウントの手続き',
  nav: {
    register: '新規登録',
    reset: 'パスワードを忘れた方',
    municipality: '市区町村の変更',
    delete: 'アカウントの削除',
  },
  problems: {
    email: '正しいメールアドレスを入力してください。',
    name: 'お名前を100文字以内で入力してください。',
    password: `パスワードは${MIN_PASSWORD}文字以上にしてください。`,
    municipality: 'お住まいの市区町村を一覧から選んでください。',
    terms: '利用規約と個人情報の取扱いへの同意が必要です。',
    confirm: '削除してよければ、確認のチェックを入れてください。',
  } satisfies Record<Field, string>,
};

const EN: typeof JA = {
  registerTitle: 'Register',
  registerLead:
    'Create your Machi Common ID. Open the link in the mail we send you, and then you can log in.',
  email: 'E-mail address',
  name: 'Your name (shown to services)',
  password: 'Password',
  newPassword: 'New password',
  passwordHint: `At least ${MIN_PASSWORD} characters. Do not reuse a password from another service.`,
  municipality: 'Municipality you live in',
  choose: 'Choose one',
  terms: 'I agree to the terms of use and the handling of personal information',
  register: 'Register',
  sentTitle: 'Check your mail',
  sentRegister:
    'We have sent a mail to the address you entered. Open its link to finish registering. If it does not arrive, look in your spam folder too.',
  sentReset:
    'If there is an account with this address, we have sent it a mail to reset the password. The link works for one hour.',
  sentResend:
    'If there is an account with this address that is not confirmed yet, we have sent the mail again.',
  mailOff: 'This server is not set up to send mail, so no mail will arrive (administrators: SMTP_URL).',
  verifiedTitle: 'E-mail address confirmation',
  verified: 'Your e-mail address is confirmed. Please log in from the service you use.',
  badLink: 'This link cannot be used: it was used already or has expired. Please start again.',
  resendTitle: 'Send the confirmation mail again',
  resendLead:
    'Enter the address you registered. If it is not confirmed yet, we send the confirmation mail again.',
  resetTitle: 'Reset your password',
  resetLead: 'Enter the address you registered. We send you a mail to reset your password.',
  send: 'Send',
  resetConfirmLead: 'Enter your new password. You will be logged out everywhere else.',
  resetSubmit: 'Change the password',
  resetDone: 'Your password has been changed. Please log in with the new one.',
  deleteTitle: 'Delete your account',
  deleteLead:
    'Deleting your account removes what you registered and every consent you gave to services; it cannot be undone. Enter your e-mail address and password to confirm.',
  code: '6-digit code from your authenticator app (only if you set one up)',
  confirmDelete: 'Delete this account',
  deleteSubmit: 'Delete',
  deleted: 'Your account has been deleted. Thank you for using it.',
  moveTitle: 'Change your municipality',
  moveLead:
    'When you move, choose the municipality you live in now. Enter your e-mail address and password to confirm.',
  newMunicipality: 'Municipality you live in now',
  moveSubmit: 'Change',
  moved: (name: string) => `Your municipality is now ${name}.`,
  wrong: 'The e-mail address or password is wrong.',
  wrongCode: 'The code is wrong or was used already.',
  needsCode: 'This account also needs the code from your authenticator app.',
  notResident: 'Staff accounts cannot be changed here. Please ask your administrator.',
  locked: (minutes: number) =>
    `Too many requests or failed attempts in a short time. Please try again in ${minutes} minute(s).`,
  formExpired: 'This form has expired or did not come from this site. Please reload the page and try again.',
  badRequest: 'The form could not be read. Please reload the page and try again.',
  failed: 'Something went wrong. Please try again later.',
  busy: 'Too many requests. Please try again later.',
  navLabel: 'Your account',
  nav: {
    register: 'Register',
    reset: 'Forgot your password?',
    municipality: 'Change your municipality',
    delete: 'Delete your account',
  },
  problems: {
    email: 'Enter a valid e-mail address.',
    name: 'Enter your name, at most 100 characters.',
    password: `The password needs at least ${MIN_PASSWORD} characters.`,
    municipality: 'Choose your municipality from the list.',
    terms: 'You need to agree to the terms of use and the handling of personal information.',
    confirm: 'Tick the box to confirm the deletion.',
  },
};

export type SelfServiceText = typeof JA;

export function wordsOf(lang: Lang): SelfServiceText {
  return lang === 'en' ? EN : JA;
}
