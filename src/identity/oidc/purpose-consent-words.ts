/**
 * The words of the purpose consent page (purpose-consent-page.ts), Japanese and English: headings,
 * notes, each legal basis with the reason it needs no consent, and retentions as people say them.
 */
import type { Lang } from './pages.ts';

export const BASES = ['statutory-duty', 'public-task', 'contract', 'vital-interest'] as const;

export const WORDS = {
  ja: {
    lead: (service: string, controller: string) =>
      `「${service}」（運営：${controller}）は、あなたの情報を次のとおり利用します。`,
    askedAgain: 'このサービスが利用する情報の内容が変わりました。あらためてご確認ください。',
    askHeading: 'あなたの同意で提供する情報',
    askNote:
      '提供してよい項目にチェックを入れてください。チェックのない項目は提供されません。何も選ばずに「同意する」を押しても、ログインできます。',
    sensitiveNote: '「要配慮個人情報」は、病気や健康の記録など、法律で特に慎重に扱うよう定められた情報です。',
    sensitive: '要配慮個人情報',
    changed: '追加・変更',
    purpose: '目的',
    retention: '保存期間',
    thirdParty: '第三者提供',
    thirdPartyYes: 'あり（運営者以外にも渡されます）',
    thirdPartyNo: 'なし',
    informHeading: '同意なしで利用される情報',
    basis: {
      'statutory-duty': {
        name: '法令に基づく事務',
        note: '法令に基づく事務のため、同意なしで利用されます。',
      },
      'public-task': {
        name: '市区町村の事務',
        note: '市区町村の事務（所掌事務）のため、同意なしで利用されます。',
      },
      contract: {
        name: 'ご利用の契約',
        note: 'サービスのご利用の契約に必要なため、同意なしで利用されます。',
      },
      'vital-interest': {
        name: '命や健康を守るため',
        note: '命や健康を守るために必要なときに、同意なしで利用されます。',
      },
    },
    scopesHeading: 'ログインのときに渡す情報',
    withdraw: '同意はいつでも取り消せます。',
    agree: '同意する',
    decline: '同意しない',
    declineNote: '「同意しない」を押すと、ログインをやめてサービスに戻ります。',
    units: { Y: '年', M: 'か月', W: '週間', D: '日', H: '時間', TM: '分', S: '秒' },
    colon: '：',
    bullet: '・',
    indent: '　',
    mark: (text: string) => `［${text}］`,
    group: (name: string, note: string) => `【${name}】${note}`,
  },
  en: {
    lead: (service: string, controller: string) =>
      `${service} (run by ${controller}) will use your information as follows.`,
    askedAgain: 'What this service uses has changed. Please check it again.',
    askHeading: 'Shared only if you agree',
    askNote:
      'Tick each item you agree to share. Items left unticked are not shared. You can log in even if you tick nothing and press "Agree".',
    sensitiveNote:
      '"Sensitive personal information" (要配慮個人情報) means information such as medical or health records, which the law requires to be handled with special care.',
    sensitive: 'Sensitive personal information',
    changed: 'New or changed',
    purpose: 'Purpose',
    retention: 'Kept for',
    thirdParty: 'Given to third parties',
    thirdPartyYes: 'Yes (also passed to parties other than the operator)',
    thirdPartyNo: 'No',
    informHeading: 'Used without your consent',
    basis: {
      'statutory-duty': {
        name: 'Duties under law',
        note: 'Used without your consent, for duties under law (法令に基づく事務).',
      },
      'public-task': {
        name: "The municipality's tasks",
        note: "Used without your consent, for the municipality's public tasks.",
      },
      contract: {
        name: 'Your contract',
        note: 'Used without your consent, as needed for the service you signed up for.',
      },
      'vital-interest': {
        name: 'Protecting life and health',
        note: 'Used without your consent, when needed to protect life or health.',
      },
    },
    scopesHeading: 'Sent when you log in',
    withdraw: 'You can withdraw your consent at any time.',
    agree: 'Agree',
    decline: 'Do not agree',
    declineNote: '"Do not agree" stops the login and takes you back to the service.',
    units: { Y: 'year', M: 'month', W: 'week', D: 'day', H: 'hour', TM: 'minute', S: 'second' },
    colon: ': ',
    bullet: '- ',
    indent: '  ',
    mark: (text: string) => ` [${text}]`,
    group: (name: string, note: string) => `[${name}] ${note}`,
  },
};

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** An ISO 8601 duration as a person says it: `P1Y6M` → 1年6か月, 1 year 6 months. */
export function retentionText(lang: Lang, duration: string): string {
  const parts = DURATION.exec(duration);
  if (!parts) return duration;
  const units = WORDS[lang].units;
  const said = (['Y', 'M', 'W', 'D', 'H', 'TM', 'S'] as const).flatMap((unit, n) => {
    const count = Number(parts[n + 1] ?? 0);
    if (count === 0) return [];
    if (lang === 'ja') return [`${count}${units[unit]}`];
    return [`${count} ${units[unit]}${count === 1 ? '' : 's'}`];
  });
  return said.join(lang === 'ja' ? '' : ' ');
}
