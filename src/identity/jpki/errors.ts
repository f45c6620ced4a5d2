/**
 * Why a card login failed, as a code the login page can act on and a message a resident can read
 * in Japanese and English. The problem type stays one of the platform's (401, 400 or 503), so the
 * catalogue in docs/errors.md is unchanged; the code travels as a problem extension.
 */
import { AppError } from '../../platform/index.ts';

export type JpkiErrorCode =
  | 'challenge-unknown'
  | 'challenge-expired'
  | 'challenge-used'
  | 'malformed'
  | 'bad-signature'
  | 'untrusted-certificate'
  | 'certificate-expired'
  | 'certificate-not-yet-valid'
  | 'wrong-key-usage'
  | 'revoked'
  | 'revocation-unavailable';

/** Japanese / English: an API answer carries both, a page in one language shows its half. */
const MESSAGES: Record<JpkiErrorCode, string> = {
  'challenge-unknown':
    'ログインの手続きが見つかりません。最初からやり直してください。 / This login attempt was not found. Please start again.',
  'challenge-expired':
    'ログインの手続きが時間切れになりました。もう一度お試しください。 / This login attempt has timed out. Please try again.',
  'challenge-used':
    'このログインの手続きは使用済みです。最初からやり直してください。 / This login attempt has already been used. Please start again.',
  malformed:
    'カードから読み取ったデータを確認できませんでした。もう一度カードを読み取ってください。 / The data read from the card could not be understood. Please read the card again.',
  'bad-signature':
    'カードの署名を確認できませんでした。もう一度カードを読み取ってください。 / The signature made by the card could not be verified. Please read the card again.',
  'untrusted-certificate':
    'マイナンバーカードの利用者証明用電子証明書として確認できませんでした。 / This is not a user-authentication certificate of a My Number Card.',
  'certificate-expired':
    '利用者証明用電子証明書の有効期限が切れています。お住まいの市区町村の窓口で更新してください。 / The card’s user-authentication certificate has expired. Please renew it at your municipal office.',
  'certificate-not-yet-valid':
    '利用者証明用電子証明書はまだ有効になっていません。 / The card’s user-authentication certificate is not valid yet.',
  'wrong-key-usage': 'この電子証明書はログインに使えません。 / This certificate cannot be used to log in.',
  revoked:
    '利用者証明用電子証明書は失効しています。お住まいの市区町村の窓口にお問い合わせください。 / The card’s user-authentication certificate has been revoked. Please contact your municipal office.',
  'revocation-unavailable':
    '電子証明書の有効性を今は確認できません。しばらくしてからもう一度お試しください。 / The certificate’s validity cannot be checked right now. Please try again later.',
};

/** Failures the resident can do nothing about but wait; the rest are refusals of this login. */
const STATUS: Partial<Record<JpkiErrorCode, [number, string, string]>> = {
  malformed: [400, 'bad-request', 'Bad Request'],
  'revocation-unavailable': [503, 'service-unavailable', 'Service Unavailable'],
};
const REFUSED: [number, string, string] = [401, 'unauthorized', 'Authentication required'];

export class JpkiError extends AppError {
  readonly code: JpkiErrorCode;

  /** `cause` is for the operator's log; it never carries the certificate. */
  constructor(code: JpkiErrorCode, options: { cause?: unknown } = {}) {
    const [status, slug, title] = STATUS[code] ?? REFUSED;
    super(status, slug, title, MESSAGES[code], { cause: options.cause, extensions: { code } });
    this.code = code;
  }

  /** The message in one language, for a login page in that language. */
  messageIn(lang: 'ja' | 'en'): string {
    const [ja, en] = MESSAGES[this.code].split(' / ');
    return (lang === 'en' ? en : ja) ?? this.message;
  }
}
