/**
 * The access log in plain words for My Page: who used which of the resident's data, for what, and
 * when (Japan time), in Japanese or English. Category and purpose names come from the caller (the
 * tenant's catalogue), so a record renders the way the resident was asked.
 */
import type { AccessAction, AccessRecord } from './access-log.ts';

export type Language = 'ja' | 'en';

/** A name in both languages, as the catalogue keeps categories and purposes. */
export interface LocalName {
  nameJa: string;
  nameEn: string;
}

export interface AccessNames {
  /** By category code, e.g. `vaccination` → お子さまの予防接種記録 / your child's vaccination records. */
  categories?: Readonly<Record<string, LocalName>> | undefined;
  /** By purpose id. */
  purposes?: Readonly<Record<string, LocalName>> | undefined;
}

const VERBS: Record<AccessAction, { ja: string; jaTried: string; en: string; enTried: string }> = {
  read: { ja: '閲覧しました', jaTried: '閲覧しようとしました', en: 'viewed', enTried: 'view' },
  write: { ja: '更新しました', jaTried: '更新しようとしました', en: 'updated', enTried: 'update' },
  delete: { ja: '削除しました', jaTried: '削除しようとしました', en: 'deleted', enTried: 'delete' },
  export: { ja: '書き出しました', jaTried: '書き出そうとしました', en: 'exported', enTried: 'export' },
};

const JST = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Tokyo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** `YYYY-MM-DD HH:mm` in Japan Standard Time. */
export function jstMinute(at: Date): string {
  const part = Object.fromEntries(JST.formatToParts(at).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}`;
}

function nameOf(
  names: Readonly<Record<string, LocalName>> | undefined,
  code: string,
  lang: Language,
): string {
  const found = names && Object.hasOwn(names, code) ? names[code] : undefined;
  if (!found) return code;
  return lang === 'ja' ? found.nameJa : found.nameEn;
}

function listEn(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function actorName(record: AccessRecord, lang: Language): string {
  const name = record.actor.name.trim();
  if (name) return name;
  if (record.actor.kind === 'staff') return lang === 'ja' ? '市区町村の職員' : 'a member of municipal staff';
  return record.actor.id;
}

/**
 * One record as a sentence, e.g.
 * 「2026-11-20 14:03 〇〇小児科オンライン相談 が お子さまの予防接種記録 を 閲覧しました（目的: 医療相談）」.
 * A refused use says so: 「… を 閲覧しようとしましたが、お断りしました（目的: …）」.
 */
export function describeAccess(record: AccessRecord, lang: Language, names: AccessNames = {}): string {
  const when = jstMinute(record.at);
  const who = actorName(record, lang);
  const what = record.categories.map((c) => nameOf(names.categories, c, lang));
  const purpose = record.purpose ? nameOf(names.purposes, record.purpose, lang) : '';
  const verb = VERBS[record.action];
  const allowed = record.decision === 'allow';
  if (lang === 'ja') {
    const data = what.length > 0 ? what.join('・') : '個人情報';
    const done = allowed ? verb.ja : `${verb.jaTried}が、お断りしました`;
    return `${when} ${who} が ${data} を ${done}（目的: ${purpose || '記載なし'}）`;
  }
  const data = what.length > 0 ? listEn(what) : 'your personal data';
  const done = allowed ? `${verb.en} ${data}` : `tried to ${verb.enTried} ${data} and was refused`;
  return `${when} ${who} ${done} (purpose: ${purpose || 'none stated'})`;
}
