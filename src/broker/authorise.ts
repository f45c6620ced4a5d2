/**
 * The one authorisation decision for every broker read and write. Identity (bearer tokens) and
 * consent (personal entities) fill it in; nothing else in the broker decides who may do what.
 * Until Machi's identity provider exists, a caller is anonymous: with MACHI_AUTH=on anonymous callers
 * may read non-personal entities and may not write; with MACHI_AUTH=off (loopback only) they may
 * also write non-personal entities.
 */
import { Unauthorized } from '../platform/index.ts';

export type BrokerAction = 'read' | 'write';

export interface Caller {
  /** Set when a bearer token from Machi's identity provider was presented (identity issue). */
  subject?: string;
}

export interface AccessRequest {
  caller: Caller;
  tenant: string;
  action: BrokerAction;
}

/** @throws Unauthorized when the caller may not do this */
export function authorise(request: AccessRequest, auth: 'on' | 'off'): void {
  if (request.action === 'read' || auth === 'off' || request.caller.subject) {
    return;
  }
  throw new Unauthorized("writing to the broker needs a bearer token from this Machi's identity provider");
}
