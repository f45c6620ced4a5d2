/**
 * 利用停止 and 消去 from My Page. Both take effect at once: consents end in the same transaction as
 * the request's record, so the very next decision refuses; then the services' grants and tokens go
 * and they are told by back-channel logout. What cannot be ended by the resident alone (a use on a
 * legal basis other than consent) is recorded for the municipality to decide, and the answer says so.
 */
import { eraseResidentEntities } from '../../broker/index.ts';
import {
  currentServiceRequest,
  effectiveBasis,
  type Held,
  heldEntities,
  type Language,
  listCategories,
  listConsents,
  recordResidentRequest,
  withdrawConsent,
} from '../../consent/index.ts';
import { eraseNotifications, forgetDevices } from '../../delivery/index.ts';
import { type DataKeys, type Db, listTenants, NotFound, type Queryable } from '../../platform/index.ts';
import { eraseResidentCalendar } from '../calendar/index.ts';
import type { MyPageIdentity } from './types.ts';

interface Log {
  warn(fields: object, message: string): void;
}

/** The services the resident's in-force consents in the transaction's tenant are given to. */
async function consentedServices(tx: Queryable, tenant: string, resident: string): Promise<string[]> {
  const records = await listConsents(tx, { tenant, resident });
  return [...new Set(records.filter((r) => r.state === 'given').map((r) => r.clientId))];
}

/**
 * Stops a service's use of the resident's data: every consent to it, in every municipality, ends
 * now. Uses on another legal basis (a municipality's statutory duty) are listed for review.
 * @throws NotFound when the service holds no consent of the resident and declares no use anywhere
 */
export async function stopService(
  db: Db,
  identity: MyPageIdentity,
  resident: string,
  clientId: string,
  log: Log,
) {
  const stopped: {
    municipality: string;
    withdrawn: string[];
    review: { category: string; purpose: string; legalBasis: string }[];
  }[] = [];
  for (const tenant of await listTenants(db)) {
    const done = await db.withTenant(tenant.code, async (tx) => {
      const given = await consentedServices(tx, tenant.code, resident);
      const request = await currentServiceRequest(tx, tenant.code, clientId);
      if (!given.includes(clientId) && !request) return undefined;
      const { withdrawn } = given.includes(clientId)
        ? await withdrawConsent(tx, { tenant: tenant.code, resident, clientId })
        : { withdrawn: [] };
      const categories = await listCategories(tx);
      const review = (request?.items ?? [])
        .filter((i) => {
          const sensitive = categories.find((c) => c.code === i.category)?.sensitive ?? true;
          return effectiveBasis(sensitive, request?.controllerKind ?? 'private', i.legalBasis) !== 'consent';
        })
        .map((i) => ({ category: i.category, purpose: i.purpose, legalBasis: i.legalBasis }));
      await recordResidentRequest(tx, tenant.code, {
        resident,
        kind: 'stop',
        clientId,
        outcome: { withdrawn, review },
      });
      return { municipality: tenant.code, withdrawn, review };
    });
    if (done) stopped.push(done);
  }
  if (stopped.length === 0)
    throw new NotFound(`the service ${clientId} holds no consent of yours and declares no use`);
  await identity.endServiceAccess(resident, [clientId], log);
  return { service: clientId, stopped };
}

const KEPT_RECORDS = {
  ja: [
    {
      what: '同意の記録・ご本人の請求の記録',
      why: '個人情報保護法に基づき、いつ何に同意し、いつ撤回したかを証明するため保存します。',
    },
    {
      what: '利用の記録（データトラッカー）と第三者提供記録',
      why: '個人情報保護法（第三者提供に係る記録の作成・保存）と、ご本人が利用状況を確認できるようにするため保存します。',
    },
  ],
  en: [
    {
      what: 'Records of your consents and of your requests',
      why: 'Kept under the Act on the Protection of Personal Information, to prove what you agreed to and when you withdrew.',
    },
    {
      what: 'The access log (data tracker) and the records of provision to third parties',
      why: 'Kept under the Act on the Protection of Personal Information (records of third-party provision), and so you can still see how your data was used.',
    },
  ],
} as const;

/**
 * Erases the resident's personal data in every municipality: their entities in the broker with
 * their history, except what a law keeps (legal holds), and every consent. Returns what was erased,
 * what was kept and why; each municipality's part is recorded there.
 */
export async function eraseEverything(
  db: Db,
  keys: DataKeys,
  identity: MyPageIdentity,
  resident: string,
  lang: Language,
  log: Log,
) {
  const municipalities = [];
  const services = new Set<string>();
  for (const tenant of await listTenants(db)) {
    let held = new Map<string, Held>();
    const { erased, kept } = await eraseResidentEntities(
      db,
      keys,
      tenant.code,
      resident,
      async (tx, entities) => {
        held = await heldEntities(tx, tenant.code, entities);
        return new Set(held.keys());
      },
    );
    const part = await db.withTenant(tenant.code, async (tx) => {
      const given = await consentedServices(tx, tenant.code, resident);
      const withdrawn: string[] = [];
      for (const clientId of given) {
        withdrawn.push(...(await withdrawConsent(tx, { tenant: tenant.code, resident, clientId })).withdrawn);
      }
      const keptEntities = kept.map((e) => {
        const hold = held.get(e.id);
        return {
          id: e.id,
          types: e.types,
          law: hold ? (lang === 'ja' ? hold.lawJa : hold.lawEn) : '',
          until: hold?.until.toISOString() ?? null,
        };
      });
      // What the portal's own features keep about the resident goes too: notices, garbage area, feeds.
      const notifications = await eraseNotifications(tx, resident);
      const calendar = await eraseResidentCalendar(tx, resident);
      const hadAnything = erased.length + kept.length + given.length + notifications + calendar > 0;
      if (!hadAnything) return undefined;
      const outcome = { erased, kept: keptEntities, withdrawn, notifications, calendarChoices: calendar };
      await recordResidentRequest(tx, tenant.code, { resident, kind: 'erasure', outcome });
      for (const c of given) services.add(c);
      return { municipality: tenant.code, ...outcome };
    });
    if (part) municipalities.push(part);
  }
  await forgetDevices(db, resident);
  await identity.endServiceAccess(resident, [...services], log);
  return { municipalities, keptRecords: KEPT_RECORDS[lang] };
}
