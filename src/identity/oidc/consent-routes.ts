/**
 * The consent step of an interaction (`/interaction/{uid}` when the prompt is consent): the page,
 * and 同意する (`/confirm`): the resident's answer to a service's purposes is recorded with consent,
 * then the OIDC grant is saved as before. 同意しない posts to `/abort`, as the login page's やめる
 * does (interactions.ts). The provider's `purpose_consent` check (provider.ts) sends residents here again
 * when a service asks for more than they answered.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { textHash } from '../../consent/index.ts';
import type { Db, SecretBox } from '../../platform/index.ts';
import { recordAudit } from '../audit.ts';
import type { InteractionHelpers } from './interaction-helpers.ts';
import { consentPage, type Details, scopesShown } from './interaction-pages.ts';
import { INTERACTION_PATH, pairwiseSubject } from './provider.ts';
import {
  clientTenant,
  loadPurposeRequest,
  type PurposeAnswer,
  type PurposeRequest,
  postedKeys,
  recordPurposeAnswer,
} from './purpose-consent.ts';
import { purposeConsentText, purposeTextVersion } from './purpose-consent-page.ts';

const CHANGED = {
  ja: 'このサービスが利用する情報の内容が、表示のあとに変わりました。もう一度ご確認ください。',
  en: 'What this service asks for changed after the page was shown. Please check it again.',
};

/** Saves the grant the resident just agreed to: the scopes and claims the prompt found missing. */
export async function grantConsent(provider: Provider, details: Details): Promise<string> {
  const { prompt, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session?.accountId, clientId: params.client_id as string });
  if (!grant) throw new Error('the grant of this interaction is gone');
  const missing = prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

type ConsentHelpers = Pick<InteractionHelpers, 'load' | 'checkCsrf' | 'csrf' | 'html' | 'finish' | 'langOf'>;

export interface ConsentStep {
  /** Shows the consent page of the interaction. */
  show(
    request: FastifyRequest,
    reply: FastifyReply,
    provider: Provider,
    details: Details,
    clientName: string,
  ): Promise<FastifyReply>;
}

export function registerConsentRoutes(
  app: FastifyInstance,
  deps: { db: Db; box: SecretBox },
  helpers: ConsentHelpers,
): ConsentStep {
  const pairwiseKey = deps.box.derive('identity.pairwise');

  /** The service's request, when the client declared one in its tenant. */
  const purposesOf = async (provider: Provider, details: Details): Promise<PurposeRequest | undefined> => {
    const clientId = details.params.client_id as string;
    const client = await provider.Client.find(clientId);
    const tenant = client ? clientTenant(client.metadata()) : undefined;
    const accountId = details.session?.accountId;
    if (!tenant || !accountId) return undefined;
    return loadPurposeRequest(deps.db, { tenant, clientId, accountId });
  };

  const render = (
    request: FastifyRequest,
    reply: FastifyReply,
    details: Details,
    clientName: string,
    purposes: PurposeRequest | undefined,
    status = 200,
    notice?: string,
  ) => {
    const lang = helpers.langOf(details, request);
    const csrf = helpers.csrf(details.uid);
    return helpers.html(reply, status, consentPage(details, lang, csrf, clientName, purposes, notice));
  };

  /**
   * Records the resident's answer to the request on the page, if it asked anything. The page must
   * be the one the resident saw: the same request version and the same text, else it is shown again.
   */
  const answer = async (
    request: FastifyRequest<{ Body: Record<string, unknown> | undefined }>,
    details: Details,
    clientName: string,
    purposes: PurposeRequest,
  ): Promise<PurposeAnswer | 'changed'> => {
    const lang = helpers.langOf(details, request);
    const body = request.body ?? {};
    const text = purposeConsentText({ lang, clientName, purposes, scopes: scopesShown(details, lang) });
    if (body.version !== String(purposes.request.version) || body.shown !== textHash(text)) return 'changed';
    const accountId = details.session?.accountId;
    if (!accountId) throw new Error('a consent interaction without a logged-in account');
    return recordPurposeAnswer(deps.db, {
      purposes,
      accountId,
      subject: pairwiseSubject(pairwiseKey, purposes.clientId, accountId),
      keys: postedKeys(body.item),
      text: { version: purposeTextVersion(purposes), language: lang, body: text },
    });
  };

  app.post<{ Params: { uid: string }; Body: Record<string, unknown> | undefined }>(
    `${INTERACTION_PATH}/:uid/confirm`,
    async (request, reply) => {
      const { provider, details, clientName } = await helpers.load(request, reply);
      helpers.checkCsrf(details.uid, request.body);
      const purposes = await purposesOf(provider, details);
      const answered = purposes?.asked.length
        ? await answer(request, details, clientName, purposes)
        : undefined;
      if (answered === 'changed') {
        const lang = helpers.langOf(details, request);
        return render(request, reply, details, clientName, purposes, 409, CHANGED[lang]);
      }
      const grantId = await grantConsent(provider, details);
      await recordAudit(deps.db, {
        kind: 'consent-granted',
        outcome: 'success',
        accountId: details.session?.accountId,
        clientId: details.params.client_id as string,
        tenantId: purposes?.tenant,
        ip: request.ip,
        detail: {
          scope: String(details.params.scope ?? ''),
          ...(purposes
            ? {
                requestVersion: purposes.request.version,
                granted: answered?.granted.length ?? 0,
                declined: answered?.declined.length ?? 0,
                informed: purposes.informed.length,
              }
            : {}),
        },
      });
      return helpers.finish(request, reply, provider, { consent: { grantId } });
    },
  );

  return {
    async show(request, reply, provider, details, clientName) {
      return render(request, reply, details, clientName, await purposesOf(provider, details));
    },
  };
}
