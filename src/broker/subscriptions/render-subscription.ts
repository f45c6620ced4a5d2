/**
 * A subscription as the API shows it (ETSI GS CIM 009 §5.2.12, §5.2.14): terms compacted with the
 * reader's @context, and the members the system provides (status, delivery counters and times).
 */
import type { ActiveContext } from '../context/json-ld.ts';
import { formatTypeExpr } from '../query/type-expr.ts';
import { type Subscription, statusOf } from './model.ts';

type Json = Record<string, unknown>;

function present(out: Json, key: string, value: unknown): void {
  if (value !== undefined && value !== null) {
    out[key] = value;
  }
}

function renderNotification(sub: Subscription, ctx: ActiveContext): Json {
  const n = sub.notification;
  const endpoint: Json = { uri: n.endpoint.uri, accept: n.endpoint.accept };
  if (n.endpoint.receiverInfo.length) endpoint.receiverInfo = n.endpoint.receiverInfo;
  if (n.endpoint.notifierInfo.length) endpoint.notifierInfo = n.endpoint.notifierInfo;
  const out: Json = {};
  present(
    out,
    'attributes',
    n.attributes?.map((a) => ctx.compact(a)),
  );
  out.format = n.format;
  if (n.showChanges) out.showChanges = true;
  if (n.sysAttrs) out.sysAttrs = true;
  out.endpoint = endpoint;
  if (sub.lastNotification) {
    // §5.2.14: "ok" when the last attempt succeeded, "failed" otherwise.
    out.status = sub.lastSuccess === sub.lastNotification ? 'ok' : 'failed';
  }
  out.timesSent = sub.timesSent;
  out.timesFailed = sub.timesFailed;
  present(out, 'lastNotification', sub.lastNotification);
  present(out, 'lastSuccess', sub.lastSuccess);
  present(out, 'lastFailure', sub.lastFailure);
  present(out, 'lastErrorReason', sub.lastErrorReason);
  return out;
}

export function renderSubscription(sub: Subscription, ctx: ActiveContext, sysAttrs = false): Json {
  const out: Json = { id: sub.id, type: 'Subscription' };
  present(out, 'subscriptionName', sub.body.subscriptionName);
  present(out, 'description', sub.body.description);
  present(
    out,
    'entities',
    sub.entities?.map((e) => {
      const type = e.typeExpr
        ? formatTypeExpr(e.typeExpr, ctx.compact)
        : e.types.map((t) => ctx.compact(t)).join('|');
      const selector: Json = { type };
      present(selector, 'id', e.id);
      present(selector, 'idPattern', e.idPattern);
      return selector;
    }),
  );
  present(
    out,
    'watchedAttributes',
    sub.watchedAttributes?.map((a) => ctx.compact(a)),
  );
  if (sub.timeInterval === undefined) out.notificationTrigger = sub.triggers;
  present(out, 'q', sub.q);
  present(out, 'scopeQ', sub.scopeQ);
  if (sub.geoQ) {
    const expanded = sub.expansions[sub.geoQ.geoproperty ?? 'location'];
    out.geoQ = { ...sub.geoQ, ...(expanded ? { geoproperty: ctx.compact(expanded) } : {}) };
  }
  present(out, 'timeInterval', sub.timeInterval);
  present(out, 'throttling', sub.throttling);
  present(out, 'expiresAt', sub.expiresAt);
  out.isActive = sub.isActive;
  out.status = statusOf(sub);
  out.notification = renderNotification(sub, ctx);
  present(out, 'lang', sub.lang);
  present(out, 'jsonldContext', sub.jsonldContext);
  if (sysAttrs) {
    out.createdAt = sub.createdAt;
    out.modifiedAt = sub.modifiedAt;
  }
  return out;
}
