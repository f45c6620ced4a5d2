/**
 * The self-service pages, in the provider's layout (oidc/pages.ts): server-rendered, usable without
 * JavaScript, every value escaped, every form carrying its CSRF token and posting to `?lang=` so the
 * answer comes in the same language.
 */
import { errorBox, escapeHtml, hidden, type Lang } from '../oidc/pages.ts';
import type { Field } from './forms.ts';
import { checkbox, credentialFields, form, href, input, layout, problemsBox } from './layout.ts';
import type { Municipality } from './store.ts';
import { type SelfServiceText, wordsOf } from './text.ts';

function municipalitySelect(
  lang: Lang,
  t: SelfServiceText,
  label: string,
  municipalities: readonly Municipality[],
  selected: string,
  invalid: boolean,
): string {
  const groups = new Map<string, Municipality[]>();
  for (const m of municipalities) {
    const group = lang === 'en' ? `${m.prefecture} (${m.prefectureEn})` : m.prefecture;
    groups.set(group, [...(groups.get(group) ?? []), m]);
  }
  const options = [...groups]
    .map(([group, list]) => {
      const items = list.map((m) => {
        const name = lang === 'en' ? `${m.name} (${m.nameEn})` : m.name;
        const chosen = m.code === selected ? ' selected' : '';
        return `<option value="${escapeHtml(m.code)}"${chosen}>${escapeHtml(name)}</option>`;
      });
      return `<optgroup label="${escapeHtml(group)}">${items.join('')}</optgroup>`;
    })
    .join('');
  return `<label for="municipality">${escapeHtml(label)}</label>
<select id="municipality" name="municipality"${invalid ? ' aria-invalid="true"' : ''}>
<option value="">${escapeHtml(t.choose)}</option>${options}</select>`;
}

export interface RegisterView {
  lang: Lang;
  csrf: string;
  municipalities: readonly Municipality[];
  values?: { email: string; name: string; municipality: string; terms: boolean };
  problems?: readonly Field[];
  error?: string;
}

export function registerPage(v: RegisterView): string {
  const t = wordsOf(v.lang);
  const bad = (f: Field) => v.problems?.includes(f) ?? false;
  const fields = [
    input({
      id: 'email',
      label: t.email,
      type: 'email',
      autocomplete: 'email',
      value: v.values?.email,
      invalid: bad('email'),
    }),
    input({
      id: 'name',
      label: t.name,
      type: 'text',
      autocomplete: 'name',
      value: v.values?.name,
      invalid: bad('name'),
    }),
    input({
      id: 'password',
      label: t.password,
      type: 'password',
      autocomplete: 'new-password',
      hint: t.passwordHint,
      invalid: bad('password'),
    }),
    municipalitySelect(
      v.lang,
      t,
      t.municipality,
      v.municipalities,
      v.values?.municipality ?? '',
      bad('municipality'),
    ),
    checkbox('terms', t.terms, v.values?.terms ?? false, bad('terms')),
  ].join('\n');
  return layout(
    v.lang,
    t.registerTitle,
    `<p>${t.registerLead}</p>${errorBox(v.error)}${problemsBox(t, v.problems ?? [])}
${form(href('register', v.lang), v.csrf, fields, t.register)}`,
    { name: 'register' },
  );
}

/** The same answer whether or not the address has an account. */
export function sentPage(lang: Lang, kind: 'register' | 'reset' | 'resend', mailOff: boolean): string {
  const t = wordsOf(lang);
  const message = kind === 'register' ? t.sentRegister : kind === 'reset' ? t.sentReset : t.sentResend;
  const off = mailOff ? `<p class="error">${t.mailOff}</p>` : '';
  return layout(lang, t.sentTitle, `<p role="status">${message}</p>${off}`);
}

export function messagePage(lang: Lang, title: string, message: string, ok: boolean): string {
  return layout(lang, title, ok ? `<p role="status">${escapeHtml(message)}</p>` : errorBox(message));
}

export function emailRequestPage(
  lang: Lang,
  kind: 'reset' | 'resend',
  csrf: string,
  options: { email?: string; problems?: readonly Field[]; error?: string } = {},
): string {
  const t = wordsOf(lang);
  const fields = input({
    id: 'email',
    label: t.email,
    type: 'email',
    autocomplete: 'email',
    value: options.email,
    invalid: options.problems?.includes('email'),
  });
  return layout(
    lang,
    kind === 'reset' ? t.resetTitle : t.resendTitle,
    `<p>${kind === 'reset' ? t.resetLead : t.resendLead}</p>${errorBox(options.error)}${problemsBox(t, options.problems ?? [])}
${form(href(kind, lang), csrf, fields, t.send)}`,
    { name: kind },
  );
}

export function resetConfirmPage(
  lang: Lang,
  csrf: string,
  token: string,
  options: { problems?: readonly Field[]; error?: string } = {},
): string {
  const t = wordsOf(lang);
  const problems = options.problems ?? [];
  const fields = `${hidden('token', token)}${input({
    id: 'password',
    label: t.newPassword,
    type: 'password',
    autocomplete: 'new-password',
    hint: t.passwordHint,
    invalid: problems.includes('password'),
  })}`;
  return layout(
    lang,
    t.resetTitle,
    `<p>${t.resetConfirmLead}</p>${errorBox(options.error)}${problemsBox(t, problems)}
${form(href('resetConfirm', lang), csrf, fields, t.resetSubmit)}`,
    { name: 'resetConfirm', query: { token } },
  );
}

export interface CredentialsView {
  lang: Lang;
  csrf: string;
  email?: string;
  problems?: readonly Field[];
  error?: string;
}

export function deletePage(v: CredentialsView): string {
  const t = wordsOf(v.lang);
  const problems = v.problems ?? [];
  const fields = `${credentialFields(t, v.email, problems)}
${checkbox('confirm', t.confirmDelete, false, problems.includes('confirm'))}`;
  return layout(
    v.lang,
    t.deleteTitle,
    `<p>${t.deleteLead}</p>${errorBox(v.error)}${problemsBox(t, problems)}
${form(href('delete', v.lang), v.csrf, fields, t.deleteSubmit, true)}`,
    { name: 'delete' },
  );
}

export function movePage(
  v: CredentialsView & { municipalities: readonly Municipality[]; municipality?: string },
): string {
  const t = wordsOf(v.lang);
  const problems = v.problems ?? [];
  const select = municipalitySelect(
    v.lang,
    t,
    t.newMunicipality,
    v.municipalities,
    v.municipality ?? '',
    problems.includes('municipality'),
  );
  return layout(
    v.lang,
    t.moveTitle,
    `<p>${t.moveLead}</p>${errorBox(v.error)}${problemsBox(t, problems)}
${form(href('municipality', v.lang), v.csrf, `${select}\n${credentialFields(t, v.email, problems)}`, t.moveSubmit)}`,
    { name: 'municipality' },
  );
}
