/**
 * Routes of an upstream login: the login page's button posts to `/interaction/{uid}/upstream/{id}`,
 * the upstream provider answers at `/login/upstream/{id}/callback` (one fixed redirect URI per
 * provider, outside the interaction's cookie path), which sends the browser back into the
 * interaction to finish: link or find the account, then log in.
 */
import type { FastifyInstance } from 'fastify';
import { type Db, NotFound } from '../../platform/index.ts';
import type { InteractionHelpers } from '../oidc/interaction-helpers.ts';
import { INTERACTION_PATH } from '../oidc/provider.ts';
import { type Upstreams, upstreamAccount } from './flow.ts';

type InteractionKit = Pick<
  InteractionHelpers,
  'load' | 'checkCsrf' | 'html' | 'showLogin' | 'login' | 'langOf'
>;

const MESSAGES = {
  ja: {
    unlinked: (name: string) =>
      `この${name}のアカウントはまだ連携されていません。メールアドレスとパスワードでログインしてから、もう一度${name}でログインすると連携されます。`,
    noMunicipality: 'お住まいの市区町村はこの基盤に参加していないため、アカウントを作成できませんでした。',
  },
  en: {
    unlinked: (name: string) =>
      `This ${name} account is not linked yet. Log in with your e-mail address and password, then log in with ${name} again to link it.`,
    noMunicipality: 'Your municipality does not take part in this platform, so no account could be made.',
  },
};

export function registerUpstreamRoutes(
  app: FastifyInstance,
  db: Db,
  upstreams: Upstreams,
  kit: InteractionKit,
): void {
  app.post<{ Params: { uid: string; id: string } }>(
    `${INTERACTION_PATH}/:uid/upstream/:id`,
    async (request, reply) => {
      const { details, clientName } = await kit.load(request, reply);
      kit.checkCsrf(details.uid, request.body);
      const provider = upstreams.get(request.params.id);
      if (!provider) {
        return kit.html(reply, 404, await kit.showLogin(details, kit.langOf(details, request), clientName));
      }
      return reply.redirect((await upstreams.start(db, provider, details.uid)).href, 303);
    },
  );

  app.get<{ Params: { id: string } }>('/login/upstream/:id/callback', async (request, reply) => {
    const provider = upstreams.get(request.params.id);
    if (!provider) {
      throw new NotFound(`no upstream provider ${request.params.id}`);
    }
    const url = new URL(request.url, upstreams.callbackUrl(provider.id));
    const { uid, state } = await upstreams.callback(db, provider, url);
    return reply.redirect(`${INTERACTION_PATH}/${uid}/upstream-done?state=${encodeURIComponent(state)}`, 303);
  });

  app.get<{ Params: { uid: string }; Querystring: { state?: string } }>(
    `${INTERACTION_PATH}/:uid/upstream-done`,
    async (request, reply) => {
      const { provider, details, clientName } = await kit.load(request, reply);
      const lang = kit.langOf(details, request);
      const taken = await upstreams.take(db, details.uid, String(request.query.state ?? ''));
      if (!taken) {
        return kit.html(reply, 400, await kit.showLogin(details, lang, clientName));
      }
      const found = await upstreamAccount(db, taken.provider, taken.result, details.session?.accountId);
      if (found.outcome !== 'success') {
        const message =
          found.outcome === 'unlinked'
            ? MESSAGES[lang].unlinked(taken.provider.name[lang])
            : MESSAGES[lang].noMunicipality;
        return kit.html(reply, 401, await kit.showLogin(details, lang, clientName, message));
      }
      return kit.login(
        request,
        reply,
        provider,
        details,
        found.accountId,
        taken.provider.acr,
        taken.provider.amr,
      );
    },
  );
}
