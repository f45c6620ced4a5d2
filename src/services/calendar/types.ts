import type { IdentityHandle } from '../../identity/index.ts';

/** What the calendar needs from identity, through the composition root. */
export type CalendarIdentity = Pick<IdentityHandle, 'resident' | 'staff' | 'account'>;
