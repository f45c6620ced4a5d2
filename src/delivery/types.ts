import type { IdentityHandle } from '../identity/index.ts';

/** What delivery needs from identity, through the composition root: the resident calling. */
export type DeliveryIdentity = Pick<IdentityHandle, 'resident'>;

/** RFC 8030 §5.3: how soon the push service should deliver, for the device's battery. */
export type Urgency = 'very-low' | 'low' | 'normal' | 'high';
export const URGENCIES: readonly Urgency[] = ['very-low', 'low', 'normal', 'high'];

/** What became of a push to one device. `retrying` is the only state that is not final. */
export type PushStatus = 'sent' | 'failed' | 'gone' | 'retrying';

/** Where notifications live on the resident's own API. */
export const NOTIFICATIONS_PATH = '/api/v1/me/notifications';
