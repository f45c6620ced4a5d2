/**
 * The consent page of a service that declared a service request: who gets what, for which purpose
 * and for how long, grouped by legal basis, in plain Japanese (English on request). The page and
 * the text recorded with the resident's consent are made from one list of lines (`shownLines`), so
 * the text's SHA-256 proves what the page said. Nothing is ticked at first: consent is opt-in
 * (オプトイン), given by the resident's own act; a re-ask keeps ticked what their consent still covers.
 */
import { textHash } from '../../consent/index.ts';
import { errorBox, escapeHtml, hidden, japaneseName, type Lang, page, textOf } from './pages.ts';
import { INTERACTION_PATH } from './provider.ts';
import type { PurposeItem, PurposeRequest } from './purpose-consent.ts';
import { BASES, retentionText, WORDS } from './purpose-consent-words.ts';

/** One item as shown: its title line, its marks and its terms. */
interface ShownItem {
  key: string;
  ticked: boolean;
  title: string;
  marks: { text: string; kind: 'sensitive' | 'changed' }[];
  terms: [label: string, value: string][];
}

interface Shown {
  lead: string;
  askedAgain: string | undefined;
  ask: { heading: string; notes: string[]; items: ShownItem[] } | undefined;
  inform: { heading: string; groups: { heading: string; note: string; items: ShownItem[] }[] } | undefined;
  scopes: { heading: string; items: string[] } | undefined;
  closing: string | undefined;
}

export interface PurposePageInput {
  lang: Lang;
  clientName: string;
  purposes: PurposeRequest;
  /** What the login itself releases (the OIDC scopes asked, as the resident reads them). */
  scopes: string[];
}

function shownItem(lang: Lang, item: PurposeItem): ShownItem {
  const t = WORDS[lang];
  const en = lang === 'en';
  return {
    key: item.key,
    ticked: item.granted,
    title: en ? item.category.nameEn : item.category.nameJa,
    marks: [
      ...(item.category.sensitive ? [{ text: t.sensitive, kind: 'sensitive' as const }] : []),
      ...(item.changed ? [{ text: t.changed, kind: 'changed' as const }] : []),
    ],
    terms: [
      [t.purpose, en ? item.purpose.nameEn : item.purpose.nameJa],
      ['', en ? item.purpose.descriptionEn : item.purpose.descriptionJa],
      [t.retention, retentionText(lang, item.item.retention)],
      [t.thirdParty, item.item.thirdParty ? t.thirdPartyYes : t.thirdPartyNo],
    ],
  };
}

/** Everything the page says about the request, in the order it says it. */
function shownLines(input: PurposePageInput): Shown {
  const { lang, purposes } = input;
  const t = WORDS[lang];
  const { asked, informed } = purposes;
  const groups = BASES.map((basis) => ({
    heading: t.basis[basis].name,
    note: t.basis[basis].note,
    items: informed.filter((i) => i.basis === basis).map((i) => shownItem(lang, i)),
  })).filter((g) => g.items.length > 0);
  return {
    lead: t.lead(input.clientName, purposes.request.controller),
    askedAgain: purposes.askedAgain ? t.askedAgain : undefined,
    ask:
      asked.length > 0
        ? {
            heading: t.askHeading,
            notes: [t.askNote, ...(asked.some((i) => i.category.sensitive) ? [t.sensitiveNote] : [])],
            items: asked.map((i) => shownItem(lang, i)),
          }
        : undefined,
    inform: groups.length > 0 ? { heading: t.informHeading, groups } : undefined,
    scopes: input.scopes.length > 0 ? { heading: t.scopesHeading, items: input.scopes } : undefined,
    closing: asked.length > 0 ? t.withdraw : undefined,
  };
}

function itemText(lang: Lang, item: ShownItem): string[] {
  const t = WORDS[lang];
  return [
    `${t.bullet}${item.title}${item.marks.map((m) => t.mark(m.text)).join('')}`,
    ...item.terms.map(([label, value]) => `${t.indent}${label ? `${label}${t.colon}` : ''}${value}`),
  ];
}

/**
 * The text recorded with the consent: the page's words as plain lines, the same for the same
 * request, names and language. Which boxes were ticked is the record's items, not the text.
 */
export function purposeConsentText(input: PurposePageInput): string {
  const shown = shownLines(input);
  const lines = [textOf(input.lang).consentTitle, shown.lead];
  if (shown.askedAgain) lines.push(shown.askedAgain);
  if (shown.ask) {
    lines.push(
      '',
      `■ ${shown.ask.heading}`,
      ...shown.ask.notes,
      ...shown.ask.items.flatMap((i) => itemText(input.lang, i)),
    );
  }
  if (shown.inform) {
    lines.push('', `■ ${shown.inform.heading}`);
    for (const group of shown.inform.groups) {
      lines.push(
        WORDS[input.lang].group(group.heading, group.note),
        ...group.items.flatMap((i) => itemText(input.lang, i)),
      );
    }
  }
  if (shown.scopes)
    lines.push(
      '',
      `■ ${shown.scopes.heading}`,
      ...shown.scopes.items.map((s) => `${WORDS[input.lang].bullet}${s}`),
    );
  if (shown.closing) lines.push('', shown.closing);
  return `${lines.join('\n')}\n`;
}

/** The label of the text recorded: which request version it showed. */
export function purposeTextVersion(purposes: PurposeRequest): string {
  return `${purposes.clientId}/v${purposes.request.version}`;
}

function marksHtml(item: ShownItem): string {
  return item.marks.map((m) => ` <span class="badge ${m.kind}">${escapeHtml(m.text)}</span>`).join('');
}

function termsHtml(lang: Lang, item: ShownItem): string {
  return item.terms
    .map(([label, value]) =>
      label
        ? `<p class="term"><b>${escapeHtml(label + WORDS[lang].colon)}</b>${escapeHtml(value)}</p>`
        : `<p class="term explain">${escapeHtml(value)}</p>`,
    )
    .join('');
}

/** A choice is boxed; a fact (no choice) is only marked at its side, so nobody tries to tap it. */
const itemClass = (kind: 'choice' | 'fact', item: ShownItem) =>
  item.marks.some((m) => m.kind === 'sensitive') ? `${kind} sensitive` : kind;

/** An item on consent: its checkbox, labelled by the category, described by its terms. */
function askedHtml(lang: Lang, item: ShownItem, n: number): string {
  const id = `item-${n}`;
  const box = `<input type="checkbox" id="${id}" name="item" value="${escapeHtml(item.key)}" aria-describedby="${id}-terms"${item.ticked ? ' checked' : ''}>`;
  return `<li class="${itemClass('choice', item)}"><label class="check" for="${id}">${box}<span><span class="what">${escapeHtml(item.title)}</span>${marksHtml(item)}</span></label><div id="${id}-terms">${termsHtml(lang, item)}</div></li>`;
}

/** An item on another basis: information only. */
function informedHtml(lang: Lang, item: ShownItem): string {
  return `<li class="${itemClass('fact', item)}"><p class="what">${escapeHtml(item.title)}${marksHtml(item)}</p>${termsHtml(lang, item)}</li>`;
}

const notes = (list: string[]) => list.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('');

function sectionsHtml(lang: Lang, shown: Shown): string[] {
  const sections: string[] = [];
  if (shown.ask) {
    sections.push(
      `<section aria-labelledby="ask-heading"><h2 id="ask-heading">${escapeHtml(shown.ask.heading)}</h2>${notes(shown.ask.notes)}<ul class="choices">${shown.ask.items.map((i, n) => askedHtml(lang, i, n)).join('')}</ul></section>`,
    );
  }
  if (shown.inform) {
    const groups = shown.inform.groups.map(
      (g) =>
        `<h3>${escapeHtml(g.heading)}</h3>${notes([g.note])}<ul class="facts">${g.items.map((i) => informedHtml(lang, i)).join('')}</ul>`,
    );
    sections.push(
      `<section aria-labelledby="inform-heading"><h2 id="inform-heading">${escapeHtml(shown.inform.heading)}</h2>${groups.join('')}</section>`,
    );
  }
  if (shown.scopes) {
    sections.push(
      `<section aria-labelledby="scopes-heading"><h2 id="scopes-heading">${escapeHtml(shown.scopes.heading)}</h2><ul>${shown.scopes.items.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul></section>`,
    );
  }
  if (shown.closing) sections.push(notes([shown.closing]));
  return sections;
}

/**
 * The page: the terms, a checkbox per item on consent, the items on another basis as information,
 * what the login releases, then 同意する (records the answer and logs in) and 同意しない (stops).
 * The form carries the request version and the SHA-256 of the text, so an answer is recorded only
 * for the page the resident saw. `notice` (an error) is shown above and is not part of the text.
 */
export function purposeConsentPage(
  input: PurposePageInput & { uid: string; csrf: string; notice?: string | undefined },
): string {
  const { lang, purposes } = input;
  const t = WORDS[lang];
  const shown = shownLines(input);
  const action = `${INTERACTION_PATH}/${input.uid}`;
  // The lead of the text, with the names marked up (a Japanese name in an English page says so).
  const lead = t.lead(japaneseName(lang, input.clientName), japaneseName(lang, purposes.request.controller));
  const body = [
    errorBox(input.notice),
    `<p>${lead}</p>`,
    shown.askedAgain ? `<p class="notice">${escapeHtml(shown.askedAgain)}</p>` : '',
    `<form method="post" action="${action}/confirm">${hidden('csrf', input.csrf)}${hidden('version', String(purposes.request.version))}${hidden('shown', textHash(purposeConsentText(input)))}`,
    ...sectionsHtml(lang, shown),
    `<button class="primary" type="submit">${t.agree}</button></form>`,
    `<form method="post" action="${action}/abort">${hidden('csrf', input.csrf)}<button class="secondary" type="submit">${t.decline}</button></form>`,
    notes([t.declineNote]),
  ];
  return page(lang, textOf(lang).consentTitle, `<div class="purposes">${body.join('\n')}</div>`);
}
