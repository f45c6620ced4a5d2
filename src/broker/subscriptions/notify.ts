/**
 * The notification job (queue `broker.notify`): builds the Notification of ETSI GS CIM 009 §5.3.1
 * from the entity state the change left, renders it for the subscription (§5.2.14 attributes, format,
 * sysAttrs, showChanges; §5.2.12 lang, jsonldContext), sends it, and records the outcome (§5.8.6).
 */
import type { Db, Job, OutboundPolicy } from '../../platform/index.ts';
import type { ActiveContext, ContextRef, ContextResolver } from '../context/json-ld.ts';
import type { StoredEntity } from '../entities/model.ts';
import { renderEntity } from '../entities/render-entity.ts';
import { mayNotify } from './access.ts';
import { type Delivery, deliver } from './deliver.ts';
import type { NotifyPayload } from './matching.ts';
import { type Subscription, statusOf } from './model.ts';
import { findSubscription, recordDelivery } from './store.ts';

type Json = Record<string, unknown>;

export interface NotifierDeps {
  db: Db;
  contexts: ContextResolver;
  maxLimit: number;
  /** Which endpoints may be called: checked again at every delivery, on the resolved address. */
  outbound: OutboundPolicy;
  /** MACHI_AUTH: each notification is authorised as a read by the subscription's creator. */
  auth: 'on' | 'off';
}

/** §5.2.12 jsonldContext: when given, it replaces the subscriber's own @context for notifications. */
export function notificationContext(sub: Subscription): ContextRef[] {
  return sub.jsonldContext ? [sub.jsonldContext] : sub.context;
}

/** The member an attribute type keeps its value in, and its `previous…` twin for showChanges. */
const PREVIOUS: Record<string, [string, string]> = {
  Property: ['value', 'previousValue'],
  GeoProperty: ['value', 'previousValue'],
  Relationship: ['object', 'previousObject'],
  LanguageProperty: ['languageMap', 'previousLanguageMap'],
  VocabProperty: ['vocab', 'previousVocab'],
  JsonProperty: ['json', 'previousJson'],
  ListProperty: ['valueList', 'previousValueList'],
  ListRelationship: ['objectList', 'previousObjectList'],
};

/** §5.2.14 showChanges: each changed attribute instance also carries its previous value. */
function addPrevious(out: Json, entity: StoredEntity, before: StoredEntity, ctx: ActiveContext): void {
  for (const [iri, instances] of Object.entries(entity.attrs)) {
    const rendered = out[ctx.compact(iri)];
    const list = Array.isArray(rendered) ? rendered : [rendered];
    instances.forEach((instance, index) => {
      const old = before.attrs[iri]?.find((b) => (b.datasetId ?? '') === (instance.datasetId ?? ''));
      const [member, previous] = PREVIOUS[instance.type] ?? ['value', 'previousValue'];
      const target = list[index] as Json | undefined;
      const was = old?.[member as keyof typeof old];
      const now = instance[member as keyof typeof instance];
      if (old && target && typeof target === 'object' && JSON.stringify(was) !== JSON.stringify(now)) {
        target[previous] = was;
      }
    });
  }
}

/** One entity of `data`, rendered as the subscription asks. */
export function notificationEntity(
  sub: Subscription,
  ctx: ActiveContext,
  entity: StoredEntity,
  options: { deleted?: boolean; before?: StoredEntity } = {},
): Json {
  const types = entity.types.map((t) => ctx.compact(t));
  const type = types.length === 1 ? types[0] : types;
  if (options.deleted) {
    // §5.8.6 entityDeleted: the entity no longer has attributes to show, only who it was.
    return { id: entity.id, type };
  }
  const n = sub.notification;
  const out = renderEntity(entity, ctx, {
    format: n.format,
    sysAttrs: n.sysAttrs,
    attrs: n.attributes ? new Set(n.attributes) : undefined,
    lang: sub.lang,
  });
  if (n.showChanges && options.before && n.format === 'normalized') {
    addPrevious(out, entity, options.before, ctx);
  }
  return out;
}

/** The §5.3.1 Notification; its id follows the job, so a receiver can drop a redelivered copy. */
export function buildNotification(sub: Subscription, jobKey: string, data: Json[]): Json {
  return {
    id: `urn:ngsi-ld:Notification:${jobKey}`,
    type: 'Notification',
    subscriptionId: sub.id,
    notifiedAt: new Date().toISOString(),
    data,
  };
}

/**
 * Renders the entities with the subscription's context, sends the Notification, and records the
 * outcome on the subscription as the job's tenant; a failure is recorded and thrown again, so the
 * queue retries with backoff and after the last attempt the job is dead.
 */
export async function sendNotification(
  deps: NotifierDeps,
  job: { tenant: string; id: number },
  sub: Subscription,
  render: (ctx: ActiveContext) => Json[],
  signal: AbortSignal,
): Promise<void> {
  const context = notificationContext(sub);
  try {
    // Inside the try: a @context that cannot be had (refused by the outbound policy, say) is a
    // failed notification the subscription's status shows too.
    const ctx = await deps.contexts.resolve(context);
    const notification = buildNotification(sub, `${job.tenant}-${job.id}`, render(ctx));
    const delivery: Delivery = {
      endpoint: sub.notification.endpoint,
      tenant: job.tenant,
      context,
      notification,
    };
    await deliver(delivery, deps.outbound, signal);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await deps.db.withTenant(job.tenant, (tx) =>
      recordDelivery(tx, sub.id, { ok: false, at: new Date().toISOString(), reason }),
    );
    throw error;
  }
  await deps.db.withTenant(job.tenant, (tx) =>
    recordDelivery(tx, sub.id, { ok: true, at: new Date().toISOString() }),
  );
}

/** The handler of `broker.notify`. */
export async function runNotifyJob(deps: NotifierDeps, job: Job, signal: AbortSignal): Promise<void> {
  const tenant = job.tenantId;
  if (!tenant) {
    throw new Error('a notification job must belong to a tenant');
  }
  const payload = job.payload as unknown as NotifyPayload;
  const sub = await deps.db.withTenant(tenant, (tx) => findSubscription(tx, payload.subscriptionId));
  // Deleted, paused or expired since the change: its subscriber no longer wants notifications.
  if (!sub || statusOf(sub) !== 'active') {
    return;
  }
  // An entity its creator may not read (personal, or not public to an anonymous creator) is not sent.
  if (!(await mayNotify(deps, tenant, sub, payload.entity))) {
    return;
  }
  await sendNotification(
    deps,
    { tenant, id: job.id },
    sub,
    (ctx) => [notificationEntity(sub, ctx, payload.entity, payload)],
    signal,
  );
}
