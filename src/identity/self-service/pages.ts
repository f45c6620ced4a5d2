/**
 * The self-service pages, in the provider's layout (oidc/pages.ts): server-rendered, usable without
 * JavaScript, every value escaped, every form carrying its CSRF token and posting to `?lang=` so the
 * answer comes in the same language.
 */
import { errorBox, escapeHtml, hidden, type Lang, page } from '../oidc/pages.ts';
import type { Field } from './forms.ts';
import type { Municipality } from './store.ts';
import { type SelfServiceText, wordsOf } from './text.ts';

export const ACCOUNT_PATH = '/account';

/** Where each page lives, under ACCOUNT_PATH. */
export const PAGES = {
  register: '/register',
  verify: '/verify',
  resend: '/verify/resend',
  reset: '/reset',
  resetConfirm: '/reset/confirm',
  delete: '/delete',
  municipality: '/municipality',
} as const;
export type PageName = keyof typeof PAGES;

export function href(name: PageName, lang: Lang, query: Record<string, string> = {}): string {
  const params = new URLSearchParams({ ...query, lang });
  return `${ACCOUNT_PATH}${PAGES[name]}?${params}`;
}

function nav(lang: Lang, t: SelfServiceText): string {
  const links = (['register', 'reset', 'municipality', 'delete'] as const).map(
    (name) => `<li><a href="${escapeHtml(href(name, lang))}">${t.nav[name]}</a></li>`,
  );
  return `<nav aria-label="${t.navLabel}"><ul>${links.join('')}</ul></nav>`;
}

/**
 * A page; a form page's language switch leads to the same form (and query) in the other language.
 * An answer has none: it is not shown again.
 */
function layout(
  lang: Lang,
  title: string,
  body: string,
  form?: { name: PageName; query?: Record<string, string> },
): string {
  const other: Lang = lang === 'ja' ? 'en' : 'ja';
  const switchHref = form ? href(form.name, other, form.query) : undefined;
  return page(lang, title, `${body}${nav(lang, wordsOf(lang))}`, switchHref);
}

function problemsBox(t: SelfServiceText, problems: readonly Field[]): string {
  if (problems.length === 0) return '';
  const items = problems.map((p) => `<li>${escapeHtml(t.problems[p])}</li>`).join('');
  return `<div class="error" role="alert"><ul>${items}</ul></div>`;
}

interface Input {
  id: Field | 'code';
  label: string;
  type: 'email' | 'text' | 'password';
  autocomplete: string;
  value?: string;
  hint?: string;
  invalid?: boolean;
}

function input(f: Input): string {
  const hint = f.hint ? `<p class="hint" id="${f.id}-hint">${escapeHtml(f.hint)}</p>` : '';
  const described = f.hint ? ` aria-describedby="${f.id}-hint"` : '';
  const value = f.type === 'password' || !f.value ? '' : ` value="${escapeHtml(f.value)}"`;
  return `<label for="${f.id}">${escapeHtml(f.label)}</label>${hint}
<input id="${f.id}" name="${f.id}" type="${f.type}" autocomplete="${f.autocomplete}"${described}${
    f.invalid ? ' aria-invalid="true"' : ''
  }${value}>`;
}

function checkbox(id: Field, label: string, checked: boolean, invalid: boolean): string {
  return `<label class="check" for="${id}"><input id="${id}" name="${id}" type="checkbox" value="yes"${
    checked ? ' checked' : ''
  }${invalid ? ' aria-invalid="true"' : ''}>${escapeHtml(label)}</label>`;
}

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

function form(action: string, csrf: string, fields: string, submit: string, danger = false): string {
  return `<form method="post" action="${escapeHtml(action)}" novalidate>${hidden('csrf', csrf)}
${fields}
<button class="${danger ? 'danger' : 'primary'}" type="submit">${escapeHtml(submit)}</button></form>`;
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

function credentialFields(t: SelfServiceText, email: string | undefined, problems: readonly Field[]): string {
  return [
    input({
      id: 'email',
      label: t.email,
      type: 'email',
      autocomplete: 'username',
      value: email,
      invalid: problems.includes('email'),
    }),
    input({
      id: 'password',
      label: t.password,
      type: 'password',
      autocomplete: 'current-password',
      invalid: problems.includes('password'),
    }),
    input({ id: 'code', label: t.code, type: 'text', autocomplete: 'one-time-code' }),
  ].join('\n');
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
