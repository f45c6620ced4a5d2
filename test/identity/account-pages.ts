/**
 * Driving the self-service pages under /account the way a browser without JavaScript does: open a
 * page, pick one of its forms, post it with its hidden fields (CSRF token, proof) and what the
 * resident typed.
 */
import assert from 'node:assert/strict';
import type { Browser } from './rig.ts';

const NOWHERE = 'http://nowhere.invalid/';

export interface PageForm {
  action: string;
  /** The form's hidden fields, by name. */
  hidden: Record<string, string>;
}

const unescapeHtml = (value: string) =>
  value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');

/** Every POST form of a page, in order. */
export function formsOn(html: string): PageForm[] {
  return [...html.matchAll(/<form method="post" action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)].map((m) => ({
    action: unescapeHtml(m[1] as string),
    hidden: Object.fromEntries(
      [...(m[2] as string).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((h) => [
        h[1] as string,
        unescapeHtml(h[2] as string),
      ]),
    ),
  }));
}

/** The token with one character in its middle changed. */
export function altered(token: string): string {
  const at = Math.floor(token.length / 2);
  return `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
}

export class AccountPages {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  /** Shows a page in the browser; returns its HTML. */
  async open(browser: Browser, path: string): Promise<string> {
    await browser.follow(`${this.baseUrl}${path}`, NOWHERE);
    return browser.lastPage;
  }

  /**
   * Posts a form of the page shown last (the first, unless `form` is given) with its hidden fields
   * and `fields` (which may replace them); returns the status.
   */
  async submit(browser: Browser, fields: Record<string, string>, form?: PageForm): Promise<number> {
    const chosen = form ?? formsOn(browser.lastPage)[0];
    assert.ok(chosen, `no form on the page:\n${browser.lastPage}`);
    await browser.follow(`${this.baseUrl}${chosen.action}`, NOWHERE, {
      form: { ...chosen.hidden, ...fields },
    });
    return browser.lastStatus;
  }
}
