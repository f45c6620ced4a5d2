/**
 * What the self-service forms accept: each parser returns the values it read and the fields that
 * are wrong, so a page can say all of it at once and keep what the resident typed.
 */

export type Field = 'email' | 'name' | 'password' | 'municipality' | 'terms' | 'confirm' | 'code';

export const MIN_PASSWORD = 12;
const MAX_PASSWORD = 1024;
const MAX_NAME = 100;
const MAX_EMAIL = 254;
// The same rule as accounts.ts, so nothing the form accepts is refused when the account is made.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// Control characters (line breaks included) would let a name rewrite the mails it appears in.
const CONTROL = /\p{Cc}/u;

export type Body = Record<string, unknown> | undefined;

export function text(body: Body, name: string): string {
  const value = body?.[name];
  return typeof value === 'string' ? value : '';
}

function emailOf(body: Body): string {
  return text(body, 'email').trim();
}

function emailWrong(email: string): boolean {
  return email.length > MAX_EMAIL || !EMAIL.test(email);
}

export function passwordWrong(password: string): boolean {
  return password.length < MIN_PASSWORD || password.length > MAX_PASSWORD;
}

export interface Registration {
  email: string;
  name: string;
  password: string;
  municipality: string;
  terms: boolean;
}

export function parseRegistration(body: Body, municipalities: ReadonlySet<string>) {
  const values: Registration = {
    email: emailOf(body),
    name: text(body, 'name').trim(),
    password: text(body, 'password'),
    municipality: text(body, 'municipality'),
    terms: text(body, 'terms') === 'yes',
  };
  const problems: Field[] = [];
  if (emailWrong(values.email)) problems.push('email');
  if (!values.name || values.name.length > MAX_NAME || CONTROL.test(values.name)) problems.push('name');
  if (passwordWrong(values.password)) problems.push('password');
  if (!municipalities.has(values.municipality)) problems.push('municipality');
  if (!values.terms) problems.push('terms');
  return { values, problems };
}

/** A form that asks only for an address (password reset, a new verification link). */
export function parseEmailRequest(body: Body) {
  const email = emailOf(body);
  return { values: { email }, problems: emailWrong(email) ? (['email'] as Field[]) : [] };
}

export interface Credentials {
  email: string;
  password: string;
  /** The authenticator app's code, for accounts that have one. */
  code: string;
}

function credentialsOf(body: Body): Credentials {
  return { email: emailOf(body), password: text(body, 'password'), code: text(body, 'code').trim() };
}

/** Re-authentication alone (before managing the second factors); `codeNeeded` when removing the authenticator. */
export function parseCredentials(body: Body, options: { codeNeeded?: boolean } = {}) {
  const values = credentialsOf(body);
  const problems: Field[] = [];
  if (!values.email) problems.push('email');
  if (!values.password) problems.push('password');
  if (options.codeNeeded && codeWrong(values.code)) problems.push('code');
  return { values, problems };
}

/** Six digits, spaces allowed (apps show them as "123 456"). */
export function codeWrong(code: string): boolean {
  return !/^\d{6}$/.test(code.replace(/\s/g, ''));
}

export function parseDeletion(body: Body) {
  const values = { ...credentialsOf(body), confirm: text(body, 'confirm') === 'yes' };
  const problems: Field[] = [];
  if (!values.email) problems.push('email');
  if (!values.password) problems.push('password');
  if (!values.confirm) problems.push('confirm');
  return { values, problems };
}

export function parseMove(body: Body, municipalities: ReadonlySet<string>) {
  const values = { ...credentialsOf(body), municipality: text(body, 'municipality') };
  const problems: Field[] = [];
  if (!values.email) problems.push('email');
  if (!values.password) problems.push('password');
  if (!municipalities.has(values.municipality)) problems.push('municipality');
  return { values, problems };
}
