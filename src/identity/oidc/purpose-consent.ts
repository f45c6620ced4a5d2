/**
 * The resident's purpose consent, asked on the consent page (issue 5, item 8). A service that
 * declared a service request in its tenant (consent capability) has it shown item by item; the
 * resident grants all, part or none of the consent-based items, and the answer is recorded there
 * with the text shown. The consent prompt shows again when the service asks for more than the
 * resident has answered. Nothing here decides a use of data: that is consent's `decide` alone.
 */
import {
  type Category,
  consentCoverage,
  effectiveBasis,
  type LegalBasis,
  listCategories,
  listPurposes,
  type Purpose,
  recordConsent,
  type ServiceRequest,
  type StoredItem,
} from '../../consent/index.ts';
import { BadRequest, type Db } from '../../platform/index.ts';

/** One line of a request as the resident reads it. */
export interface PurposeItem {
  /** `category:purpose`, the value of its checkbox (codes and purpose ids never hold a colon). */
  key: string;
  item: StoredItem;
  category: Category;
  purpose: Purpose;
  /** The basis it really has (要配慮個人情報 needs consent, whatever was declared). */
  basis: LegalBasis;
  /** Ticked when shown: a consent of the resident in force covers it. */
  granted: boolean;
  /** Asked before on narrower terms (or not at all), while the resident answered an earlier version. */
  changed: boolean;
}

/** A service's current request, for one resident. */
export interface PurposeRequest {
  tenant: string;
  clientId: string;
  request: ServiceRequest;
  /** Items on consent: a checkbox each. */
  asked: PurposeItem[];
  /** Items on another basis: shown so that the resident sees everything that will happen. */
  informed: PurposeItem[];
  /** The resident answered an earlier version, and this one asks for more. */
  askedAgain: boolean;
}

export const itemKey = (item: { category: string; purpose: string }): string =>
  `${item.category}:${item.purpose}`;

/** The tenant a client was registered in (`machi_tenant`, clients.ts); undefined for the console. */
export function clientTenant(metadata: Record<string, unknown>): string | undefined {
  const tenant = metadata.machi_tenant;
  return typeof tenant === 'string' ? tenant : undefined;
}

/** The service's current request as the resident will read it; undefined when it declared none. */
export async function loadPurposeRequest(
  db: Db,
  input: { tenant: string; clientId: string; accountId: string },
): Promise<PurposeRequest | undefined> {
  const { tenant, clientId, accountId } = input;
  return db.withTenant(tenant, async (tx) => {
    const coverage = await consentCoverage(tx, { tenant, resident: accountId, clientId });
    const request = coverage.request;
    if (!request) return undefined;
    const [categories, purposes] = await Promise.all([listCategories(tx), listPurposes(tx, tenant)]);
    const has = (list: StoredItem[], item: StoredItem) => list.some((i) => itemKey(i) === itemKey(item));
    const items = request.items.map((item): PurposeItem => {
      const category = categories.find((c) => c.code === item.category) as Category;
      return {
        key: itemKey(item),
        item,
        category,
        purpose: purposes.find((p) => p.id === item.purpose) as Purpose,
        basis: effectiveBasis(category.sensitive, request.controllerKind, item.legalBasis),
        granted: has(coverage.covered, item),
        changed: coverage.answeredVersion !== undefined && has(coverage.unanswered, item),
      };
    });
    return {
      tenant,
      clientId,
      request,
      asked: items.filter((i) => i.basis === 'consent'),
      informed: items.filter((i) => i.basis !== 'consent'),
      askedAgain: coverage.answeredVersion !== undefined && coverage.unanswered.length > 0,
    };
  });
}

/**
 * Whether the consent prompt must show for the service's request: an item on consent that no
 * consent of the resident covers, and that the resident has not answered on these terms.
 */
export async function needsPurposeConsent(
  db: Db,
  input: { tenant: string; clientId: string; accountId: string },
): Promise<boolean> {
  const coverage = await db.withTenant(input.tenant, (tx) =>
    consentCoverage(tx, { tenant: input.tenant, resident: input.accountId, clientId: input.clientId }),
  );
  return coverage.unanswered.length > 0;
}

/** The checkbox values a form posted (one value, several, or none). */
export function postedKeys(value: unknown): string[] {
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  if (values.some((v) => typeof v !== 'string')) throw new BadRequest('the form is not valid');
  return values as string[];
}

export interface PurposeAnswer {
  consentId: string;
  granted: PurposeItem[];
  declined: PurposeItem[];
}

/**
 * Records the resident's answer to the request shown: the items ticked (none is an answer too,
 * which ends what was granted before), the pairwise subject the service knows them by, and the
 * exact text shown, whose SHA-256 the record keeps.
 * @throws BadRequest for an item the request does not ask consent for; Conflict when the request
 *   changed since it was shown
 */
export async function recordPurposeAnswer(
  db: Db,
  input: {
    purposes: PurposeRequest;
    accountId: string;
    subject: string;
    keys: string[];
    text: { version: string; language: string; body: string };
  },
): Promise<PurposeAnswer> {
  const { purposes } = input;
  const unknown = input.keys.filter((key) => !purposes.asked.some((i) => i.key === key));
  if (unknown.length > 0) throw new BadRequest('the form names an item this service does not ask for');
  const granted = purposes.asked.filter((i) => input.keys.includes(i.key));
  const record = await db.withTenant(purposes.tenant, (tx) =>
    recordConsent(tx, {
      tenant: purposes.tenant,
      resident: input.accountId,
      subject: input.subject,
      clientId: purposes.clientId,
      requestVersion: purposes.request.version,
      items: granted.map((i) => ({ category: i.item.category, purpose: i.item.purpose })),
      text: input.text,
    }),
  );
  return {
    consentId: record.id,
    granted,
    declined: purposes.asked.filter((i) => !granted.includes(i)),
  };
}
