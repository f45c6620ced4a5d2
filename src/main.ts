/**
 * The composition root: the only place that wires capabilities together.
 * `buildApp` assembles the HTTP app in one visible order (external plugins → platform →
 * capabilities → error handlers); `openMachi` opens and migrates the database.
 */
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type DestinationStream } from 'pino';
import {
  type Authenticate,
  type BrokerConfig,
  brokerJobHandlers,
  brokerMigrations,
  brokerPlugin,
  loadBrokerConfig,
  WithdrawnAccess,
} from './broker/index.ts';
import { checkpointJobHandlers, consentMigrations } from './consent/index.ts';
import { deliveryJobHandlers, deliveryMigrations, notificationRoutes } from './delivery/index.ts';
import {
  type IdentityHandle,
  identityJobHandlers,
  identityMigrations,
  identityPlugin,
  type JpkiConfig,
  loadJpkiConfig,
  loadMailConfig,
  loadUpstreamConfig,
  type MailConfig,
  type UpstreamConfig,
  WithdrawnToken,
} from './identity/index.ts';
import {
  BadRequest,
  type Db,
  deploymentMasterKeys,
  type JobHandler,
  loadMigrations,
  loggerOptions,
  type Migration,
  type MigrationSource,
  migrate,
  OutboundPolicy,
  openDataKeys,
  openDb,
  openSecretBox,
  type PlatformConfig,
  platformMigrations,
  postgresRateLimitStore,
  registerHealth,
  registerMetrics,
  registerProblemHandlers,
  registerTenantRoutes,
  registerWeb,
  type SecretBox,
  sendProblem,
  TooManyRequests,
  tenantCovers,
} from './platform/index.ts';
import { calendarJobHandlers, calendarMigrations, calendarRoutes } from './services/calendar/index.ts';
import { myPageRoutes } from './services/mypage/index.ts';
import { residentsRoutes } from './services/residents/index.ts';

/** Every capability's migrations, in the order they are applied. */
/**
 * The broker's callers, named by identity from their bearer tokens: the service (client) as the
 * subject, the resident it acts for, and the municipalities its registration lets it act in.
 */
function brokerCallers(identity: IdentityHandle): Authenticate {
  return async (request) => {
    let bearer: Awaited<ReturnType<IdentityHandle['bearer']>>;
    try {
      bearer = await identity.bearer(request, 'broker');
    } catch (error) {
      if (!(error instanceof WithdrawnToken)) throw error;
      const name = (await identity.clientNames([error.clientId])).get(error.clientId) ?? error.clientId;
      throw new WithdrawnAccess(error, { accountId: error.accountId, clientId: error.clientId, name });
    }
    if (!bearer) return {};
    const home = bearer.clientTenant;
    return {
      subject: bearer.clientId,
      name: bearer.clientName,
      ...(bearer.accountId ? { accountId: bearer.accountId } : {}),
      tenants: (tenant: string) => home !== undefined && tenantCovers(home, tenant),
    };
  };
}

export const migrationSources: MigrationSource[] = [
  platformMigrations,
  identityMigrations,
  consentMigrations,
  brokerMigrations,
  calendarMigrations,
  deliveryMigrations,
];

/** Job handlers of every capability, by queue name. */
export function jobHandlers(
  db: Db,
  broker: BrokerConfig,
  config: Pick<PlatformConfig, 'publicUrl' | 'outboundPrivate' | 'outboundAllow'> &
    Partial<Pick<PlatformConfig, 'vapidSubject'>> & {
      mail?: MailConfig;
      /** Signs the access log's checkpoints; without it a worker takes no checkpoint jobs. */
      box?: SecretBox;
    },
): Record<string, JobHandler> {
  const outbound = new OutboundPolicy(config);
  return {
    ...brokerJobHandlers(db, broker, { outbound, publicUrl: config.publicUrl }),
    ...identityJobHandlers(db, { mail: config.mail ?? loadMailConfig({}), publicUrl: config.publicUrl }),
    ...(config.box ? checkpointJobHandlers(db, config.box) : {}),
    // Pushes need the sealed VAPID key: a worker without the master key leaves them to one that has it.
    ...(config.box ? deliveryJobHandlers(db, { ...config, box: config.box, outbound }) : {}),
    ...calendarJobHandlers(db),
  };
}

export const WEB_DIST = fileURLToPath(new URL('../web/dist', import.meta.url));

export interface AppOptions {
  config: PlatformConfig;
  db: Db;
  /** Where log lines go (default: standard output). */
  logStream?: DestinationStream;
  /** The built front end to serve (default web/dist). */
  webDist?: string;
  /** The broker's settings (default: read from an empty environment, i.e. the defaults). */
  broker?: BrokerConfig;
  /** My Number Card login (default: off, no JPKI CA configured). */
  jpki?: JpkiConfig;
  /** Upstream OpenID providers (default: none). */
  upstream?: UpstreamConfig;
  /** Mail to residents (default: off, no SMTP server). */
  mail?: MailConfig;
  /** Seals secrets at rest (default: from MACHI_SECRET_KEY, or the key kept in DATA_DIR). */
  box?: SecretBox;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, db } = options;
  const box = options.box ?? (await openSecretBox(config));
  // Before anything starts: a data key whose master key is missing stops the start, naming it, and
  // data keys another master key wrapped are rewrapped with the current one (a rotation).
  const keys = await openDataKeys(db, deploymentMasterKeys(config, box));
  const logger: FastifyBaseLogger = pino(
    loggerOptions(config.logLevel),
    options.logStream ?? pino.destination(1),
  );
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 2048 },
    // Errors Fastify raises before routing (a malformed URL, a bad content type) are problems too.
    frameworkErrors: (error, _request, reply) => {
      sendProblem(reply, new BadRequest(error.message));
    },
  });
  const migrations: Migration[] = loadMigrations(migrationSources);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerProblemHandlers(app, config.bodyLimit);

  // External plugins.
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        'img-src': ["'self'", 'data:'],
        // The login and consent forms end in a redirect to the service's own site, which a
        // form-action 'self' would block (browsers apply it to the redirects after a submit).
        'form-action': null,
        'upgrade-insecure-requests': config.production ? [] : null,
      },
    },
    hsts: config.production,
  });
  if (config.rateLimitMax > 0) {
    const store = postgresRateLimitStore(db);
    // Requests counted in memory are written before the database closes.
    app.addHook('onClose', () => store.flush());
    await app.register(rateLimit, {
      max: config.rateLimitMax,
      timeWindow: config.rateLimitWindowSeconds * 1000,
      store,
      keyGenerator: (request) => `ip:${request.ip}`,
      errorResponseBuilder: (_request, context) => new TooManyRequests(Math.ceil(context.ttl / 1000)),
    });
  }
  if (config.corsOrigins.length > 0) {
    const { default: cors } = await import('@fastify/cors');
    await app.register(cors, { origin: config.corsOrigins });
  }

  // Platform.
  registerMetrics(app, db);
  registerHealth(app, db, migrations);
  registerTenantRoutes(app, db);

  // Capabilities.
  const identity = await identityPlugin(app, {
    db,
    box,
    publicUrl: config.publicUrl,
    production: config.production,
    trustProxy: config.trustProxy,
    outbound: new OutboundPolicy(config),
    jpki: options.jpki ?? loadJpkiConfig({}),
    upstream: options.upstream ?? loadUpstreamConfig({}),
    mail: options.mail ?? loadMailConfig({}),
  });
  await app.register(myPageRoutes, { db, identity, keys });
  await app.register(notificationRoutes, { db, identity, box, outbound: new OutboundPolicy(config) });
  await app.register(residentsRoutes, { db, identity, keys });
  await app.register(calendarRoutes, { db, identity, publicUrl: config.publicUrl });
  await brokerPlugin(app, {
    db,
    config: options.broker ?? loadBrokerConfig({}),
    bodyLimit: config.bodyLimit,
    publicUrl: config.publicUrl,
    outbound: new OutboundPolicy(config),
    authenticate: brokerCallers(identity),
    keys,
  });

  // Front end.
  const served = await registerWeb(app, options.webDist ?? WEB_DIST);
  if (!served) {
    app.log.warn('the front end is not built (npm run build:web); only the API is served');
  }
  return app;
}

export interface OpenOptions {
  config: PlatformConfig;
}

/** Opens the configured database and applies pending migrations; returns the ids applied. */
export async function openMachi({ config }: OpenOptions): Promise<{ db: Db; applied: string[] }> {
  const db = await openDb({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
  });
  try {
    const applied = await migrate(db, loadMigrations(migrationSources));
    return { db, applied };
  } catch (error) {
    await db.close();
    throw error;
  }
}
