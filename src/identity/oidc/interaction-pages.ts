/**
 * The pages of one interaction: login (password, and the My Number Card when configured), the
 * TOTP step, and consent. Forms post back to `/interaction/{uid}/…` with the interaction's CSRF token.
 */
import type Provider from 'oidc-provider';
import type { UpstreamProvider } from '../upstream/config.ts';
import { errorBox, escapeHtml, hidden, japaneseName, type Lang, page, textOf } from './pages.ts';
import { passkeyLoginSection } from './passkey-pages.ts';
import { INTERACTION_PATH } from './provider.ts';
import type { PurposeRequest } from './purpose-consent.ts';
import { purposeConsentPage } from './purpose-consent-page.ts';

export type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface CardChallenge {
  id: string;
  challenge: string;
}

const CARD_TEXT = {
  ja: {
    heading: 'マイナンバーカードでログイン',
    lead: 'カード読み取りアプリで次の確認コードに署名し、結果を送信してください。',
    challenge: '確認コード',
    signature: '署名',
    certificate: '利用者証明用電子証明書',
    submit: 'カードでログインする',
    totpTitle: '確認コードの入力',
    totpLead: '認証アプリに表示されている6桁の数字を入力してください。',
    totpLabel: '6桁の確認コード',
    totpSubmit: '確認する',
  },
  en: {
    heading: 'Log in with the My Number Card',
    lead: 'Sign the code below with the card-reading app and send the result.',
    challenge: 'Code to sign',
    signature: 'Signature',
    certificate: 'User authentication certificate',
    submit: 'Log in with the card',
    totpTitle: 'Enter the code',
    totpLead: 'Enter the 6-digit number shown in your authenticator app.',
    totpLabel: '6-digit code',
    totpSubmit: 'Confirm',
  },
};

function cardSection(lang: Lang, action: string, csrf: string, card: CardChallenge): string {
  const t = CARD_TEXT[lang];
  return `<section aria-labelledby="card-heading"><h2 id="card-heading">${t.heading}</h2><p>${t.lead}</p>
<form method="post" action="${action}/card">${hidden('csrf', csrf)}${hidden('challengeId', card.id)}
<label for="challenge">${t.challenge}</label><input id="challenge" readonly value="${escapeHtml(card.challenge)}">
<label for="signature">${t.signature}</label><input id="signature" name="signature" autocomplete="off">
<label for="certificate">${t.certificate}</label><input id="certificate" name="certificate" autocomplete="off">
<button class="primary" type="submit">${t.submit}</button></form></section>`;
}

function upstreamButton(lang: Lang, action: string, csrf: string, upstream: UpstreamProvider): string {
  const label = lang === 'ja' ? `${upstream.name.ja}でログイン` : `Log in with ${upstream.name.en}`;
  return `<form method="post" action="${action}/upstream/${escapeHtml(upstream.id)}">${hidden('csrf', csrf)}<button class="secondary" type="submit">${escapeHtml(label)}</button></form>`;
}

export function loginPage(
  details: Details,
  lang: Lang,
  csrf: string,
  clientName: string,
  options: {
    error?: string;
    email?: string;
    card?: CardChallenge;
    upstreams?: UpstreamProvider[];
    passkey?: boolean;
  } = {},
): string {
  const t = textOf(lang);
  const stepUp = details.prompt.reasons.includes('acr_values') && details.session ? `<p>${t.stepUp}</p>` : '';
  const action = `${INTERACTION_PATH}/${details.uid}`;
  return page(
    lang,
    t.loginTitle,
    `<p>${t.loginLead(japaneseName(lang, clientName))}</p>${stepUp}${errorBox(options.error)}
<form method="post" action="${action}/login" novalidate>${hidden('csrf', csrf)}
<label for="email">${t.email}</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(options.email ?? String(details.params.login_hint ?? ''))}"${options.error ? ' aria-invalid="true" aria-describedby="login-error"' : ''}>
<label for="password">${t.password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button class="primary" type="submit">${t.submitLogin}</button></form>${t.accountLinks}
${options.passkey ? passkeyLoginSection(lang, details.uid, csrf) : ''}
${options.card ? cardSection(lang, action, csrf, options.card) : ''}
${(options.upstreams ?? []).map((u) => upstreamButton(lang, action, csrf, u)).join('')}
<form method="post" action="${action}/abort">${hidden('csrf', csrf)}<button class="secondary" type="submit">${t.cancel}</button></form>`,
  );
}

export function totpPage(
  details: Details,
  lang: Lang,
  csrf: string,
  pending: string,
  error?: string,
): string {
  const t = CARD_TEXT[lang];
  const action = `${INTERACTION_PATH}/${details.uid}`;
  return page(
    lang,
    t.totpTitle,
    `<p>${t.totpLead}</p>${errorBox(error)}
<form method="post" action="${action}/totp">${hidden('csrf', csrf)}${hidden('pending', pending)}
<label for="code">${t.totpLabel}</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" required${error ? ' aria-invalid="true" aria-describedby="login-error"' : ''}>
<button class="primary" type="submit">${t.totpSubmit}</button></form>`,
  );
}

/** The OIDC scopes asked, as the resident reads them. */
export function scopesShown(details: Details, lang: Lang): string[] {
  const t = textOf(lang);
  return String(details.params.scope ?? '')
    .split(' ')
    .filter((s) => t.scopes[s])
    .map((s) => t.scopes[s] as string);
}

/**
 * The consent page: for a service that declared a service request, its purposes item by item
 * (purpose-consent-page.ts); otherwise the scopes alone.
 */
export function consentPage(
  details: Details,
  lang: Lang,
  csrf: string,
  clientName: string,
  purposes?: PurposeRequest,
  notice?: string,
): string {
  const scopes = scopesShown(details, lang);
  if (purposes) {
    return purposeConsentPage({ uid: details.uid, csrf, lang, clientName, purposes, scopes, notice });
  }
  const t = textOf(lang);
  const action = `${INTERACTION_PATH}/${details.uid}`;
  return page(
    lang,
    t.consentTitle,
    `<p>${t.consentLead(japaneseName(lang, clientName))}</p>
<ul>${scopes.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>
<form method="post" action="${action}/confirm">${hidden('csrf', csrf)}<button class="primary" type="submit">${t.allow}</button></form>
<form method="post" action="${action}/abort">${hidden('csrf', csrf)}<button class="secondary" type="submit">${t.deny}</button></form>`,
  );
}
