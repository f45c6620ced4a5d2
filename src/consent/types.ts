/**
 * The words of the consent capability: categories, purposes, service requests with their legal
 * basis, consent records and the decisions made on them.
 */

/** The legal bases Machi records for a processing activity (個人情報保護法, public and private chapters). */
export const LEGAL_BASES = [
  'consent',
  'statutory-duty',
  'contract',
  'vital-interest',
  'public-task',
] as const;
/**
 * `statutory-duty`: 法令に基づく事務, the municipality's own duty under a law;
 * `public-task`: a task the municipality carries out in the public interest (所掌事務).
 */
export type LegalBasis = (typeof LEGAL_BASES)[number];

export type Action = 'read' | 'write';

/** Who the controller is: the municipality itself (also when a vendor runs its service under 委託), or a private operator. */
export type ControllerKind = 'municipality' | 'private';

/** A data category; `sensitive` marks 要配慮個人情報. */
export interface Category {
  code: string;
  nameJa: string;
  nameEn: string;
  sensitive: boolean;
}

export interface Purpose {
  id: string;
  nameJa: string;
  nameEn: string;
  descriptionJa: string;
  descriptionEn: string;
  /** A W3C DPV purpose (`dpv:ServiceProvision`), when one fits. */
  dpv?: string | undefined;
}

/** One line of a service request: a category for a purpose, on a legal basis. */
export interface RequestItem {
  category: string;
  purpose: string;
  /** ISO 8601 duration (`P30D`, `P1Y`) or a number of days. */
  retention: string | number;
  /** 第三者提供: the data goes to a party other than the controller. */
  thirdParty: boolean;
  /** Default `['read']`. */
  actions?: Action[];
  legalBasis: LegalBasis;
}

/** A request item as stored: retention normalised to an ISO 8601 duration, actions explicit. */
export interface StoredItem extends RequestItem {
  retention: string;
  actions: Action[];
}

export interface NewServiceRequest {
  clientId: string;
  /** The operator's name as residents should read it. */
  controller: string;
  controllerKind: ControllerKind;
  items: RequestItem[];
}

export interface ServiceRequest {
  clientId: string;
  version: number;
  controller: string;
  controllerKind: ControllerKind;
  createdAt: Date;
  items: StoredItem[];
}

/** The exact text a resident was shown when asked. */
export interface ConsentText {
  version: string;
  language: string;
  body: string;
}

export interface NewConsent {
  tenant: string;
  /** The resident's account id (uuid). */
  resident: string;
  /** The pairwise subject identifier the client knows the resident by. */
  subject: string;
  clientId: string;
  /** The request version the resident was shown; it must be the current one. */
  requestVersion: number;
  /** The items granted: all, part or none of the request's consent-based items. */
  items: { category: string; purpose: string }[];
  text: ConsentText;
  /** Default: until withdrawn. */
  expiresAt?: Date | undefined;
  /** How consent was given (ISO/IEC TS 27560 `method`); default `web-form`. */
  method?: string | undefined;
}

export type ConsentEvent = 'given' | 'withdrawn' | 'expired' | 'superseded';
export type ConsentState = ConsentEvent;

export interface ConsentRecord {
  id: string;
  resident: string;
  subject: string;
  clientId: string;
  controller: string;
  requestVersion: number;
  textSha256: string;
  textVersion: string;
  method: string;
  givenAt: Date;
  expiresAt: Date | null;
  /** Now: `given` while it is in force. */
  state: ConsentState;
  items: StoredItem[];
  events: { event: ConsentEvent; at: Date }[];
}

export type Actor =
  | { kind: 'client'; clientId: string }
  | { kind: 'staff'; accountId: string; roles: readonly string[]; statedPurpose?: string | undefined };

export interface DecisionRequest {
  tenant: string;
  /** The resident's account id. */
  resident: string;
  actor: Actor;
  purpose: string;
  category: string;
  action: Action;
  /** When expiry is judged; default the database's clock. */
  at?: Date | undefined;
}

export interface Decision {
  allow: boolean;
  /** A machine code: why (docs/consent.md lists them). */
  reason: string;
  basis?: LegalBasis | undefined;
  consentId?: string | undefined;
}

export type ManyRequest = Omit<DecisionRequest, 'resident'> & {
  /** Only these residents are considered; default every resident. */
  residents?: readonly string[] | undefined;
};

export interface ManyDecision {
  /** Whether any resident may be reached at all. */
  allow: boolean;
  reason: string;
  basis?: LegalBasis | undefined;
  /**
   * Every resident (of `residents`, when given) is allowed: the basis is not consent (or the actor is
   * staff), so there is no list to filter by.
   */
  everyone: boolean;
  /** The residents allowed, when `everyone` is false. */
  residents: string[];
}
