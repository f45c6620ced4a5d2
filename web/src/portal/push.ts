/**
 * Web Push in this browser: the service worker at /sw.js (scope /), the permission, and this
 * device's subscription. Which of the resident's devices is this browser is remembered here by the
 * subscription's endpoint, so a shared computer does not show another resident's device as theirs.
 */

export type PushSupport = 'unsupported' | 'denied' | 'allowed' | 'ask';

const STORED = 'machi.push.device';

export function pushSupport(): PushSupport {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    return 'unsupported';
  }
  if (!window.isSecureContext) return 'unsupported';
  const permission = Notification.permission;
  return permission === 'denied' ? 'denied' : permission === 'granted' ? 'allowed' : 'ask';
}

/** Registers the service worker when the portal starts, so push messages are shown even when it is closed. */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
    // The portal works without it; only push on this device is then unavailable.
  });
}

async function registration(): Promise<ServiceWorkerRegistration> {
  if (!(await navigator.serviceWorker.getRegistration('/'))) {
    await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  }
  return navigator.serviceWorker.ready;
}

/** The browser's current subscription, if it has one. */
export async function currentSubscription(): Promise<PushSubscription | null> {
  if (pushSupport() === 'unsupported') return null;
  const found = await navigator.serviceWorker.getRegistration('/');
  return found ? found.pushManager.getSubscription() : null;
}

/** Asks permission (a browser's own dialog) and subscribes; 'denied' when the resident said no. */
export async function subscribeThisDevice(
  applicationServerKey: string,
): Promise<PushSubscription | 'denied'> {
  if ((await Notification.requestPermission()) !== 'granted') return 'denied';
  const { pushManager } = await registration();
  const key = base64UrlBytes(applicationServerKey);
  const existing = await pushManager.getSubscription();
  // A subscription made with another key cannot be reused: it would never receive our pushes.
  if (existing && !sameKey(existing.options.applicationServerKey, key)) await existing.unsubscribe();
  return pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
}

function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> {
  const padded = text
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(text.length / 4) * 4, '=');
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function sameKey(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a) return true;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

/** A name the resident recognises in a list of devices, such as "Chrome（Android）". */
export function deviceLabel(): string {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /(Chrome|Chromium|CriOS)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  const system = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iPhone・iPad'
      : /Mac OS X/.test(ua)
        ? 'Mac'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Linux/.test(ua)
            ? 'Linux'
            : '';
  return system ? `${browser}（${system}）` : browser;
}

interface Stored {
  endpoint: string;
  id: string;
}

export function storedDevice(): Stored | undefined {
  try {
    const value = JSON.parse(localStorage.getItem(STORED) ?? 'null') as Stored | null;
    return value?.endpoint && value.id ? value : undefined;
  } catch {
    return undefined;
  }
}

export function storeDevice(value: Stored | undefined): void {
  if (value) localStorage.setItem(STORED, JSON.stringify(value));
  else localStorage.removeItem(STORED);
}
