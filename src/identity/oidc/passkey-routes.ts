/**
 * Passkey routes of an interaction (`/interaction/{uid}/passkey/…`): options and login on the login
 * page, and the offer to register a passkey right after a login by other means. The offer stores
 * the login in the interaction first, so "あとで" (or any failure while registering) only has to
 * resume it: registering can never block a login. The browser script is served here too.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import { Forbidden, NotFound } from '../../platform/index.ts';
import {
  loginOptions,
  mayOfferPasskey,
  type PasskeyContext,
  PasskeyError,
  registerPasskey,
  registrationOptions,
  relyingPartyOf,
  verifyPasskeyLogin,
} from '../login/passkey.ts';
import { ACR } from './assurance.ts';
import type { InteractionHelpers } from './interaction-helpers.ts';
import type { Details } from './interaction-pages.ts';
import type { InteractionDeps } from './interactions.ts';
import { textOf } from './pages.ts';
import { PASSKEY_SCRIPT_PATH, passkeyOfferPage, passkeyText } from './passkey-pages.ts';
import { INTERACTION_PATH } from './provider.ts';

/**
 * RFC 8176 methods of a passkey login: `hwk`, proof of possession of a hardware-secured key, and
 * `user`, the user presence the authenticator tested. The authenticator also verified the resident
 * (WebAuthn's UV flag, required here), but it does not say whether by PIN or biometrics, so neither
 * `pin` nor `fpt`/`face` can be claimed; the assurance level (ACR.mfa) carries the two factors.
 */
export const PASSKEY_AMR = ['hwk', 'user'];

const SCRIPT = readFileSync(new URL('./assets/passkey.js', import.meta.url), 'utf8');

type Login = NonNullable<InteractionResults['login']>;

export interface PasskeyRoutes {
  /** False when PUBLIC_URL's host is an IP address, which browsers refuse as a WebAuthn RP ID. */
  enabled: boolean;
  /**
   * Finishes a successful login, unless a resident without a passkey may register one now: then
   * the login is stored in the interaction and the offer is shown (once per interaction).
   */
  afterLogin(
    request: FastifyRequest,
    reply: FastifyReply,
    provider: Provider,
    details: Details,
    login: Login,
  ): Promise<FastifyReply>;
}

interface Offered extends InteractionResults {
  login?: Login;
  /** Set in the interaction's result when the offer was shown, so it is shown once. */
  passkeyOffer?: boolean;
}

const FAILURES = {
  ja: {
    unknown: 'このパスキーは登録されていません。メールアドレスとパスワードでログインしてください。',
    refused: 'パスキーを確認できませんでした。もう一度お試しください。',
  },
  en: {
    unknown: 'This passkey is not registered. Please log in with your e-mail address and password.',
    refused: 'The passkey could not be verified. Please try again.',
  },
};

export function registerPasskeyRoutes(
  app: FastifyInstance,
  deps: InteractionDeps,
  helpers: InteractionHelpers,
): PasskeyRoutes {
  const rp = relyingPartyOf(deps.provider().issuer, textOf('ja').brand);
  const ctx: PasskeyContext | undefined = rp && {
    db: deps.db,
    rp,
    userHandleKey: deps.box.derive('identity.passkey-user'),
  };
  const enabledCtx = (): PasskeyContext => {
    if (!ctx) throw new NotFound('passkeys need PUBLIC_URL with a domain name');
    return ctx;
  };
  /** The account this interaction logged in and offered a passkey to, or Forbidden. */
  const offeredAccount = (details: Details): string => {
    const result = details.result as Offered | undefined;
    if (!result?.passkeyOffer || !result.login?.accountId) {
      throw new Forbidden('no passkey registration was offered in this interaction');
    }
    return result.login.accountId;
  };
  const resume = (reply: FastifyReply, details: Details) => reply.redirect(details.returnTo, 303);

  app.get(PASSKEY_SCRIPT_PATH, { config: { rateLimit: false } }, (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(SCRIPT),
  );

  app.post<{ Params: { uid: string } }>(
    `${INTERACTION_PATH}/:uid/passkey/options`,
    async (request, reply) => {
      const { details } = await helpers.load(request, reply);
      helpers.checkCsrf(details.uid, request.body);
      const options = await loginOptions(enabledCtx(), details.uid);
      return reply.header('cache-control', 'no-store').send(options);
    },
  );

  app.post<{ Params: { uid: string }; Body: { credential?: string } }>(
    `${INTERACTION_PATH}/:uid/passkey/login`,
    async (request, reply) => {
      const { provider, details, clientName } = await helpers.load(request, reply);
      helpers.checkCsrf(details.uid, request.body);
      const lang = helpers.langOf(details, request);
      try {
        const { accountId } = await verifyPasskeyLogin(enabledCtx(), {
          ...helpers.attemptOf(request, details),
          uid: details.uid,
          credential: request.body?.credential,
        });
        return await helpers.login(request, reply, provider, details, accountId, ACR.mfa, PASSKEY_AMR);
      } catch (error) {
        if (!(error instanceof PasskeyError)) throw error;
        const message = FAILURES[lang][error.reason === 'unknown-passkey' ? 'unknown' : 'refused'];
        return helpers.html(reply, 401, await helpers.showLogin(details, lang, clientName, message));
      }
    },
  );

  app.post<{ Params: { uid: string } }>(
    `${INTERACTION_PATH}/:uid/passkey/register/options`,
    async (request, reply) => {
      const { details } = await helpers.load(request, reply);
      helpers.checkCsrf(details.uid, request.body);
      const accountId = offeredAccount(details);
      const options = await registrationOptions(enabledCtx(), { uid: details.uid, accountId });
      return reply.header('cache-control', 'no-store').send(options);
    },
  );

  app.post<{ Params: { uid: string }; Body: { credential?: string; name?: string } }>(
    `${INTERACTION_PATH}/:uid/passkey/register`,
    async (request, reply) => {
      const { details } = await helpers.load(request, reply);
      helpers.checkCsrf(details.uid, request.body);
      const lang = helpers.langOf(details, request);
      const accountId = offeredAccount(details);
      try {
        await registerPasskey(enabledCtx(), {
          ...helpers.attemptOf(request, details),
          uid: details.uid,
          accountId,
          credential: request.body?.credential,
          name: String(request.body?.name ?? '').trim() || passkeyText(lang).defaultName,
        });
      } catch (error) {
        // Whatever went wrong, the resident sees the offer again and "あとで" still finishes the login.
        if (!(error instanceof PasskeyError)) {
          request.log.error({ err: error }, 'registering a passkey failed');
        }
        const page = passkeyOfferPage(
          lang,
          details.uid,
          helpers.csrf(details.uid),
          passkeyText(lang).registerFailed,
        );
        return helpers.html(reply, 400, page);
      }
      return resume(reply, details);
    },
  );

  // "あとで": the login is in the interaction already; resuming it finishes the login. Nothing is
  // checked beyond the form's origin, so nothing here can keep the resident from going on.
  app.post<{ Params: { uid: string } }>(`${INTERACTION_PATH}/:uid/passkey/skip`, async (request, reply) => {
    const { details } = await helpers.load(request, reply);
    helpers.checkCsrf(details.uid, request.body);
    return resume(reply, details);
  });

  const offer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    provider: Provider,
    details: Details,
    login: Login,
  ) => {
    const result: Offered = { login, passkeyOffer: true };
    await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: false });
    const lang = helpers.langOf(details, request);
    return helpers.html(reply, 200, passkeyOfferPage(lang, details.uid, helpers.csrf(details.uid)));
  };

  return {
    enabled: ctx !== undefined,
    async afterLogin(request, reply, provider, details, login) {
      const offeredAlready = (details.result as Offered | undefined)?.passkeyOffer === true;
      if (ctx && !offeredAlready) {
        try {
          if (await mayOfferPasskey(deps.db, login.accountId)) {
            return await offer(request, reply, provider, details, login);
          }
        } catch (error) {
          // The offer is a courtesy: when it fails, the login goes on without it.
          request.log.warn({ err: error }, 'could not offer a passkey; finishing the login');
        }
      }
      return helpers.finish(request, reply, provider, { login });
    },
  };
}
