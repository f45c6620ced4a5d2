/**
 * The identity capability's HTTP face: the OpenID provider under `/oidc` (discovery, JWKS,
 * authorization, token, userinfo, introspection, revocation, logout), its login and consent
 * pages, and the residents' self-service pages under `/account`. The provider is rebuilt when a key rotation commits anywhere, so every API process signs
 * with the same key.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import formbody from '@fastify/formbody';
import middie from '@fastify/middie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import {
  type Db,
  Forbidden,
  type JobHandler,
  type OutboundPolicy,
  type SecretBox,
} from '../platform/index.ts';
import { type AccountDetails, findAccountById, type StaffRole } from './accounts.ts';
import { createJpkiVerifier, type JpkiConfig, sweepJpkiChallenges } from './jpki/index.ts';
import { sweepPasskeyChallenges } from './login/passkey.ts';
import { sweepOidcModels } from './oidc/adapter.ts';
import { type Bearer, bearerFor } from './oidc/bearer.ts';
import { registerInteractions } from './oidc/interactions.ts';
import { ensureSigningKeys, KEYS_CHANNEL, loadSigningKeys } from './oidc/keys.ts';
import { createProvider } from './oidc/provider.ts';
import {
  answerFromMyPage,
  type MyPagePurposeRequest,
  myPagePurposeRequest,
} from './oidc/purpose-consent-mypage.ts';
import { endServiceAccess, residentCaller, signWithProviderKey } from './oidc/resident.ts';
import { brokerResource } from './oidc/resources.ts';
import { findWithdrawnToken, type Log, sweepWithdrawnTokens } from './oidc/revoke.ts';
import {
  MAIL_QUEUE,
  type MailConfig,
  mailJobHandler,
  selfServiceRoutes,
  sweepAccountTokens,
} from './self-service/index.ts';
import { staffRoles } from './staff/access.ts';
import { staffCaller } from './staff/caller.ts';
import { staffRoutes } from './staff/routes.ts';
import { sweepLoginThrottle } from './throttle.ts';
import type { UpstreamConfig } from './upstream/config.ts';
import { Upstreams } from './upstream/flow.ts';

export const OIDC_PATH = '/oidc';
const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

export interface IdentityOptions {
  db: Db;
  box: SecretBox;
  publicUrl: string;
  /** Production refuses http redirect URIs for clients registered by staff (loopback aside). */
  production: boolean;
  trustProxy: boolean;
  outbound: OutboundPolicy;
  /** My Number Card login settings; without CA certificates the card login is off. */
  jpki: JpkiConfig;
  /** Upstream OpenID providers residents may log in through (none by default). */
  upstream: UpstreamConfig;
  /** Mail to residents (registration, password reset); without an SMTP server it is off. */
  mail: MailConfig;
}

/** The issuer of this deployment: one for every municipality it serves. */
export function issuerOf(publicUrl: string): string {
  return `${publicUrl}${OIDC_PATH}`;
}

/** What other capabilities get from identity, through the composition root. */
export interface IdentityHandle {
  /**
   * The verified bearer of a request to one of Machi's APIs (`broker`), undefined without a token.
   * @throws Unauthorized for a token the provider does not stand behind or issued for another API
   */
  bearer(request: FastifyRequest, api: 'broker'): Promise<Bearer | undefined>;
  /**
   * The resident calling their own API (My Page) through the portal.
   * @throws Unauthorized without a usable token, Forbidden for another client's token
   */
  resident(request: FastifyRequest): Promise<{ accountId: string }>;
  /**
   * The staff member calling a tenant's staff API through the console, with their roles there.
   * @throws Unauthorized without a usable token, Forbidden for another tenant's or client's token, or no role
   */
  staff(request: FastifyRequest, tenant: string): Promise<{ accountId: string; roles: StaffRole[] }>;
  /** The account's name, e-mail and home municipality; undefined for an unknown id. */
  account(accountId: string): Promise<AccountDetails | undefined>;
  /** The names services were registered with, by client id (unknown ids are left out). */
  clientNames(clientIds: readonly string[]): Promise<Map<string, string>>;
  /** Ends the services' access to the account and sends them back-channel logout (consent withdrawn). */
  endServiceAccess(accountId: string, clientIds: readonly string[], log: Log): Promise<void>;
  /** A compact JWS signed with the provider's current key, verifiable with its JWKS. */
  sign(payload: object, typ: string): Promise<string>;
  /**
   * A service's purpose request as the resident reads it on My Page, with the text an answer records.
   * @throws NotFound for a service that asks for nothing on consent
   */
  purposeRequest(accountId: string, clientId: string, lang: 'ja' | 'en'): Promise<MyPagePurposeRequest>;
  /**
   * Records the resident's answer from My Page to the request version and text they were shown.
   * @throws Conflict when either changed since
   */
  answerPurposeRequest(
    accountId: string,
    clientId: string,
    answer: { lang: 'ja' | 'en'; version: number; shown: string; keys: string[] },
  ): Promise<{ consentId: string; granted: string[] }>;
  /** This deployment's issuer. */
  issuer: string;
}

export async function identityPlugin(
  app: FastifyInstance,
  options: IdentityOptions,
): Promise<IdentityHandle> {
  const { db, box } = options;
  await ensureSigningKeys(db, box);
  let keys: JWK[] = [];
  const build = async () => {
    const loaded = await loadSigningKeys(db, box);
    const built = createProvider({
      db,
      box,
      issuer: issuerOf(options.publicUrl),
      publicUrl: options.publicUrl,
      keys: loaded,
      outbound: options.outbound,
      proxy: options.trustProxy,
    });
    // The library answers `server_error` to the browser; the operator needs the cause.
    built.on('server_error', (_ctx, error) => app.log.error({ err: error }, 'the OpenID provider failed'));
    keys = loaded;
    return built;
  };
  let provider: Provider = await build();
  let handler = provider.callback();
  const reload = async () => {
    try {
      provider = await build();
      handler = provider.callback();
    } catch (error) {
      app.log.error({ err: error }, 'could not reload the signing keys; signing with the previous ones');
    }
  };
  const unlisten = await db.listen(KEYS_CHANNEL, {
    message: () => void reload(),
    // Back after a lost connection: a rotation may have been missed.
    listening: (on) => {
      if (on) void reload();
    },
  });
  const sweeper = setInterval(() => {
    Promise.all([
      sweepOidcModels(db),
      sweepJpkiChallenges(db),
      sweepPasskeyChallenges(db),
      sweepLoginThrottle(db),
      sweepAccountTokens(db),
      sweepWithdrawnTokens(db),
    ]).catch((error) => app.log.warn({ err: error }, 'sweeping expired identity rows failed'));
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    await unlisten();
  });

  await app.register(middie);
  app.use(OIDC_PATH, (req: IncomingMessage, res: ServerResponse) => handler(req, res));
  await app.register(async (scope) => {
    await scope.register(formbody);
    registerInteractions(scope, {
      db,
      box,
      provider: () => provider,
      publicUrl: options.publicUrl,
      jpki: createJpkiVerifier(options.jpki, options.outbound),
      upstreams: new Upstreams(options.upstream.providers, options.outbound, options.publicUrl),
    });
  });
  await app.register(staffRoutes, {
    db,
    box,
    publicUrl: options.publicUrl,
    production: options.production,
    provider: () => provider,
  });
  await app.register(selfServiceRoutes, {
    db,
    box,
    publicUrl: options.publicUrl,
    mailOn: options.mail.smtpUrl !== undefined,
    provider: () => provider,
  });
  const audiences = { broker: brokerResource(options.publicUrl) };
  return {
    bearer: (request, api) =>
      bearerFor(provider, request, audiences[api], `machi-${api}`, (value) => findWithdrawnToken(db, value)),
    resident: (request) => residentCaller(provider, options.publicUrl, request),
    account: (accountId) => findAccountById(db, accountId),
    staff: async (request, tenant) => {
      const caller = await staffCaller(provider, options.publicUrl, request, tenant);
      const roles = await staffRoles(db, tenant, caller.accountId);
      if (roles.length === 0) throw new Forbidden(`this account is not on the staff of ${tenant}`);
      return { accountId: caller.accountId, roles };
    },
    clientNames: async (clientIds) => {
      const names = new Map<string, string>();
      for (const id of new Set(clientIds)) {
        const client = await provider.Client.find(id);
        if (client) names.set(id, client.clientName ?? id);
      }
      return names;
    },
    endServiceAccess: (accountId, clientIds, log) =>
      endServiceAccess(db, provider, accountId, clientIds, log),
    sign: (payload, typ) => signWithProviderKey(keys, payload, typ),
    purposeRequest: (accountId, clientId, lang) =>
      myPagePurposeRequest(db, provider.Client, { accountId, clientId, lang }),
    answerPurposeRequest: (accountId, clientId, answer) =>
      answerFromMyPage(db, box, provider.Client, { accountId, clientId, ...answer }),
    issuer: issuerOf(options.publicUrl),
  };
}

/** Job handlers of identity, by queue name: the mail to residents. */
export function identityJobHandlers(
  db: Db,
  options: { mail: MailConfig; publicUrl: string },
): Record<string, JobHandler> {
  return { [MAIL_QUEUE]: mailJobHandler(db, options) };
}
