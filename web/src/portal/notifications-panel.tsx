/**
 * お知らせ on My Page: what the municipalities told the resident, newest first, unread ones marked
 * in words as well as colour, with marking read and older pages; and notifications on this device
 * (Web Push), turned on and off here.
 */
import { useEffect, useState } from 'preact/hooks';
import { formatDateTime } from '../shared/dates.ts';
import { useI18n } from '../shared/i18n.ts';
import type { ResidentSession } from './auth.ts';
import { LoadStatus } from './load-status.tsx';
import { Refused, SessionEnded } from './me-api.ts';
import {
  type Device,
  fetchDevices,
  fetchInbox,
  fetchPushKey,
  fetchUnread,
  type InboxItem,
  markAllRead,
  markRead,
  registerDevice,
  removeDevice,
  testDevice,
} from './notifications-api.ts';
import {
  currentSubscription,
  deviceLabel,
  type PushSupport,
  pushSupport,
  storeDevice,
  storedDevice,
  subscribeThisDevice,
} from './push.ts';
import { useLoaded } from './use-loaded.ts';

interface Props {
  session: ResidentSession;
  onEnded: () => void;
}

interface Inbox {
  items: InboxItem[];
  next: string | null;
  unread: number;
}

function Item({ item, onRead }: { item: InboxItem; onRead: (item: InboxItem) => void }) {
  const { t, lang } = useI18n();
  const unread = item.readAt === null;
  const titleId = `notification-${item.id}`;
  const external = item.url !== null && !item.url.startsWith('/');
  return (
    <li class={unread ? 'notification notification--unread' : 'notification'}>
      <p class="notification__meta">
        <span class={unread ? 'notification__state notification__state--unread' : 'notification__state'}>
          {unread ? t('notifications.unread') : t('notifications.read')}
        </span>
        <time dateTime={item.createdAt}>{formatDateTime(new Date(item.createdAt), lang)}</time>
        <span>
          {t('notifications.from', {
            city: lang === 'en' ? item.municipality.nameEn : item.municipality.name,
          })}
        </span>
      </p>
      <h3 id={titleId} class="notification__title">
        {item.title}
      </h3>
      {item.body && <p class="notification__body">{item.body}</p>}
      <p class="notification__actions">
        {item.url && (
          <a
            class="button button--secondary"
            href={item.url}
            aria-describedby={titleId}
            {...(external ? { target: '_blank', rel: 'noopener noreferrer' } : {})}
          >
            {t('notifications.open')}
          </a>
        )}
        {unread && (
          <button
            type="button"
            class="button button--secondary"
            aria-describedby={titleId}
            onClick={() => onRead(item)}
          >
            {t('notifications.markRead')}
          </button>
        )}
      </p>
    </li>
  );
}

export function NotificationsPanel({ session, onEnded }: Props) {
  const { t } = useI18n();
  const loaded = useLoaded<Inbox>(async () => {
    const [page, unread] = await Promise.all([fetchInbox(session), fetchUnread(session)]);
    return { items: page.notifications, next: page.next, unread };
  }, onEnded);
  // The pages shown so far: older pages are added to the first one, and marks change it in place.
  const [inbox, setInbox] = useState<Inbox | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  useEffect(() => {
    if (loaded.state.status === 'ready') setInbox(loaded.state.value);
  }, [loaded.state]);

  const readOne = async (item: InboxItem) => {
    try {
      await markRead(session, item.id);
      const now = new Date().toISOString();
      setMessage(undefined);
      setInbox(
        (shown) =>
          shown && {
            ...shown,
            items: shown.items.map((i) => (i.id === item.id ? { ...i, readAt: now } : i)),
            unread: Math.max(0, shown.unread - 1),
          },
      );
    } catch (failure) {
      if (!(failure instanceof Refused && failure.status === 404)) loaded.failed(failure);
    }
  };
  const readAll = async () => {
    try {
      await markAllRead(session);
      setMessage(t('notifications.allMarked'));
      await loaded.reload();
    } catch (failure) {
      loaded.failed(failure);
    }
  };
  const more = async () => {
    if (!inbox?.next) return;
    try {
      const page = await fetchInbox(session, inbox.next);
      setInbox(
        (shown) => shown && { ...shown, items: [...shown.items, ...page.notifications], next: page.next },
      );
    } catch (failure) {
      loaded.failed(failure);
    }
  };

  const state = loaded.state;
  return (
    <section class="panel notifications" aria-labelledby="notifications-heading">
      <h2 id="notifications-heading">
        {t('notifications.heading')}
        {inbox && inbox.unread > 0 && (
          <span class="notifications__count">{t('notifications.unreadCount', { count: inbox.unread })}</span>
        )}
      </h2>
      <LoadStatus state={state} message={message} />
      {inbox && inbox.items.length === 0 && <p>{t('notifications.empty')}</p>}
      {inbox && inbox.unread > 0 && (
        <button type="button" class="button button--secondary" onClick={() => void readAll()}>
          {t('notifications.markAllRead')}
        </button>
      )}
      {inbox && inbox.items.length > 0 && (
        <ul class="notifications__list">
          {inbox.items.map((item) => (
            <Item key={item.id} item={item} onRead={(i) => void readOne(i)} />
          ))}
        </ul>
      )}
      {inbox?.next && (
        <button type="button" class="button button--secondary" onClick={() => void more()}>
          {t('notifications.more')}
        </button>
      )}
      <PushSettings session={session} onEnded={onEnded} />
    </section>
  );
}

interface ThisDevice {
  support: PushSupport;
  /** This browser's device among the resident's, when it receives their notifications. */
  device: Device | undefined;
}

/** Which of the resident's devices this browser is: the one it registered, with the same endpoint. */
async function loadThisDevice(session: ResidentSession): Promise<ThisDevice> {
  const support = pushSupport();
  if (support === 'unsupported') return { support, device: undefined };
  const [subscription, devices] = await Promise.all([currentSubscription(), fetchDevices(session)]);
  const stored = storedDevice();
  const device =
    subscription && stored?.endpoint === subscription.endpoint
      ? devices.find((d) => d.id === stored.id)
      : undefined;
  return { support, device };
}

function PushSettings({ session, onEnded }: Props) {
  const { t, lang } = useI18n();
  const loaded = useLoaded<ThisDevice>(() => loadThisDevice(session), onEnded);
  const [message, setMessage] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const act = async (step: () => Promise<string | undefined>) => {
    setBusy(true);
    try {
      setMessage(await step());
      await loaded.reload();
    } catch (failure) {
      if (failure instanceof Refused || failure instanceof SessionEnded) {
        loaded.failed(failure);
      } else {
        // The browser refused to subscribe (no push service reachable, a blocked key).
        setMessage(t('notifications.push.failed'));
      }
    } finally {
      setBusy(false);
    }
  };
  const enable = () =>
    act(async () => {
      const subscription = await subscribeThisDevice(await fetchPushKey(session));
      if (subscription === 'denied') return t('notifications.push.deniedNow');
      const device = await registerDevice(session, subscription.toJSON(), deviceLabel());
      storeDevice({ endpoint: subscription.endpoint, id: device.id });
      return t('notifications.push.enabled');
    });
  const test = (device: Device) =>
    act(async () => {
      await testDevice(session, device.id, lang);
      return t('notifications.push.testSent');
    });
  const disable = (device: Device) =>
    act(async () => {
      await (await currentSubscription())?.unsubscribe();
      try {
        await removeDevice(session, device.id);
      } catch (failure) {
        if (!(failure instanceof Refused && failure.status === 404)) throw failure;
      }
      storeDevice(undefined);
      return t('notifications.push.disabled');
    });

  const state = loaded.state;
  const support = state.status === 'ready' ? state.value.support : undefined;
  const device = state.status === 'ready' ? state.value.device : undefined;
  return (
    <div class="notifications__push">
      <h3>{t('notifications.push.heading')}</h3>
      <p>{t('notifications.push.lead')}</p>
      <LoadStatus state={state} message={message} showLoading={false} />
      {support === 'unsupported' && <p class="notice">{t('notifications.push.unsupported')}</p>}
      {support === 'denied' && <p class="notice">{t('notifications.push.denied')}</p>}
      {device && (
        <>
          <p class="lead">{t('notifications.push.on', { label: device.label ?? deviceLabel() })}</p>
          <p class="notifications__push-actions">
            <button type="button" class="button" disabled={busy} onClick={() => void test(device)}>
              {t('notifications.push.test')}
            </button>
            <button
              type="button"
              class="button button--secondary"
              disabled={busy}
              onClick={() => void disable(device)}
            >
              {t('notifications.push.disable')}
            </button>
          </p>
        </>
      )}
      {!device && (support === 'ask' || support === 'allowed') && (
        <button type="button" class="button" disabled={busy} onClick={() => void enable()}>
          {t('notifications.push.enable')}
        </button>
      )}
    </div>
  );
}
