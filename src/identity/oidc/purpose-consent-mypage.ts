/**
 * The purpose consent asked from My Page rather than during a login: the same request, the same
 * words and the same recorded text as the consent page (purpose-consent-page.ts), so a resident
 * can grant, narrow or renew what a service uses at any time, with the same proof.
 */
import { textHash } from '../../consent/index.ts';
import { Conflict, type Db, NotFound, type SecretBox } from '../../platform/index.ts';
import { findClientMetadata } from './clients.ts';
import type { Lang } from './pages.ts';
import { pairwiseSubject } from './provider.ts';
import {
  clientTenant,
  loadPurposeRequest,
  type PurposeItem,
  type PurposeRequest,
  recordPurposeAnswer,
} from './purpose-consent.ts';
import { purposeConsentText, purposeTextVersion } from './purpose-consent-page.ts';
import { retentionText } from './purpose-consent-words.ts';

interface ClientLookup {
  find(
    id: string,
  ): Promise<{ clientName?: string | undefined; metadata(): Record<string, unknown> } | undefined>;
}

/** A request line as My Page shows it. */
export interface ShownPurposeItem {
  key: string;
  category: string;
  categoryName: string;
  sensitive: boolean;
  purpose: string;
  purposeName: string;
  purposeDescription: string;
  retention: string;
  thirdParty: boolean;
  basis: string;
  granted: boolean;
  changed: boolean;
}

/** A service's request for My Page, with the exact text an answer records and its hash. */
export interface MyPagePurposeRequest {
  clientId: string;
  serviceName: string;
  controller: string;
  municipality: string;
  version: number;
  asked: ShownPurposeItem[];
  informed: ShownPurposeItem[];
  askedAgain: boolean;
  text: string;
  shown: string;
}

function shown(lang: Lang, i: PurposeItem): ShownPurposeItem {
  const en = lang === 'en';
  return {
    key: i.key,
    category: i.item.category,
    categoryName: en ? i.category.nameEn : i.category.nameJa,
    sensitive: i.category.sensitive,
    purpose: i.item.purpose,
    purposeName: en ? i.purpose.nameEn : i.purpose.nameJa,
    purposeDescription: en ? i.purpose.descriptionEn : i.purpose.descriptionJa,
    retention: retentionText(lang, i.item.retention),
    thirdParty: i.item.thirdParty,
    basis: i.basis,
    granted: i.granted,
    changed: i.changed,
  };
}

async function load(db: Db, clients: ClientLookup, accountId: string, clientId: string) {
  const client = await clients.find(clientId);
  const tenant = client ? clientTenant(client.metadata()) : undefined;
  const purposes = tenant ? await loadPurposeRequest(db, { tenant, clientId, accountId }) : undefined;
  if (!client || !purposes || purposes.asked.length === 0) {
    throw new NotFound(`the service ${clientId} asks for no consent`);
  }
  return { clientName: client.clientName ?? clientId, purposes };
}

const textFor = (lang: Lang, clientName: string, purposes: PurposeRequest) =>
  purposeConsentText({ lang, clientName, purposes, scopes: [] });

/**
 * The service's current request for the resident, as My Page shows it.
 * @throws NotFound for a service that asks for nothing on consent
 */
export async function myPagePurposeRequest(
  db: Db,
  clients: ClientLookup,
  input: { accountId: string; clientId: string; lang: Lang },
): Promise<MyPagePurposeRequest> {
  const { clientName, purposes } = await load(db, clients, input.accountId, input.clientId);
  const text = textFor(input.lang, clientName, purposes);
  return {
    clientId: input.clientId,
    serviceName: clientName,
    controller: purposes.request.controller,
    municipality: purposes.tenant,
    version: purposes.request.version,
    asked: purposes.asked.map((i) => shown(input.lang, i)),
    informed: purposes.informed.map((i) => shown(input.lang, i)),
    askedAgain: purposes.askedAgain,
    text,
    shown: textHash(text),
  };
}

/**
 * Records the resident's answer given on My Page: the items ticked (none ends what was granted),
 * against the version and text they saw.
 * @throws NotFound for a service that asks nothing; Conflict when the request or its text changed
 *   since it was shown; BadRequest for an item not asked
 */
export async function answerFromMyPage(
  db: Db,
  box: SecretBox,
  clients: ClientLookup,
  input: { accountId: string; clientId: string; lang: Lang; version: number; shown: string; keys: string[] },
): Promise<{ consentId: string; granted: string[] }> {
  const { clientName, purposes } = await load(db, clients, input.accountId, input.clientId);
  const text = textFor(input.lang, clientName, purposes);
  if (input.version !== purposes.request.version || input.shown !== textHash(text)) {
    throw new Conflict('the service changed what it asks since the page was shown; read it again');
  }
  const answer = await recordPurposeAnswer(db, {
    purposes,
    accountId: input.accountId,
    subject: pairwiseSubject(box.derive('identity.pairwise'), purposes.clientId, input.accountId),
    keys: input.keys,
    text: { version: purposeTextVersion(purposes), language: input.lang, body: text },
  });
  return { consentId: answer.consentId, granted: answer.granted.map((i) => i.key) };
}

/** Registered clients looked up in the database, for callers without the provider (the demo). */
export function storedClients(db: Db, box: SecretBox): ClientLookup {
  return {
    async find(id) {
      const metadata = await findClientMetadata(db, box, id);
      if (!metadata) return undefined;
      const name = metadata.client_name;
      return { clientName: typeof name === 'string' ? name : undefined, metadata: () => metadata };
    },
  };
}

/**
 * Records a resident's consent to the items of a service's request as if given on My Page, with the
 * text My Page shows in Japanese: for the demo, which starts with a resident who already agreed.
 */
export async function consentAsResident(
  db: Db,
  box: SecretBox,
  input: { accountId: string; clientId: string; keys: string[] },
): Promise<{ consentId: string; granted: string[] }> {
  const clients = storedClients(db, box);
  const request = await myPagePurposeRequest(db, clients, { ...input, lang: 'ja' });
  return answerFromMyPage(db, box, clients, {
    ...input,
    lang: 'ja',
    version: request.version,
    shown: request.shown,
  });
}
