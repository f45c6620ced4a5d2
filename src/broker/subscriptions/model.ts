/**
 * A subscription in its stored form (ETSI GS CIM 009 §5.2.12): terms expanded, as the change hook
 * and the notifier need it, and the members the subscriber wrote, for partial updates.
 */
import type { ContextRef } from '../context/json-ld.ts';
import type { Format } from '../entities/render-entity.ts';
import type { TypeExpr } from '../query/type-expr.ts';

export const TRIGGERS = [
  'entityCreated',
  'entityUpdated',
  'entityDeleted',
  'attributeCreated',
  'attributeUpdated',
  'attributeDeleted',
] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** §5.2.12: without notificationTrigger, attribute creation and update notify. */
export const DEFAULT_TRIGGERS: Trigger[] = ['attributeCreated', 'attributeUpdated'];

/**
 * An EntitySelector (§5.2.33) with its types expanded: `types` are all the types it names (any of
 * them for a plain list); `typeExpr` the type selection (§4.17) when it says more, e.g. `A;B`.
 */
export interface EntitySelector {
  types: string[];
  typeExpr?: TypeExpr;
  id?: string;
  idPattern?: string;
}

export interface Endpoint {
  /** http, https, mqtt or mqtts. */
  uri: string;
  accept: 'application/json' | 'application/ld+json';
  receiverInfo: KeyValue[];
  notifierInfo: KeyValue[];
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface NotificationParams {
  /** Expanded attribute IRIs to include; undefined includes all (§5.2.14). */
  attributes?: string[];
  format: Format;
  showChanges: boolean;
  sysAttrs: boolean;
  endpoint: Endpoint;
}

/** What a subscriber may set, parsed and validated. */
export interface SubscriptionSpec {
  id: string;
  /** The members as the subscriber wrote them (without @context and the system's status members). */
  body: Record<string, unknown>;
  context: ContextRef[];
  entities?: EntitySelector[];
  watchedAttributes?: string[];
  triggers: Trigger[];
  q?: string;
  /** A scope query (§4.19), as written; kept in `body`. */
  scopeQ?: string;
  geoQ?: GeoQText;
  /** Terms of q and geoQ → IRIs, recorded when they were checked. */
  expansions: Record<string, string>;
  timeInterval?: number;
  throttling?: number;
  expiresAt?: string;
  isActive: boolean;
  notification: NotificationParams;
  lang?: string;
  jsonldContext?: string;
}

/** A geoQ as the subscriber wrote it (§5.2.13); coordinates may be JSON text or an array. */
export interface GeoQText {
  georel: string;
  geometry: string;
  coordinates: unknown;
  geoproperty?: string;
}

export interface DeliveryStatus {
  timesSent: number;
  timesFailed: number;
  lastNotification?: string;
  lastSuccess?: string;
  lastFailure?: string;
  lastErrorReason?: string;
}

export interface Subscription extends SubscriptionSpec, DeliveryStatus {
  /** The subject of its creator's bearer token; undefined when an anonymous caller made it. */
  owner?: string;
  epoch: number;
  createdAt: string;
  modifiedAt: string;
}

/** §5.2.12 status: expired wins over paused, as an expired subscription cannot be resumed. */
export function statusOf(sub: Pick<Subscription, 'expiresAt' | 'isActive'>, now = Date.now()) {
  if (sub.expiresAt && Date.parse(sub.expiresAt) <= now) {
    return 'expired';
  }
  return sub.isActive ? 'active' : 'paused';
}
