/**
 * The passkey pages: the password asked again, then the account's passkeys, each with its own
 * delete form carrying the CSRF token and the sealed proof of that password step (never the
 * password itself).
 */
import { errorBox, escapeHtml, hidden, type Lang } from '../oidc/pages.ts';
import { credentialFields, form, href, layout, problemsBox } from './layout.ts';
import type { CredentialsView } from './pages.ts';
import type { PasskeySummary } from './passkeys.ts';
import { type SelfServiceText, wordsOf } from './text.ts';

export function passkeysPage(v: CredentialsView): string {
  const t = wordsOf(v.lang);
  const problems = v.problems ?? [];
  return layout(
    v.lang,
    t.passkeysTitle,
    `<p>${t.passkeysLead}</p>${errorBox(v.error)}${problemsBox(t, problems)}
${form(href('passkeys', v.lang), v.csrf, credentialFields(t, v.email, problems), t.passkeysShow)}`,
    { name: 'passkeys' },
  );
}

/** A moment as residents read it: Japan's time, in the page's language. */
function when(lang: Lang, at: Date): string {
  const text = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'ja-JP', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'Asia/Tokyo',
  }).format(at);
  return `<time datetime="${at.toISOString()}">${escapeHtml(text)}</time>`;
}

export interface PasskeyListView {
  lang: Lang;
  /** The CSRF token of the delete forms. */
  csrf: string;
  proof: string;
  passkeys: readonly PasskeySummary[];
  /** What was just done ("deleted …"). */
  notice?: string;
  error?: string;
}

function passkeyItem(v: PasskeyListView, t: SelfServiceText, passkey: PasskeySummary): string {
  const used = passkey.lastUsedAt ? when(v.lang, passkey.lastUsedAt) : escapeHtml(t.passkeyNeverUsed);
  const synced = passkey.backedUp ? `<br>${escapeHtml(t.passkeySynced)}` : '';
  const fields = `${hidden('proof', v.proof)}${hidden('passkey', passkey.id)}`;
  return `<li><strong>${escapeHtml(passkey.name)}</strong>
<p class="hint">${escapeHtml(t.passkeyCreated)}: ${when(v.lang, passkey.createdAt)}<br>${escapeHtml(
    t.passkeyLastUsed,
  )}: ${used}${synced}</p>
${form(href('passkeyDelete', v.lang), v.csrf, fields, t.passkeyDelete(passkey.name), true)}</li>`;
}

/** The account's passkeys; an answer, so no language switch. */
export function passkeyListPage(v: PasskeyListView): string {
  const t = wordsOf(v.lang);
  const notice = v.notice ? `<p role="status">${escapeHtml(v.notice)}</p>` : '';
  const list =
    v.passkeys.length === 0
      ? `<p>${escapeHtml(t.noPasskeys)}</p>`
      : `<p>${escapeHtml(t.passkeysListLead)}</p><ul class="items">${v.passkeys
          .map((p) => passkeyItem(v, t, p))
          .join('\n')}</ul>`;
  return layout(v.lang, t.passkeysTitle, `${notice}${errorBox(v.error)}${list}`);
}
