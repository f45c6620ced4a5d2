/**
 * The provider's own pages (login, consent, logout, errors): server-rendered HTML, Japanese first
 * with English on request, readable on a small phone, usable without JavaScript. Every value is
 * escaped; every form carries its CSRF token.
 */
import { escapeHtml } from '../../platform/index.ts';

export type Lang = 'ja' | 'en';

const TEXT = {
  ja: {
    brand: 'Machi 共通ID',
    loginTitle: 'ログイン',
    loginLead: (client: string) => `「${client}」を利用するためにログインしてください。`,
    email: 'メールアドレス',
    password: 'パスワード',
    submitLogin: 'ログインする',
    cancel: 'やめる',
    consentTitle: '情報提供の確認',
    consentLead: (client: string) => `「${client}」に次の情報を提供します。よろしいですか。`,
    allow: '許可する',
    deny: '許可しない',
    logoutTitle: 'ログアウト',
    logoutLead: 'すべてのサービスからログアウトしますか。',
    logoutYes: 'ログアウトする',
    loggedOut: 'ログアウトしました。',
    errorTitle: 'エラー',
    stepUp: 'このサービスには、より確かな本人確認（マイナンバーカードなど）が必要です。',
    switchLang: 'English',
    unverified:
      'メールアドレスの確認が済んでいません。登録のときに届いたメールのリンクを開いてください。メールが見つからない場合は、下の「確認メールの再送」から送り直せます。',
    // The self-service pages (identity/self-service), linked under the login form.
    accountLinks:
      '<ul class="links"><li><a href="/account/register?lang=ja">新規登録</a></li><li><a href="/account/reset?lang=ja">パスワードを忘れた方</a></li><li><a href="/account/verify/resend?lang=ja">確認メールの再送</a></li></ul>',
    scopes: {
      openid: '利用者を識別する番号（サービスごとに異なります）',
      profile: '氏名',
      email: 'メールアドレス',
      address: '住所',
      phone: '電話番号',
      municipality: 'お住まいの市区町村',
      offline_access: 'ログアウト中もこのサービスが情報を更新できること',
    } as Record<string, string>,
  },
  en: {
    brand: 'Machi Common ID',
    loginTitle: 'Log in',
    loginLead: (client: string) => `Log in to use ${client}.`,
    email: 'E-mail address',
    password: 'Password',
    submitLogin: 'Log in',
    cancel: 'Cancel',
    consentTitle: 'Share your information?',
    consentLead: (client: string) => `${client} will receive the following. Do you agree?`,
    allow: 'Allow',
    deny: 'Do not allow',
    logoutTitle: 'Log out',
    logoutLead: 'Log out of every service?',
    logoutYes: 'Log out',
    loggedOut: 'You have logged out.',
    errorTitle: 'Error',
    stepUp: 'This service needs a stronger proof of identity (such as the My Number Card).',
    switchLang: '日本語',
    unverified:
      'Your e-mail address is not confirmed yet. Open the link in the mail we sent when you registered. If you cannot find it, use "Send the confirmation mail again" below.',
    accountLinks:
      '<ul class="links"><li><a href="/account/register?lang=en">Register</a></li><li><a href="/account/reset?lang=en">Forgot your password?</a></li><li><a href="/account/verify/resend?lang=en">Send the confirmation mail again</a></li></ul>',
    scopes: {
      openid: 'A number that identifies you (different for each service)',
      profile: 'Your name',
      email: 'Your e-mail address',
      address: 'Your address',
      phone: 'Your phone number',
      municipality: 'Your municipality',
      offline_access: 'Updates by this service while you are logged out',
    } as Record<string, string>,
  },
};

export function textOf(lang: Lang) {
  return TEXT[lang];
}

export { escapeHtml };

/** The language asked for by `ui_locales` (OIDC) or else Accept-Language; Japanese by default. */
export function pickLang(uiLocales: string | undefined, acceptLanguage: string | undefined): Lang {
  const first = (uiLocales ?? '').split(' ').find(Boolean) ?? (acceptLanguage ?? '').split(',')[0] ?? '';
  return first.trim().toLowerCase().startsWith('en') ? 'en' : 'ja';
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font-family:system-ui,"Hiragino Sans","Noto Sans CJK JP",sans-serif;
background:#f4f6f8;color:#1a1a1a;font-size:18px;line-height:1.7}
main{max-width:28rem;margin:0 auto;padding:1.5rem 1rem}
header{font-weight:700;color:#0b5394;margin-bottom:1rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}
.card{background:#fff;border-radius:12px;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
label{display:block;font-weight:600;margin-top:1rem}
input{width:100%;font-size:1.1rem;padding:.75rem;border:2px solid #6b7280;border-radius:8px;margin-top:.25rem}
input,button{font:inherit}
input:focus,button:focus,a:focus{outline:3px solid #b45309;outline-offset:2px}
button{width:100%;font-size:1.1rem;padding:.85rem;border-radius:8px;border:0;margin-top:1.25rem;cursor:pointer}
.primary{background:#0b5394;color:#fff}.secondary{background:#e5e7eb;color:#111}
.error{background:#fdecea;color:#8a1c12;border-left:5px solid #c62828;padding:.75rem;border-radius:6px}
select{width:100%;font:inherit;padding:.75rem;border:2px solid #6b7280;border-radius:8px;margin-top:.25rem;background:#fff}
select:focus{outline:3px solid #b45309;outline-offset:2px}.hint{font-size:1rem;color:#374151;margin:.25rem 0 0}
.check{display:flex;gap:.6rem;align-items:flex-start}.check input{width:1.5rem;height:1.5rem;margin-top:.2rem;flex:none}
.danger{background:#b91c1c;color:#fff}.links,nav ul{list-style:none;padding:0;margin:1.25rem 0 0;font-size:1rem}
.links a,nav ul a,footer a{display:inline-flex;align-items:center;min-height:44px;padding:.25rem 0}
ul{padding-left:1.25rem}footer{margin-top:1.5rem;text-align:center;font-size:1rem}a{color:#0b5394}
.qr{display:block;width:min(256px,100%);height:auto;margin:.5rem auto}.secret code{display:inline-block;max-width:13em;font:600 1.2rem/1.6 ui-monospace,monospace;word-spacing:.4em}
.items{list-style:none;padding:0;margin:0}.items li{border-top:1px solid #d1d5db;padding:1rem 0}.items li:first-child{border-top:0}
.purposes h2{font-size:1.25rem;line-height:1.4;margin:1.75rem 0 .5rem}.purposes h3{font-size:1.1rem;line-height:1.4;margin:1.25rem 0 0}
.note{color:#374151;margin:.5rem 0}.notice{background:#eff6ff;border-left:5px solid #0b5394;padding:.75rem;border-radius:6px}
.choices,.facts{list-style:none;padding:0;margin:0}.choice{border:2px solid #9ca3af;border-radius:10px;padding:.75rem 1rem;margin-top:.75rem}
.choice.sensitive{border-color:#b45309;background:#fffbeb}.choice label.check{margin-top:0;min-height:44px;font-size:1.15rem;font-weight:700;align-items:center}
.choice .check input{width:1.75rem;height:1.75rem;margin-top:0}
.choice .what{font-weight:700;margin:0}.badge{display:inline-block;font-size:.95rem;font-weight:700;line-height:1.5;padding:0 .5rem;border-radius:4px;color:#fff;background:#9a3412;margin-left:.25rem}
.fact{border-left:5px solid #9ca3af;padding:.25rem 0 .25rem .85rem;margin-top:.75rem}.fact.sensitive{border-left-color:#b45309}
.fact .what{font-weight:700;margin:0}.badge.changed{background:#0b5394}.term{margin:.3rem 0 0}.term.explain{color:#374151}
`;

export function page(lang: Lang, title: string, body: string, switchHref?: string): string {
  const t = textOf(lang);
  const footer = switchHref
    ? `<footer><a href="${escapeHtml(switchHref)}" lang="${lang === 'ja' ? 'en' : 'ja'}">${t.switchLang}</a></footer>`
    : '';
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - ${t.brand}</title><style>${STYLE}</style></head>
<body><main><header>${t.brand}</header><h1>${escapeHtml(title)}</h1>
<div class="card">${body}</div>${footer}</main></body></html>`;
}

export function errorBox(message: string | undefined): string {
  return message ? `<p class="error" role="alert" id="login-error">${escapeHtml(message)}</p>` : '';
}

export function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

/** A name in Japanese (a service's, a municipality's) inside text of another language. */
export function japaneseName(lang: Lang, name: string): string {
  return lang === 'ja' ? escapeHtml(name) : `<span lang="ja">${escapeHtml(name)}</span>`;
}
