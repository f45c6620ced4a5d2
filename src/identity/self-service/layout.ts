/**
 * What every self-service page is made of: where the pages live, the layout with its navigation,
 * and the form parts (inputs, the credentials asked again, the CSRF-carrying form).
 */
import { escapeHtml, hidden, type Lang, page } from '../oidc/pages.ts';
import type { Field } from './forms.ts';
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
  authenticator: '/authenticator',
  authenticatorConfirm: '/authenticator/confirm',
  authenticatorRemove: '/authenticator/remove',
  passkeys: '/passkeys',
  passkeyDelete: '/passkeys/delete',
} as const;
export type PageName = keyof typeof PAGES;

export function href(name: PageName, lang: Lang, query: Record<string, string> = {}): string {
  const params = new URLSearchParams({ ...query, lang });
  return `${ACCOUNT_PATH}${PAGES[name]}?${params}`;
}

function nav(lang: Lang, t: SelfServiceText): string {
  const links = (['register', 'reset', 'authenticator', 'passkeys', 'municipality', 'delete'] as const).map(
    (name) => `<li><a href="${escapeHtml(href(name, lang))}">${t.nav[name]}</a></li>`,
  );
  return `<nav aria-label="${t.navLabel}"><ul>${links.join('')}</ul></nav>`;
}

/**
 * A page; a form page's language switch leads to the same form (and query) in the other language.
 * An answer has none: it is not shown again.
 */
export function layout(
  lang: Lang,
  title: string,
  body: string,
  form?: { name: PageName; query?: Record<string, string> },
): string {
  const other: Lang = lang === 'ja' ? 'en' : 'ja';
  const switchHref = form ? href(form.name, other, form.query) : undefined;
  return page(lang, title, `${body}${nav(lang, wordsOf(lang))}`, switchHref);
}

export function problemsBox(t: SelfServiceText, problems: readonly Field[]): string {
  if (problems.length === 0) return '';
  const items = problems.map((p) => `<li>${escapeHtml(t.problems[p])}</li>`).join('');
  return `<div class="error" role="alert"><ul>${items}</ul></div>`;
}

export interface Input {
  id: Field | 'code';
  label: string;
  type: 'email' | 'text' | 'password';
  autocomplete: string;
  value?: string;
  hint?: string;
  invalid?: boolean;
  /** Brings up the phone's number pad (the authenticator's code). */
  numeric?: boolean;
}

export function input(f: Input): string {
  const hint = f.hint ? `<p class="hint" id="${f.id}-hint">${escapeHtml(f.hint)}</p>` : '';
  const described = f.hint ? ` aria-describedby="${f.id}-hint"` : '';
  const value = f.type === 'password' || !f.value ? '' : ` value="${escapeHtml(f.value)}"`;
  const numeric = f.numeric ? ' inputmode="numeric" maxlength="7"' : '';
  return `<label for="${f.id}">${escapeHtml(f.label)}</label>${hint}
<input id="${f.id}" name="${f.id}" type="${f.type}" autocomplete="${f.autocomplete}"${described}${numeric}${
    f.invalid ? ' aria-invalid="true"' : ''
  }${value}>`;
}

export function checkbox(id: Field, label: string, checked: boolean, invalid: boolean): string {
  return `<label class="check" for="${id}"><input id="${id}" name="${id}" type="checkbox" value="yes"${
    checked ? ' checked' : ''
  }${invalid ? ' aria-invalid="true"' : ''}>${escapeHtml(label)}</label>`;
}

export function form(action: string, csrf: string, fields: string, submit: string, danger = false): string {
  return `<form method="post" action="${escapeHtml(action)}" novalidate>${hidden('csrf', csrf)}
${fields}
<button class="${danger ? 'danger' : 'primary'}" type="submit">${escapeHtml(submit)}</button></form>`;
}

/** The e-mail address, password and authenticator code asked again; `codeRequired` to remove the authenticator. */
export function credentialFields(
  t: SelfServiceText,
  email: string | undefined,
  problems: readonly Field[],
  codeRequired = false,
): string {
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
    input({
      id: 'code',
      label: codeRequired ? t.codeRequired : t.code,
      type: 'text',
      autocomplete: 'one-time-code',
      numeric: true,
      invalid: problems.includes('code'),
    }),
  ].join('\n');
}
