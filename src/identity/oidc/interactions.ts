/**
 * The login and consent pages the provider sends the browser to (`/interaction/{uid}`): each
 * request is tied to the interaction by oidc-provider's own cookie, and every form also carries a
 * CSRF token bound to the interaction. The result goes back to the provider, which redirects.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { Db, SecretBox } from '../../platform/index.ts';
import { issueChallenge, JpkiError, type JpkiVerifier } from '../jpki/index.ts';
import { cardLogin } from '../login/card.ts';
import { auditLogin, checkPassword, checkTotp } from '../login/password.ts';
import type { Upstreams } from '../upstream/flow.ts';
import { registerUpstreamRoutes } from '../upstream/routes.ts';
import { ACR } from './assurance.ts';
import { grantConsent, registerConsentRoutes } from './consent-routes.ts';
import type { InteractionHelpers } from './interaction-helpers.ts';
import { type Details, loginPage, totpPage } from './interaction-pages.ts';
import { errorBox, type Lang, page, pickLang, textOf } from './pages.ts';
import { registerPasskeyRoutes } from './passkey-routes.ts';
import { INTERACTION_PATH } from './provider.ts';
import { CONSOLE_CLIENT_ID, FIRST_PARTY_CLIENTS, mayOpenConsole } from './resources.ts';

export interface InteractionDeps {
  db: Db;
  box: SecretBox;
  /** The provider in use now (it is replaced when signing keys rotate). */
  provider: () => Provider;
  publicUrl: string;
  /** My Number Card verification; undefined when no JPKI CA is configured. */
  jpki: JpkiVerifier | undefined;
  /** Upstream OpenID providers residents may log in through. */
  upstreams: Upstreams;
}

const PENDING_SECONDS = 5 * 60;

/** Proof, carried by the TOTP form, that this interaction's password step succeeded for the account. */
function pendingToken(key: Buffer, uid: string, accountId: string, now = Date.now()): string {
  const expires = Math.floor(now / 1000) + PENDING_SECONDS;
  const mac = createHmac('sha256', key).update(`totp:${uid}:${accountId}:${expires}`).digest('base64url');
  return `${accountId}.${expires}.${mac}`;
}

function pendingAccount(key: Buffer, uid: string, token: unknown): string | undefined {
  const [accountId, expires, mac] = typeof token === 'string' ? token.split('.') : [];
  if (!accountId || !expires || !mac || Number(expires) < Date.now() / 1000) return undefined;
  const expected = createHmac('sha256', key).update(`totp:${uid}:${accountId}:${expires}`).digest();
  const given = Buffer.from(mac, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected) ? accountId : undefined;
}

const MESSAGES = {
  ja: {
    wrong: 'メールアドレスまたはパスワードが違います。',
    locked: (minutes: number) =>
      `失敗が続いたため、一時的にログインできません。${minutes}分後にもう一度お試しください。`,
    needsSecondFactor:
      '職員アカウントには二要素認証（認証アプリ）の登録が必要です。管理者にお問い合わせください。',
    wrongCode: '確認コードが違うか、使用済みです。',
    unbound:
      'このカードはまだアカウントに登録されていません。メールアドレスとパスワードでログインしてから、カードでもう一度ログインすると登録されます。',
    notStaff:
      'このアカウントには、選んだ自治体の職員権限がありません。自治体を選び直すか、管理者にお問い合わせください。',
  },
  en: {
    wrong: 'The e-mail address or password is wrong.',
    locked: (minutes: number) => `Too many failed attempts. Please try again in ${minutes} minute(s).`,
    needsSecondFactor:
      'Staff accounts need a second factor (an authenticator app). Please ask your administrator.',
    wrongCode: 'The code is wrong or was used already.',
    unbound:
      'This card is not registered to an account yet. Log in with your e-mail address and password, then log in with the card again to register it.',
    notStaff:
      'This account holds no staff role in the chosen municipality. Choose another one or ask your administrator.',
  },
};

function csrfToken(key: Buffer, uid: string): string {
  return createHmac('sha256', key).update(`interaction:${uid}`).digest('base64url');
}

function csrfValid(key: Buffer, uid: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const expected = Buffer.from(csrfToken(key, uid));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function langOf(details: Details, request: FastifyRequest): Lang {
  return pickLang(details.params.ui_locales as string | undefined, request.headers['accept-language']);
}

/** Errors on these pages are pages too: a resident's browser, not an API client, reads them. */
function renderErrors(app: FastifyInstance): void {
  app.setErrorHandler(
    (error: Error & { statusCode?: number; status?: number; expose?: boolean }, request, reply) => {
      const status = error.statusCode ?? error.status ?? 500;
      const lang = pickLang(undefined, request.headers['accept-language']);
      const clientError = status >= 400 && status < 500;
      if (!clientError) request.log.error({ err: error }, 'interaction failed');
      const message = clientError
        ? lang === 'ja'
          ? 'このページは使えなくなりました。利用していたサービスからもう一度ログインしてください。'
          : 'This page has expired. Please log in again from the service you were using.'
        : lang === 'ja'
          ? '問題が発生しました。しばらくしてからもう一度お試しください。'
          : 'Something went wrong. Please try again later.';
      return reply
        .code(clientError ? status : 500)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(page(lang, textOf(lang).errorTitle, errorBox(message)));
    },
  );
}

export function registerInteractions(app: FastifyInstance, deps: InteractionDeps): void {
  const csrfKey = deps.box.derive('identity.csrf');
  renderErrors(app);

  const load = async (request: FastifyRequest, reply: FastifyReply) => {
    const provider = deps.provider();
    const details = await provider.interactionDetails(request.raw, reply.raw);
    const client = await provider.Client.find(details.params.client_id as string);
    return { provider, details, clientName: client?.clientName ?? String(details.params.client_id) };
  };
  const finish = async (
    request: FastifyRequest,
    reply: FastifyReply,
    provider: Provider,
    result: InteractionResults,
  ) => {
    const to = await provider.interactionResult(request.raw, reply.raw, result, {
      mergeWithLastSubmission: false,
    });
    return reply.redirect(to, 303);
  };
  const checkCsrf = (uid: string, body: unknown) => {
    if (!csrfValid(csrfKey, uid, (body as Record<string, unknown> | undefined)?.csrf)) {
      const error = new Error('the form expired or did not come from this site; reload the page');
      (error as Error & { statusCode: number }).statusCode = 403;
      throw error;
    }
  };

  const showLogin = async (
    details: Details,
    lang: Lang,
    clientName: string,
    error?: string,
    email?: string,
  ) => {
    const card = deps.jpki
      ? await issueChallenge(deps.db, { seconds: deps.jpki.challengeSeconds })
      : undefined;
    return loginPage(details, lang, csrfToken(csrfKey, details.uid), clientName, {
      error,
      email,
      card,
      upstreams: deps.upstreams.list(),
      passkey: passkeys.enabled,
    });
  };
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
  const attemptOf = (request: FastifyRequest, details: Details) => ({
    ip: request.ip,
    clientId: details.params.client_id as string | undefined,
  });
  const login: InteractionHelpers['login'] = async (
    request,
    reply,
    provider,
    details,
    accountId,
    acr,
    amr,
  ) => {
    if (!(await mayOpenConsole(deps.db, deps.publicUrl, details.params, accountId))) {
      const lang = langOf(details, request);
      const clientName = (await provider.Client.find(CONSOLE_CLIENT_ID))?.clientName ?? CONSOLE_CLIENT_ID;
      return html(reply, 403, await showLogin(details, lang, clientName, MESSAGES[lang].notStaff));
    }
    await auditLogin(deps.db, { ...attemptOf(request, details), accountId, acr, amr });
    return passkeys.afterLogin(request, reply, provider, details, { accountId, acr, amr, remember: true });
  };
  const passkeys = registerPasskeyRoutes(app, deps, {
    load,
    checkCsrf,
    html,
    showLogin,
    login,
    finish,
    langOf,
    attemptOf,
    csrf: (uid) => csrfToken(csrfKey, uid),
  });
  registerUpstreamRoutes(app, deps.db, deps.upstreams, { load, checkCsrf, html, showLogin, login, langOf });
  const consent = registerConsentRoutes(app, deps, {
    load,
    checkCsrf,
    html,
    finish,
    langOf,
    csrf: (uid) => csrfToken(csrfKey, uid),
  });

  app.get<{ Params: { uid: string } }>(`${INTERACTION_PATH}/:uid`, async (request, reply) => {
    const { provider, details, clientName } = await load(request, reply);
    if (details.prompt.name === 'consent' && FIRST_PARTY_CLIENTS.has(String(details.params.client_id))) {
      // The console and the portal are part of Machi: no one is asked to consent to Machi itself.
      return finish(request, reply, provider, {
        consent: { grantId: await grantConsent(provider, details) },
      });
    }
    if (details.prompt.name !== 'login') return consent.show(request, reply, provider, details, clientName);
    return html(reply, 200, await showLogin(details, langOf(details, request), clientName));
  });

  app.post<{ Params: { uid: string }; Body: { email?: string; password?: string } }>(
    `${INTERACTION_PATH}/:uid/login`,
    async (request, reply) => {
      const { provider, details, clientName } = await load(request, reply);
      checkCsrf(details.uid, request.body);
      const lang = langOf(details, request);
      const m = MESSAGES[lang];
      const result = await checkPassword(deps.db, {
        ...attemptOf(request, details),
        email: String(request.body?.email ?? ''),
        password: String(request.body?.password ?? ''),
      });
      switch (result.outcome) {
        case 'success':
          return login(request, reply, provider, details, result.account.id, ACR.password, ['pwd']);
        case 'totp': {
          const pending = pendingToken(csrfKey, details.uid, result.account.id);
          return html(reply, 200, totpPage(details, lang, csrfToken(csrfKey, details.uid), pending));
        }
        case 'locked':
          reply.header('retry-after', String(result.retryAfterSeconds));
          return html(
            reply,
            429,
            await showLogin(details, lang, clientName, m.locked(Math.ceil(result.retryAfterSeconds / 60))),
          );
        case 'needs-second-factor':
          return html(reply, 403, await showLogin(details, lang, clientName, m.needsSecondFactor));
        case 'unverified':
          return html(reply, 403, await showLogin(details, lang, clientName, textOf(lang).unverified));
        default:
          return html(
            reply,
            401,
            await showLogin(details, lang, clientName, m.wrong, String(request.body?.email ?? '')),
          );
      }
    },
  );

  app.post<{ Params: { uid: string }; Body: { pending?: string; code?: string } }>(
    `${INTERACTION_PATH}/:uid/totp`,
    async (request, reply) => {
      const { provider, details, clientName } = await load(request, reply);
      checkCsrf(details.uid, request.body);
      const lang = langOf(details, request);
      const accountId = pendingAccount(csrfKey, details.uid, request.body?.pending);
      if (!accountId) {
        return html(reply, 401, await showLogin(details, lang, clientName, MESSAGES[lang].wrong));
      }
      const result = await checkTotp(deps.db, deps.box, {
        ...attemptOf(request, details),
        accountId,
        code: String(request.body?.code ?? ''),
      });
      if (result.outcome === 'success') {
        return login(request, reply, provider, details, accountId, ACR.mfa, ['pwd', 'otp', 'mfa']);
      }
      if (result.outcome === 'locked') {
        reply.header('retry-after', String(result.retryAfterSeconds));
        return html(
          reply,
          429,
          await showLogin(
            details,
            lang,
            clientName,
            MESSAGES[lang].locked(Math.ceil(result.retryAfterSeconds / 60)),
          ),
        );
      }
      const csrf = csrfToken(csrfKey, details.uid);
      return html(
        reply,
        401,
        totpPage(details, lang, csrf, String(request.body?.pending), MESSAGES[lang].wrongCode),
      );
    },
  );

  app.post<{
    Params: { uid: string };
    Body: { challengeId?: string; signature?: string; certificate?: string };
  }>(`${INTERACTION_PATH}/:uid/card`, async (request, reply) => {
    const { provider, details, clientName } = await load(request, reply);
    checkCsrf(details.uid, request.body);
    const lang = langOf(details, request);
    if (!deps.jpki) {
      return html(reply, 404, await showLogin(details, lang, clientName));
    }
    try {
      const result = await cardLogin(deps.db, deps.jpki, {
        ...attemptOf(request, details),
        challengeId: String(request.body?.challengeId ?? ''),
        signature: String(request.body?.signature ?? ''),
        certificate: String(request.body?.certificate ?? ''),
        sessionAccountId: details.session?.accountId,
      });
      if (result.outcome === 'unbound') {
        return html(reply, 401, await showLogin(details, lang, clientName, MESSAGES[lang].unbound));
      }
      return login(request, reply, provider, details, result.accountId, ACR.card, ['hwk', 'sc', 'pin']);
    } catch (error) {
      if (!(error instanceof JpkiError) || (error.status >= 500 && error.status !== 503)) throw error;
      return html(reply, error.status, await showLogin(details, lang, clientName, error.messageIn(lang)));
    }
  });

  app.post<{ Params: { uid: string } }>(`${INTERACTION_PATH}/:uid/abort`, async (request, reply) => {
    const { provider, details } = await load(request, reply);
    checkCsrf(details.uid, request.body);
    return finish(request, reply, provider, {
      error: 'access_denied',
      error_description: 'the resident declined',
    });
  });
}
