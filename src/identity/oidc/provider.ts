/**
 * The OpenID provider: oidc-provider configured for Machi. Unsafe defaults are replaced here
 * (development interactions off, pairwise subjects implemented, PKCE for every client, refresh
 * tokens rotated, outgoing requests under the platform's outbound policy), and every setting a
 * relying party needs is in the discovery document.
 */
import { createHmac } from 'node:crypto';
import type { JWK } from 'jose';
import Provider, { type Configuration, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Db, OutboundPolicy, SecretBox } from '../../platform/index.ts';
import { findAccountById } from '../accounts.ts';
import { policedFetch } from '../outbound-fetch.ts';
import { ClientAdapter, PostgresAdapter } from './adapter.ts';
import { ACR, ACR_VALUES, meetsAcrValues, satisfies } from './assurance.ts';
import { errorBox, escapeHtml, hidden, page, pickLang, textOf } from './pages.ts';
import { clientTenant, needsPurposeConsent } from './purpose-consent.ts';
import {
  CONSOLE_CLIENT_ID,
  consoleClient,
  defaultResource,
  mayOpenConsole,
  portalClient,
  resourceServers,
} from './resources.ts';

export const INTERACTION_PATH = '/interaction';

export interface ProviderOptions {
  db: Db;
  box: SecretBox;
  issuer: string;
  /** The deployment's public origin; the console and the staff APIs live on it. */
  publicUrl: string;
  keys: JWK[];
  outbound: OutboundPolicy;
  /** Trust X-Forwarded-Proto from the reverse proxy (cookies are Secure behind TLS offloading). */
  proxy: boolean;
}

/** Claims each scope releases; `municipality` carries the home municipality's 全国地方公共団体コード. */
const CLAIMS = {
  // Claims about the login itself, released whenever an ID token is.
  acr: null,
  amr: null,
  auth_time: null,
  sid: null,
  iss: null,
  // How and when the resident logged in, in every ID token: services demanding a level check it.
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  profile: ['name'],
  email: ['email', 'email_verified'],
  municipality: ['home_municipality'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};

const TTL_SECONDS = {
  AccessToken: 10 * 60,
  AuthorizationCode: 60,
  ClientCredentials: 10 * 60,
  IdToken: 60 * 60,
  Interaction: 30 * 60,
  RefreshToken: 14 * 24 * 60 * 60,
  Session: 14 * 24 * 60 * 60,
  Grant: 365 * 24 * 60 * 60,
};

/** The `sub` a client sees: an HMAC of the client and the account, so no two clients share one. */
export function pairwiseSubject(key: Buffer, clientId: string, accountId: string): string {
  return createHmac('sha256', key).update(`${clientId}\0${accountId}`).digest('base64url');
}

/**
 * The login prompt also asks again when the session is weaker than the `acr_values` demand, and
 * when the console asks for a tenant the session's account is not staff of (or without a second
 * factor): a console session is opened for one tenant, by its staff, with two factors.
 */
function loginPolicy(db: Db, publicUrl: string) {
  const { Check, base } = interactionPolicy;
  const policy = base();
  const login = policy.get('login');
  login?.checks.add(
    new Check('acr_values', 'the session is weaker than the requested acr_values', (ctx) =>
      meetsAcrValues(ctx.oidc.acr, ctx.oidc.params?.acr_values as string | undefined)
        ? Check.NO_NEED_TO_PROMPT
        : Check.REQUEST_PROMPT,
    ),
  );
  login?.checks.add(
    new Check(
      'staff_tenant',
      "the session is not a two-factor session of this tenant's staff",
      async (ctx) => {
        const { params, client, session } = ctx.oidc;
        if (client?.clientId !== CONSOLE_CLIENT_ID || !session?.accountId) return Check.NO_NEED_TO_PROMPT;
        const allowed =
          satisfies(ctx.oidc.acr, ACR.mfa) &&
          (await mayOpenConsole(db, publicUrl, params as Record<string, unknown>, session.accountId));
        return allowed ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      },
    ),
  );
  return policy;
}

/**
 * The consent prompt also shows when the service's request (consent capability) asks, on consent,
 * for something the resident has not answered: a new item, or one that grew since their last
 * answer. The OIDC grant may be complete; the page then asks only about purposes. An answer just
 * given in this authorization stands, so the check never sends the resident round in a loop.
 */
function consentPolicy(policy: ReturnType<typeof interactionPolicy.base>, db: Db) {
  const { Check } = interactionPolicy;
  policy.get('consent')?.checks.add(
    new Check(
      'purpose_consent',
      "the service's request asks for consent the resident has not answered",
      async (ctx) => {
        const { client, session, result } = ctx.oidc;
        const tenant = client ? clientTenant(client.metadata()) : undefined;
        if (!client || !tenant || !session?.accountId || result?.consent) return Check.NO_NEED_TO_PROMPT;
        const needed = await needsPurposeConsent(db, {
          tenant,
          clientId: client.clientId,
          accountId: session.accountId,
        });
        return needed ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
      },
    ),
  );
  return policy;
}

function langOf(ctx: KoaContextWithOIDC): 'ja' | 'en' {
  const uiLocales = (ctx.oidc?.params?.ui_locales as string | undefined) ?? undefined;
  return pickLang(uiLocales, ctx.get('accept-language'));
}

function configuration(options: ProviderOptions): Configuration {
  const { db, box } = options;
  const pairwiseKey = box.derive('identity.pairwise');
  return {
    adapter: (name: string) =>
      name === 'Client' ? new ClientAdapter(db, box) : new PostgresAdapter(db, name),
    jwks: { keys: options.keys as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      keys: [box.derive('identity.cookies').toString('base64url')],
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    acrValues: ACR_VALUES,
    claims: CLAIMS,
    scopes: ['openid', 'offline_access', 'profile', 'email', 'municipality', 'address', 'phone'],
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: (_ctx, accountId, client) => pairwiseSubject(pairwiseKey, client.clientId, accountId),
    extraClientMetadata: { properties: ['machi_tenant'] },
    async findAccount(_ctx, sub) {
      const account = await findAccountById(db, sub);
      if (!account) return undefined;
      return {
        accountId: account.id,
        async claims() {
          return {
            sub: account.id,
            name: account.displayName,
            ...(account.email ? { email: account.email, email_verified: account.emailVerified } : {}),
            ...(account.homeTenantCode ? { home_municipality: account.homeTenantCode } : {}),
          };
        },
      };
    },
    clients: [consoleClient(options.publicUrl), portalClient(options.publicUrl)],
    interactions: {
      url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}`,
      policy: consentPolicy(loginPolicy(db, options.publicUrl), db),
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // A service may look only at tokens issued to itself.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      backchannelLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: resourceServers(db, options.publicUrl),
        defaultResource: defaultResource(options.publicUrl),
        // A code or refresh token for a staff API yields a token for that API without naming it again.
        useGrantedResource: () => true,
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          const lang = langOf(ctx);
          const t = textOf(lang);
          ctx.body = page(
            lang,
            t.logoutTitle,
            `<p>${t.logoutLead}</p>${form}<button class="primary" form="op.logoutForm" name="logout" value="yes">${t.logoutYes}</button>
<button class="secondary" form="op.logoutForm">${t.cancel}</button>`,
          );
        },
        postLogoutSuccessSource: async (ctx) => {
          const lang = langOf(ctx);
          const t = textOf(lang);
          ctx.body = page(lang, t.logoutTitle, `<p role="status">${t.loggedOut}</p>`);
        },
      },
    },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    ttl: TTL_SECONDS,
    clientBasedCORS: (_ctx, origin, client) =>
      client.redirectUris?.some((uri) => new URL(uri).origin === origin) ?? false,
    async renderError(ctx, out) {
      const lang = langOf(ctx);
      ctx.type = 'html';
      ctx.body = page(
        lang,
        textOf(lang).errorTitle,
        `${errorBox(String(out.error_description ?? out.error))}${hidden('error', String(out.error))}
<p><code>${escapeHtml(String(out.error))}</code></p>`,
      );
    },
    // oidc-provider's outgoing requests (back-channel logout, clients' JWKS) under Machi's policy.
    fetch: policedFetch(options.outbound) as unknown as Configuration['fetch'],
    discovery: { ui_locales_supported: ['ja', 'en'], claims_locales_supported: ['ja', 'en'] },
  };
}

export function createProvider(options: ProviderOptions): Provider {
  const provider = new Provider(options.issuer, configuration(options));
  provider.proxy = options.proxy;
  return provider;
}
