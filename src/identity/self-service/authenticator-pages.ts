/**
 * The authenticator app's pages: the password asked again, then the QR code (an inline SVG drawn
 * on the server, so the seed goes to no other site and no script is needed) with the seed to type
 * in by hand, then the code that confirms it; and the page that removes it.
 */
import QRCode from 'qrcode';
import { errorBox, escapeHtml, hidden, type Lang } from '../oidc/pages.ts';
import type { Field } from './forms.ts';
import { credentialFields, form, href, input, layout, problemsBox } from './layout.ts';
import type { CredentialsView } from './pages.ts';
import { wordsOf } from './text.ts';

/**
 * The otpauth URI as a QR code an app can scan from a phone's screen held up to another: medium
 * error correction and the quiet zone the standard asks for (four modules).
 */
export async function qrSvg(uri: string, label: string): Promise<string> {
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4, width: 256 });
  return svg.replace('<svg ', `<svg class="qr" role="img" aria-label="${escapeHtml(label)}" `);
}

/** The Base32 seed in groups of four, as apps print it, easier to read out and type. */
export function groupedSecret(secret: string): string {
  return secret.match(/.{1,4}/g)?.join(' ') ?? secret;
}

/** A link to the removal page, as tall as a finger needs. */
function removeLink(lang: Lang): string {
  const t = wordsOf(lang);
  const to = escapeHtml(href('authenticatorRemove', lang));
  return `<ul class="links"><li><a href="${to}">${escapeHtml(t.removeAuthenticatorTitle)}</a></li></ul>`;
}

export function authenticatorPage(v: CredentialsView): string {
  const t = wordsOf(v.lang);
  const problems = v.problems ?? [];
  return layout(
    v.lang,
    t.authenticatorTitle,
    `<p>${t.authenticatorLead}</p>${errorBox(v.error)}${problemsBox(t, problems)}
${form(href('authenticator', v.lang), v.csrf, credentialFields(t, v.email, problems), t.next)}
${removeLink(v.lang)}`,
    { name: 'authenticator' },
  );
}

export interface EnrolView {
  lang: Lang;
  csrf: string;
  /** The sealed proof of the password step. */
  proof: string;
  /** From qrSvg. */
  qr: string;
  secret: string;
  problems?: readonly Field[];
  error?: string;
}

/** The QR code, the seed and the code that confirms them; an answer, so no language switch. */
export function enrolPage(v: EnrolView): string {
  const t = wordsOf(v.lang);
  const problems = v.problems ?? [];
  const code = input({
    id: 'code',
    label: t.codeRequired,
    type: 'text',
    autocomplete: 'one-time-code',
    numeric: true,
    invalid: problems.includes('code'),
  });
  return layout(
    v.lang,
    t.enrolTitle,
    `${errorBox(v.error)}${problemsBox(t, problems)}<p>${t.enrolScan}</p>
${v.qr}
<p>${t.enrolManual}</p>
<p class="secret"><code>${escapeHtml(groupedSecret(v.secret))}</code></p>
<p class="hint">${t.enrolKeep}</p>
<p>${t.enrolConfirm}</p>
${form(href('authenticatorConfirm', v.lang), v.csrf, `${hidden('proof', v.proof)}${code}`, t.enrolSubmit)}`,
  );
}

/** The answer when an authenticator is set up already: it says how to replace it. */
export function enrolledAlreadyPage(lang: Lang): string {
  const t = wordsOf(lang);
  return layout(
    lang,
    t.authenticatorTitle,
    `<p role="status">${escapeHtml(t.alreadyEnrolled)}</p>${removeLink(lang)}`,
  );
}

export function removeAuthenticatorPage(v: CredentialsView): string {
  const t = wordsOf(v.lang);
  const problems = v.problems ?? [];
  return layout(
    v.lang,
    t.removeAuthenticatorTitle,
    `<p>${t.removeAuthenticatorLead}</p>${errorBox(v.error)}${problemsBox(t, problems)}
${form(href('authenticatorRemove', v.lang), v.csrf, credentialFields(t, v.email, problems, true), t.removeSubmit, true)}`,
    { name: 'authenticatorRemove' },
  );
}
