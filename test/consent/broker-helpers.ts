/**
 * Personal entities in the broker over real HTTP, with real tokens: a service's token for the
 * broker got while acting for a resident (who ticks items on the consent page), and calls to the
 * NGSI-LD API with a stated purpose. Shared by the consent-in-the-broker tests.
 */
import type { RequestItem } from '../../src/consent/index.ts';
import { brokerResource } from '../../src/identity/index.ts';
import {
  Browser,
  consentIfAsked,
  exchange,
  type IdentityRig,
  loginAndConsent,
  type Rp,
  startFlow,
} from '../identity/rig.ts';

export const SENDAI = '041009';

export interface PersonalBroker {
  /**
   * A token for the broker that `rp` got while acting for the resident, who ticked `items` on the
   * consent screen (`category:purpose`). The resident's browser is kept: a later grant is a new
   * authorization with prompt=consent, answered without logging in again.
   */
  tokenFor(rp: Rp, resident: { email: string }, items?: string[]): Promise<string>;
  /** An NGSI-LD request of the tenant with a bearer token, and `Machi-Purpose` when given. */
  call(
    token: string,
    path: string,
    init?: { method?: string; body?: unknown; purpose?: string },
  ): Promise<Response>;
}

export function personalBroker(rig: IdentityRig, tenant = SENDAI): PersonalBroker {
  const browsers = new Map<string, Browser>();
  return {
    async tokenFor(rp, resident, items = []) {
      const known = browsers.get(resident.email);
      const browser = known ?? new Browser();
      browsers.set(resident.email, browser);
      const flow = await startFlow(rp, {
        resource: brokerResource(rig.baseUrl),
        scope: 'openid ngsi-ld',
        ...(known ? { prompt: 'consent' } : {}),
      });
      const at = await browser.follow(flow.authorizationUrl, rp.redirectUri);
      const back = known
        ? await consentIfAsked(browser, rig.baseUrl, rp, at, items)
        : await loginAndConsent(browser, rig.baseUrl, rp, resident.email, undefined, items);
      return (await exchange(rp, flow, back)).access_token;
    },
    call(token, path, init = {}) {
      return fetch(`${rig.baseUrl}/ngsi-ld/v1/${path}`, {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          'ngsild-tenant': tenant,
          ...(init.purpose ? { 'machi-purpose': init.purpose } : {}),
          ...(init.body ? { 'content-type': 'application/json' } : {}),
        },
        body: init.body ? JSON.stringify(init.body) : undefined,
      });
    },
  };
}

/** A request item on consent, for `declareServiceRequest`. */
export const consentItem = (
  category: string,
  purpose: string,
  actions: ('read' | 'write')[],
): RequestItem & { actions: ('read' | 'write')[] } => ({
  category,
  purpose,
  retention: 'P1Y',
  thirdParty: false,
  actions,
  legalBasis: 'consent',
});
