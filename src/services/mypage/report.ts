/**
 * The resident's download of everything Machi holds about them (開示): one JSON document, and the
 * same as a plain HTML report to read or print. Every value in the HTML is escaped.
 */
import { jstMinute, type Language } from '../../consent/index.ts';
import { escapeHtml } from '../../platform/index.ts';
import { accessView, consentView, type Names, provisionView, type TenantHoldings } from './holdings.ts';

interface Account {
  displayName: string;
  email: string | null;
  homeTenantCode: string | null;
}

export type ExportDocument = ReturnType<typeof exportDocument>;

export function exportDocument(
  account: Account,
  holdings: readonly TenantHoldings[],
  names: Names,
  lang: Language,
) {
  return {
    exportedAt: new Date().toISOString(),
    account: {
      displayName: account.displayName,
      email: account.email,
      homeMunicipality: account.homeTenantCode,
    },
    municipalities: holdings.map((h) => ({
      code: h.tenant.code,
      name: lang === 'ja' ? h.tenant.name : h.tenant.nameEn,
      personalData: h.entities.map((e) => e.entity),
      consents: h.consents.map((c) => consentView(c, h.tenant, names, lang)),
      accessLog: h.log.map((r) => accessView(r, h.tenant, names, lang)),
      thirdPartyProvisions: h.provisions.map((p) => provisionView(p, h.tenant, names, lang)),
      requests: h.requests.map((r) => ({
        kind: r.kind,
        clientId: r.clientId,
        requestedAt: r.requestedAt.toISOString(),
        outcome: r.outcome,
      })),
    })),
  };
}

const WORDS = {
  ja: {
    title: 'マチが保有するあなたの情報',
    exportedAt: '作成日時',
    name: 'お名前',
    email: 'メールアドレス',
    home: '住所地の自治体コード',
    data: '個人データ',
    consents: '同意',
    log: '利用の記録',
    provisions: '第三者提供の記録',
    requests: 'ご請求の記録',
    none: 'ありません',
    state: { given: '有効', withdrawn: '撤回済み', expired: '期限切れ', superseded: '更新済み' },
    thirdParty: '第三者提供',
  },
  en: {
    title: 'What Machi holds about you',
    exportedAt: 'Made at',
    name: 'Name',
    email: 'E-mail',
    home: 'Home municipality code',
    data: 'Personal data',
    consents: 'Consents',
    log: 'Uses of your data',
    provisions: 'Provisions to third parties',
    requests: 'Your requests',
    none: 'None',
    state: { given: 'in force', withdrawn: 'withdrawn', expired: 'expired', superseded: 'replaced' },
    thirdParty: 'third-party provision',
  },
} as const;

const list = (items: string[], none: string) =>
  items.length > 0 ? `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>` : `<p>${none}</p>`;

/** The document as a self-contained HTML page (no scripts, no outside resources). */
export function reportHtml(doc: ExportDocument, lang: Language): string {
  const w = WORDS[lang];
  const e = escapeHtml;
  const sections = doc.municipalities
    .map((m) => {
      const data = m.personalData.map((entity) => `<pre>${e(JSON.stringify(entity, null, 2))}</pre>`);
      const consents = m.consents.map(
        (c) =>
          `<strong>${e(c.service.name)}</strong>（${e(c.controller)}）: ${e(w.state[c.state])}, ${e(jstMinute(new Date(c.givenAt)))}` +
          `<ul>${c.items
            .map(
              (i) =>
                `<li>${e(i.categoryName)} — ${e(i.purposeName)} (${e(i.retention)}${i.thirdParty ? `, ${w.thirdParty}` : ''})</li>`,
            )
            .join('')}</ul>`,
      );
      const log = m.accessLog.map((r) => e(r.text));
      const provisions = m.thirdPartyProvisions.map(
        (p) =>
          `${e(jstMinute(new Date(p.at)))} ${e(p.recipient)}（${e(p.controller)}）: ${e(p.categories.join('・'))} — ${e(p.purposeName)}`,
      );
      const requests = m.requests.map((r) => `${e(jstMinute(new Date(r.requestedAt)))} ${e(r.kind)}`);
      return `<section><h2>${e(m.name)}（${e(m.code)}）</h2>
<h3>${w.data}</h3>${data.length ? data.join('') : `<p>${w.none}</p>`}
<h3>${w.consents}</h3>${list(consents, w.none)}
<h3>${w.log}</h3>${list(log, w.none)}
<h3>${w.provisions}</h3>${list(provisions, w.none)}
<h3>${w.requests}</h3>${list(requests, w.none)}</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${w.title}</title>
<style>body{font-family:system-ui,sans-serif;font-size:1.125rem;line-height:1.7;max-width:48rem;margin:1rem auto;padding:0 1rem}pre{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;padding:.5rem;font-size:.9rem}</style>
</head><body>
<h1>${w.title}</h1>
<dl><dt>${w.exportedAt}</dt><dd>${e(jstMinute(new Date(doc.exportedAt)))}</dd>
<dt>${w.name}</dt><dd>${e(doc.account.displayName)}</dd>
<dt>${w.email}</dt><dd>${e(doc.account.email ?? '')}</dd>
<dt>${w.home}</dt><dd>${e(doc.account.homeMunicipality ?? '')}</dd></dl>
${sections}
</body></html>`;
}
