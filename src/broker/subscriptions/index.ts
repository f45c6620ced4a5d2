/**
 * NGSI-LD subscriptions and notifications (ETSI GS CIM 009 §5.8, §5.11, §7): the routes, the change
 * hook that queues notifications inside the write's transaction, and the jobs that deliver them.
 * It never sends anything from a request or a write itself: delivery is always a job, retried by the
 * platform's queue, so a notification exists exactly when its change committed.
 */
import type { Db, JobHandler, OutboundPolicy } from '../../platform/index.ts';
import type { BrokerConfig } from '../config.ts';
import type { ContextResolver } from '../context/json-ld.ts';
import { NOTIFY_QUEUE } from './matching.ts';
import { runNotifyJob } from './notify.ts';
import { PERIODIC_QUEUE, runPeriodicJob } from './periodic.ts';

export { NOTIFY_MAX_ATTEMPTS, NOTIFY_QUEUE, notifySubscribers } from './matching.ts';
export { PERIODIC_QUEUE } from './periodic.ts';
export { registerSubscriptionRoutes } from './routes.ts';

/** The handlers of `broker.notify` and `broker.notify-periodic`. */
export function subscriptionJobHandlers(
  db: Db,
  config: BrokerConfig,
  contexts: ContextResolver,
  outbound: OutboundPolicy,
): Record<string, JobHandler> {
  const deps = { db, contexts, maxLimit: config.maxLimit, outbound, auth: config.auth };
  return {
    [NOTIFY_QUEUE]: (job, signal) => runNotifyJob(deps, job, signal),
    [PERIODIC_QUEUE]: (job, signal) => runPeriodicJob(deps, job, signal),
  };
}
