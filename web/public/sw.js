/**
 * The portal's service worker (served at /sw.js, scope /): shows a Web Push message from Machi as a
 * notification, and opens the portal at the message's link when the resident taps it. The payload
 * is src/delivery/push/payload.ts: { id?, kind, municipality?, title, body, url?, truncated? }.
 */
self.addEventListener('install', () => {
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

function readPayload(data) {
  if (!data) return {};
  try {
    return data.json();
  } catch {
    return { body: data.text() };
  }
}

/** A portal path or an https address; anything else opens the portal's front page. */
function target(url) {
  try {
    const resolved = new URL(url || '/', self.location.origin);
    if (resolved.origin === self.location.origin || resolved.protocol === 'https:') return resolved.href;
  } catch {
    // An unreadable link falls through to the front page.
  }
  return new URL('/', self.location.origin).href;
}

self.addEventListener('push', (event) => {
  const payload = readPayload(event.data);
  const title = typeof payload.title === 'string' && payload.title ? payload.title : 'マチからのお知らせ';
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof payload.body === 'string' ? payload.body : '',
      icon: '/icon.svg',
      lang: 'ja',
      // One notification per inbox item: a repeated push replaces it rather than stacking.
      tag: payload.id || payload.kind || 'machi',
      data: payload.id ? { url: target(payload.url), id: payload.id } : { url: target(payload.url) },
    }),
  );
});

async function openPortal(url) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const exact = windows.find((w) => w.url === url);
  if (exact) return exact.focus();
  const sameSite = new URL(url).origin === self.location.origin;
  const portal = sameSite && windows.find((w) => new URL(w.url).origin === self.location.origin);
  if (portal && 'navigate' in portal) {
    try {
      const moved = await portal.navigate(url);
      return (moved || portal).focus();
    } catch {
      // An uncontrolled window cannot be navigated from here: open a new one instead.
    }
  }
  return self.clients.openWindow(url);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = event.notification.data?.url || target('/');
  event.waitUntil(openPortal(url));
});
