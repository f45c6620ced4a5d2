/**
 * The passkey parts of the interaction pages: the "log in with a passkey" button on the login page
 * and the offer to register one after a login. Both are driven by /interaction-assets/passkey.js
 * (the CSP allows no inline script) and stay hidden where it cannot run, so the pages work without.
 */
import { errorBox, escapeHtml, hidden, type Lang, page } from './pages.ts';
import { INTERACTION_PATH } from './provider.ts';

export const PASSKEY_SCRIPT_PATH = '/interaction-assets/passkey.js';

const TEXT = {
  ja: {
    or: 'または',
    loginButton: 'パスキーでログイン',
    loginLead: '登録したパスキー（指紋・顔認証や画面ロック）でログインできます。',
    loginCancelled:
      'パスキーでのログインを中止しました。もう一度お試しいただくか、パスワードでログインしてください。',
    loginUnavailable: 'パスキーを使えませんでした。パスワードでログインしてください。',
    offerTitle: 'パスキーを登録しますか',
    offerLead:
      'パスキーを登録すると、次回からパスワードの代わりに、この端末の指紋・顔認証または画面ロックでログインできます。',
    name: 'パスキーの名前（任意）',
    namePlaceholder: '例: 自分のスマートフォン',
    register: '登録する',
    later: 'あとで',
    unsupported: 'このブラウザではパスキーを登録できません。「あとで」を押してログインを続けてください。',
    registerCancelled: '登録を中止しました。もう一度「登録する」を押すか、「あとで」を押してください。',
    registerFailed: 'パスキーを登録できませんでした。「あとで」を押すとログインを続けられます。',
    defaultName: 'パスキー',
  },
  en: {
    or: 'or',
    loginButton: 'Log in with a passkey',
    loginLead: 'Use a passkey you registered (fingerprint, face or screen lock).',
    loginCancelled: 'The passkey login was cancelled. Try again, or log in with your password.',
    loginUnavailable: 'The passkey could not be used. Please log in with your password.',
    offerTitle: 'Register a passkey?',
    offerLead:
      'With a passkey you can log in next time with this device’s fingerprint, face or screen lock instead of your password.',
    name: 'Name of the passkey (optional)',
    namePlaceholder: 'e.g. My phone',
    register: 'Register',
    later: 'Not now',
    unsupported: 'This browser cannot register a passkey. Press “Not now” to continue.',
    registerCancelled: 'Registration was cancelled. Press “Register” again, or “Not now”.',
    registerFailed: 'The passkey could not be registered. Press “Not now” to continue logging in.',
    defaultName: 'Passkey',
  },
};

export function passkeyText(lang: Lang) {
  return TEXT[lang];
}

/** The outlined look of a second way to log in, next to the password form's primary button. */
const STYLE = `<style>.passkey-button{background:#fff;color:#0b5394;border:2px solid #0b5394}
.passkey-or{text-align:center;margin:1.25rem 0 0;color:#4b5563}</style>`;

const script = `<script src="${PASSKEY_SCRIPT_PATH}" defer></script>`;

/** The login page's passkey button; the script shows it when the browser can use passkeys. */
export function passkeyLoginSection(lang: Lang, uid: string, csrf: string): string {
  const t = TEXT[lang];
  const action = `${INTERACTION_PATH}/${uid}/passkey`;
  return `${STYLE}<section id="passkey" data-passkey="login" data-options="${action}/options"
 data-cancelled="${escapeHtml(t.loginCancelled)}" data-failed="${escapeHtml(t.loginUnavailable)}" hidden>
<p class="passkey-or">${t.or}</p><p>${t.loginLead}</p>
<button class="passkey-button" type="button" id="passkey-button">${t.loginButton}</button>
<p class="error" role="alert" id="passkey-error" hidden></p>
<form method="post" action="${action}/login" id="passkey-form">${hidden('csrf', csrf)}${hidden('credential', '')}</form>
</section>${script}`;
}

/**
 * Offered once after a login by other means: register a passkey, or continue ("あとで"), which
 * needs no script and always finishes the login.
 */
export function passkeyOfferPage(lang: Lang, uid: string, csrf: string, error?: string): string {
  const t = TEXT[lang];
  const action = `${INTERACTION_PATH}/${uid}/passkey`;
  return page(
    lang,
    t.offerTitle,
    `<p>${t.offerLead}</p>${errorBox(error)}
<section id="passkey" data-passkey="register" data-options="${action}/register/options"
 data-cancelled="${escapeHtml(t.registerCancelled)}" data-failed="${escapeHtml(t.registerFailed)}" hidden>
<label for="passkey-name">${t.name}</label>
<input id="passkey-name" maxlength="60" autocomplete="off" placeholder="${escapeHtml(t.namePlaceholder)}">
<button class="primary" type="button" id="passkey-button">${t.register}</button>
<p class="error" role="alert" id="passkey-error" hidden></p>
<form method="post" action="${action}/register" id="passkey-form">${hidden('csrf', csrf)}${hidden('credential', '')}${hidden('name', '')}</form>
</section>
<p id="passkey-unsupported">${t.unsupported}</p>
<form method="post" action="${action}/skip">${hidden('csrf', csrf)}<button class="secondary" type="submit">${t.later}</button></form>
${script}`,
  );
}
