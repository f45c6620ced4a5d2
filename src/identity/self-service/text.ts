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
  authenticatorTitle: '認証アプリ（二段階認証）',
  authenticatorLead:
    'スマートフォンの認証アプリ（Google Authenticator、Microsoft Authenticator など）を設定すると、ログインのときにパスワードに加えて、アプリに表示される6桁の確認コードが必要になり、アカウントがより安全になります。まず、メールアドレスとパスワードを入力してください。',
  next: '次へ',
  enrolTitle: '認証アプリの設定',
  enrolScan: '1. 認証アプリで、このQRコードを読み取ってください。',
  qrLabel: '認証アプリで読み取るQRコード',
  enrolManual:
    'QRコードを読み取れない場合は、アプリに次の設定キーを入力してください（スペースは入力しなくてかまいません）。',
  enrolKeep: 'QRコードと設定キーは、ほかの人に見せないでください。',
  enrolConfirm: '2. アプリに表示された6桁の確認コードを入力してください。',
  codeRequired: '認証アプリの6桁の確認コード',
  enrolSubmit: '設定を完了する',
  enrolled: '認証アプリを設定しました。次のログインから、パスワードのあとに確認コードを入力してください。',
  alreadyEnrolled:
    '認証アプリはすでに設定されています。別のスマートフォンに替えるときは、先に今の設定を削除してください。',
  enrolmentGone: '設定の手続きが見つかりません。お手数ですが、最初からやり直してください。',
  removeAuthenticatorTitle: '認証アプリの削除',
  removeAuthenticatorLead:
    '認証アプリの設定を削除すると、ログインに確認コードが要らなくなります。確認のため、メールアドレス、パスワードと、今の認証アプリの確認コードを入力してください。',
  removeSubmit: '削除する',
  authenticatorRemoved: '認証アプリの設定を削除しました。ログインには、パスワードだけが必要になります。',
  noAuthenticator: 'このアカウントには認証アプリが設定されていません。',
  proofExpired:
    '本人確認の有効期限が切れました。お手数ですが、メールアドレスとパスワードをもう一度入力してください。',
  passkeysTitle: 'パスキーの管理',
  passkeysLead:
    '登録したパスキーを確認し、使わなくなったもの（手放したスマートフォンなど）を削除できます。確認のため、メールアドレスとパスワードを入力してください。',
  passkeysShow: 'パスキーを表示する',
  passkeysListLead: 'このアカウントに登録されているパスキーです。',
  noPasskeys: '登録されているパスキーはありません。パスキーは、ログインしたあとに登録できます。',
  passkeyCreated: '登録',
  passkeyLastUsed: '最後の利用',
  passkeyNeverUsed: 'まだ使われていません',
  passkeySynced: 'ほかの端末と同期されるパスキー',
  passkeyDelete: (name: string) => `「${name}」を削除する`,
  passkeyDeleted: (name: string) => `パスキー「${name}」を削除しました。`,
  passkeyNotFound: 'そのパスキーは見つかりません。',
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
    authenticator: '認証アプリ（二段階認証）',
    passkeys: 'パスキーの管理',
  },
  problems: {
    email: '正しいメールアドレスを入力してください。',
    name: 'お名前を100文字以内で入力してください。',
    password: `パスワードは${MIN_PASSWORD}文字以上にしてください。`,
    municipality: 'お住まいの市区町村を一覧から選んでください。',
    terms: '利用規約と個人情報の取扱いへの同意が必要です。',
    confirm: '削除してよければ、確認のチェックを入れてください。',
    code: '認証アプリに表示されている6桁の確認コードを入力してください。',
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
  authenticatorTitle: 'Authenticator app (two-step login)',
  authenticatorLead:
    'With an authenticator app on your phone (Google Authenticator, Microsoft Authenticator and others), logging in needs the 6-digit code the app shows as well as your password, which keeps your account safer. First enter your e-mail address and password.',
  next: 'Next',
  enrolTitle: 'Set up your authenticator app',
  enrolScan: '1. Scan this QR code with your authenticator app.',
  qrLabel: 'QR code for your authenticator app',
  enrolManual: 'If you cannot scan the QR code, type this setup key into the app (the spaces do not matter).',
  enrolKeep: 'Do not show the QR code or the setup key to anyone.',
  enrolConfirm: '2. Enter the 6-digit code the app shows.',
  codeRequired: '6-digit code from your authenticator app',
  enrolSubmit: 'Finish setting up',
  enrolled: 'Your authenticator app is set up. From your next login, enter its code after your password.',
  alreadyEnrolled:
    'An authenticator app is set up already. To move it to another phone, remove the current one first.',
  enrolmentGone: 'This setup could not be found. Please start again.',
  removeAuthenticatorTitle: 'Remove your authenticator app',
  removeAuthenticatorLead:
    'Once the authenticator app is removed, logging in needs no code. Enter your e-mail address, password and the current code from the app to confirm.',
  removeSubmit: 'Remove',
  authenticatorRemoved: 'Your authenticator app has been removed. Logging in needs only your password now.',
  noAuthenticator: 'This account has no authenticator app.',
  proofExpired: 'Your confirmation has expired. Please enter your e-mail address and password again.',
  passkeysTitle: 'Your passkeys',
  passkeysLead:
    'See the passkeys of your account and delete the ones you no longer use (a phone you gave away, say). Enter your e-mail address and password to confirm.',
  passkeysShow: 'Show my passkeys',
  passkeysListLead: 'The passkeys of this account:',
  noPasskeys: 'This account has no passkeys. You can add one after logging in.',
  passkeyCreated: 'Added',
  passkeyLastUsed: 'Last used',
  passkeyNeverUsed: 'Not used yet',
  passkeySynced: 'Synced with your other devices',
  passkeyDelete: (name: string) => `Delete “${name}”`,
  passkeyDeleted: (name: string) => `The passkey “${name}” has been deleted.`,
  passkeyNotFound: 'That passkey could not be found.',
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
    authenticator: 'Authenticator app',
    passkeys: 'Your passkeys',
  },
  problems: {
    email: 'Enter a valid e-mail address.',
    name: 'Enter your name, at most 100 characters.',
    password: `The password needs at least ${MIN_PASSWORD} characters.`,
    municipality: 'Choose your municipality from the list.',
    terms: 'You need to agree to the terms of use and the handling of personal information.',
    confirm: 'Tick the box to confirm the deletion.',
    code: 'Enter the 6-digit code your authenticator app shows.',
  },
};

export type SelfServiceText = typeof JA;

export function wordsOf(lang: Lang): SelfServiceText {
  return lang === 'en' ? EN : JA;
}
