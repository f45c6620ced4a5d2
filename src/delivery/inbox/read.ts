/**
 * The resident's inbox as one list, newest first, over every municipality that has written to them.
 * Each municipality's items are read in its own row-level-security transaction and the pages are
 * merged here by `seq`, so no query reads two tenants' rows at once.
 */
import { type Db, NotFound } from '../../platform/index.ts';
import {
  countUnread,
  inboxTenants,
  listNotifications,
  markRead as markReadIn,
  type Notification,
} from './store.ts';

export interface InboxPage {
  items: Notification[];
  /** The cursor for the next (older) page; undefined on the last page. */
  next: number | undefined;
}

/** One page of the account's inbox, older than `before` when it is given. */
export async function readInbox(
  db: Db,
  accountId: string,
  page: { limit: number; before: number | undefined },
): Promise<InboxPage> {
  const found: Notification[] = [];
  for (const tenant of await inboxTenants(db, accountId)) {
    // One more than asked for, from each: whether an older page exists is then known.
    const query = { limit: page.limit + 1, before: page.before };
    found.push(...(await db.withTenant(tenant, (tx) => listNotifications(tx, tenant, accountId, query))));
  }
  found.sort((a, b) => b.seq - a.seq);
  const items = found.slice(0, page.limit);
  const last = items.at(-1);
  return { items, next: found.length > page.limit && last ? last.seq : undefined };
}

export async function unreadCount(db: Db, accountId: string): Promise<number> {
  let total = 0;
  for (const tenant of await inboxTenants(db, accountId)) {
    total += await db.withTenant(tenant, (tx) => countUnread(tx, tenant, accountId));
  }
  return total;
}

/**
 * Marks one of the account's items read.
 * @throws NotFound when the account has no item with this id (another resident's answers the same)
 */
export async function markOneRead(db: Db, accountId: string, id: string): Promise<void> {
  for (const tenant of await inboxTenants(db, accountId)) {
    if ((await db.withTenant(tenant, (tx) => markReadIn(tx, tenant, accountId, id))) > 0) return;
  }
  throw new NotFound(`no notification ${id}`);
}

/** Marks every item of the account read; returns how many were unread. */
export async function markAllRead(db: Db, accountId: string): Promise<number> {
  let marked = 0;
  for (const tenant of await inboxTenants(db, accountId)) {
    marked += await db.withTenant(tenant, (tx) => markReadIn(tx, tenant, accountId, undefined));
  }
  return marked;
}
