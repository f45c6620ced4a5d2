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
import { authenticatePassword } from '../accounts.ts';
import { ACR } from './assurance.ts';
import { errorBox, escapeHtml, hidden, type Lang, page, pickLang, textOf } from './pages.ts';
import { INTERACTION_PATH } from './provider.ts';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface InteractionDeps {
  db: Db;
  box: SecretBox;
  /** The provider in use now (it is replaced when signing keys rotate). */
  provider: () => Provider;
}

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

function loginPage(details: Details, lang: Lang, csrf: string, clientName: string, error?: string): string {
  const t = textOf(lang);
  const stepUp = details.prompt.reasons.includes('acr_values') && details.session ? `<p>${t.stepUp}</p>` : '';
  const action = `${INTERACTION_PATH}/${details.uid}`;
  return page(
    lang,
    t.loginTitle,
    `<p>${escapeHtml(t.loginLead(clientName))}</p>${stepUp}${errorBox(error)}
<form method="post" action="${action}/login" novalidate>${hidden('csrf', csrf)}
<label for="email">${t.email}</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(String(details.params.login_hint ?? ''))}">
<label for="password">${t.password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button class="primary" type="submit">${t.submitLogin}</button></form>
<form method="post" action="${action}/abort">${hidden('csrf', csrf)}<button class="secondary" type="submit">${t.cancel}</button></form>`,
  );
}

function consentPage(details: Details, lang: Lang, csrf: string, clientName: string): string {
  const t = textOf(lang);
  const scopes = String(details.params.scope ?? '')
    .split(' ')
    .filter((s) => t.scopes[s]);
  const action = `${INTERACTION_PATH}/${details.uid}`;
  return page(
    lang,
    t.consentTitle,
    `<p>${escapeHtml(t.consentLead(clientName))}</p>
<ul>${scopes.map((s) => `<li>${escapeHtml(t.scopes[s] as string)}</li>`).join('')}</ul>
<form method="post" action="${action}/confirm">${hidden('csrf', csrf)}<button class="primary" type="submit">${t.allow}</button></form>
<form method="post" action="${action}/abort">${hidden('csrf', csrf)}<button class="secondary" type="submit">${t.deny}</button></form>`,
  );
}

/** Saves the grant the resident just agreed to: the scopes and claims the prompt found missing. */
async function grantConsent(provider: Provider, details: Details): Promise<string> {
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

  app.get<{ Params: { uid: string } }>(`${INTERACTION_PATH}/:uid`, async (request, reply) => {
    const { details, clientName } = await load(request, reply);
    const lang = langOf(details, request);
    const csrf = csrfToken(csrfKey, details.uid);
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return details.prompt.name === 'login'
      ? loginPage(details, lang, csrf, clientName)
      : consentPage(details, lang, csrf, clientName);
  });

  app.post<{ Params: { uid: string }; Body: { email?: string; password?: string } }>(
    `${INTERACTION_PATH}/:uid/login`,
    async (request, reply) => {
      const { provider, details, clientName } = await load(request, reply);
      checkCsrf(details.uid, request.body);
      const account = await authenticatePassword(
        deps.db,
        String(request.body?.email ?? ''),
        String(request.body?.password ?? ''),
      );
      if (!account) {
        const lang = langOf(details, request);
        const message =
          lang === 'ja'
            ? 'メールアドレスまたはパスワードが違います。'
            : 'The e-mail address or password is wrong.';
        return reply
          .code(401)
          .type('text/html; charset=utf-8')
          .send(loginPage(details, lang, csrfToken(csrfKey, details.uid), clientName, message));
      }
      return finish(request, reply, provider, {
        login: { accountId: account.id, acr: ACR.password, amr: ['pwd'], remember: true },
      });
    },
  );

  app.post<{ Params: { uid: string } }>(`${INTERACTION_PATH}/:uid/confirm`, async (request, reply) => {
    const { provider, details } = await load(request, reply);
    checkCsrf(details.uid, request.body);
    const grantId = await grantConsent(provider, details);
    return finish(request, reply, provider, { consent: { grantId } });
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
