/**
 * Periodic notification (ETSI GS CIM 009 §5.2.12 timeInterval, §5.8.6): every `timeInterval` seconds
 * the subscriber gets the entities that match now, whether or not they changed. A self-rescheduling
 * job (queue `broker.notify-periodic`) carries the subscription's epoch; a partial update that
 * restarts the schedule bumps the epoch, so the old chain ends and exactly one chain runs.
 * Each period's job has its own idempotency key, so two workers never send the same period twice.
 */
import { enqueue, type Job, type Queryable } from '../../platform/index.ts';
import type { AccessPolicy } from '../authorise.ts';
import { queryEntities, selectorsClause } from '../entities/store.ts';
import { compileGeoQuery, parseGeoQuery } from '../query/geo-query.ts';
import { parseQ } from '../query/q-parser.ts';
import { compileQ } from '../query/q-sql.ts';
import { compileScopeQ, parseScopeQ } from '../query/scope-q.ts';
import { SqlParams } from '../query/sql-params.ts';
import { policyNow, readableBySubscriber } from './access.ts';
import { type Subscription, statusOf } from './model.ts';
import { type NotifierDeps, notificationEntity, sendNotification } from './notify.ts';
import { findSubscription } from './store.ts';

export const PERIODIC_QUEUE = 'broker.notify-periodic';
/** A periodic notification that cannot be sent is retried a little; the next period follows anyway. */
const PERIODIC_MAX_ATTEMPTS = 3;

interface PeriodicPayload {
  subscriptionId: string;
  epoch: number;
  /** When this period was due (ISO 8601); the next is one interval later. */
  due: string;
}

/** Starts the chain of a periodic subscription that is active; call in the transaction that writes it. */
export async function schedulePeriodic(
  tx: Queryable,
  tenant: string,
  sub: Subscription,
  due = new Date(),
): Promise<void> {
  if (sub.timeInterval === undefined || statusOf(sub) !== 'active') {
    return;
  }
  const payload: PeriodicPayload = { subscriptionId: sub.id, epoch: sub.epoch, due: due.toISOString() };
  await enqueue(
    tx,
    PERIODIC_QUEUE,
    { ...payload },
    {
      tenantId: tenant,
      idempotencyKey: `${sub.id}|${sub.epoch}|${payload.due}`,
      maxAttempts: PERIODIC_MAX_ATTEMPTS,
      runAt: due,
    },
  );
}

/** The first due time after now on the period grid, so a worker that was down skips missed periods. */
function nextDue(due: string, seconds: number, now = Date.now()): Date {
  let next = Date.parse(due) + seconds * 1000;
  if (next <= now) {
    next += Math.ceil((now - next) / (seconds * 1000)) * seconds * 1000;
  }
  return new Date(next);
}

async function matchingEntities(tx: Queryable, sub: Subscription, limit: number, policy: AccessPolicy) {
  const params = new SqlParams();
  const expand = (term: string) => sub.expansions[term] ?? term;
  // Entity selectors as queries read them: any selector matches (§5.2.33), within one all its members must.
  const where = sub.entities ? [selectorsClause(sub.entities, params)] : [];
  if (sub.scopeQ) where.push(compileScopeQ(parseScopeQ(sub.scopeQ), params));
  if (sub.q) where.push(compileQ(parseQ(sub.q), { params, expand }));
  const geo = sub.geoQ ? parseGeoQuery(sub.geoQ) : undefined;
  if (geo) where.push(compileGeoQuery(geo, { params, expand }));
  // Only what the subscription's creator may read (subscriptions/access.ts).
  const readable = readableBySubscriber(sub, policy, (value) => params.add(value));
  if (readable) where.push(readable);
  const { entities } = await queryEntities(tx, { where, params }, { limit, offset: 0, count: false });
  return entities;
}

/** The handler of `broker.notify-periodic`. */
export async function runPeriodicJob(deps: NotifierDeps, job: Job, signal: AbortSignal): Promise<void> {
  const tenant = job.tenantId;
  if (!tenant) {
    throw new Error('a periodic notification job must belong to a tenant');
  }
  const payload = job.payload as unknown as PeriodicPayload;
  const policy = await policyNow(deps, tenant);
  const found = await deps.db.withTenant(tenant, async (tx) => {
    const sub = await findSubscription(tx, payload.subscriptionId);
    if (!sub || sub.epoch !== payload.epoch || sub.timeInterval === undefined || statusOf(sub) !== 'active') {
      return undefined;
    }
    // The next period is queued before this one is sent, so a slow or failing endpoint never stops the chain.
    await schedulePeriodic(tx, tenant, sub, nextDue(payload.due, sub.timeInterval));
    return { sub, entities: await matchingEntities(tx, sub, deps.maxLimit, policy) };
  });
  if (!found || found.entities.length === 0) {
    return;
  }
  const { sub, entities } = found;
  await sendNotification(
    deps,
    { tenant, id: job.id },
    sub,
    (ctx) => entities.map((e) => notificationEntity(sub, ctx, e)),
    signal,
  );
}
