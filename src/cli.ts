/**
 * The `machi` command: start the system (API, web and workers, or one role for scale-out),
 * migrate, manage tenants and staff, verify the access log, reload the demo.
 */
import { parseArgs } from 'node:util';
import {
  type BrokerConfig,
  brokerOptions,
  entityTypeMarks,
  loadBrokerConfig,
  markEntityTypes,
  type TypeAccessEntry,
} from './broker/index.ts';
import {
  checkpointSigner,
  formatBrokenLink,
  startCheckpoints,
  verifyAccessLog,
  writeCheckpoint,
} from './consent/index.ts';
import { formatCredentials, hasAnyTenant, loadDemo } from './demo/index.ts';
import {
  addAccount,
  generatePassword,
  grantStaffRole,
  issuerOf,
  issueTotp,
  type JpkiConfig,
  listClients,
  loadJpkiConfig,
  loadMailConfig,
  loadUpstreamConfig,
  type MailConfig,
  mailOptions,
  registerClient,
  rotateSigningKeys,
  type StaffRole,
  type UpstreamConfig,
} from './identity/index.ts';
import { buildApp, jobHandlers, openMachi } from './main.ts';
import {
  AppError,
  addTenant,
  addTenantAliases,
  ConfigError,
  configWarnings,
  type Db,
  deploymentMasterKeys,
  listTenants,
  loadConfig,
  lockDataDir,
  openDataKeys,
  openSecretBox,
  optionWarnings,
  type PlatformConfig,
  readAll,
  requireTenant,
  Worker,
} from './platform/index.ts';
import { startEveningReminders } from './services/calendar/index.ts';

const USAGE = `Usage: machi <command>

  start [--role all|api|worker]   start Machi (default: API, web and workers in one process)
  migrate                         apply database migrations and exit
  tenant add <code> <名前> <English name> [--alias <alias>[,<alias>…]]…
                                  add a prefecture or municipality by its 全国地方公共団体コード,
                                  with aliases clients may use instead (e.g. sendai)
  tenant alias <tenant> <alias>…  register more aliases for a tenant (its code or an alias)
  tenant list                     list tenants with their aliases
  broker types <tenant> [--public <types>] [--personal <types>] [--unmark <types>]
                                  class entity types of a tenant (comma lists of short names or
                                  IRIs): public = readable without a token, personal = residents'
                                  personal data, unmark = neither; prints the tenant's classes
  user add --tenant <code> --email <e-mail> --name <name> [--role admin|editor|approver|health-officer|disaster-officer|viewer]
                                  add a staff account; its password is printed once
  client add --tenant <code> --name <name> --redirect-uri <uri>… [--scope <scopes>]
         [--public] [--service] [--backchannel-logout-uri <uri>] [--post-logout-redirect-uri <uri>…]
                                  register a service (OpenID Connect client) of a tenant; its
                                  client_secret is printed once
  client list --tenant <code>     list a tenant's services
  keys rotate                     sign with the key published since the last rotation, publish a
                                  new next key, keep the old one published for verification
  audit verify [--tenant <code>]  check every resident's access-log hash chain and the signed
                                  checkpoints; exits 1 naming the first broken link
  audit checkpoint [--tenant <code>]
                                  sign a checkpoint of the access-log chains that moved since the last
  demo                            (re)load the demo tenants and accounts with new passwords

Settings come from environment variables; see .env.example.`;

type Command = (
  args: string[],
  config: PlatformConfig & {
    broker: BrokerConfig;
    jpki: JpkiConfig;
    upstream: UpstreamConfig;
    mail: MailConfig;
  },
) => Promise<number>;

/** Opens the database for a one-off command, holding the embedded data folder's lock meanwhile. */
async function withDb<T>(config: PlatformConfig, fn: (db: Db) => Promise<T>): Promise<T> {
  const release = config.databaseUrl ? () => {} : lockDataDir(config.dataDir);
  try {
    const { db } = await openMachi({ config });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  } finally {
    release();
  }
}

const start: Command = async (args, config) => {
  const { values } = parseArgs({ args, options: { role: { type: 'string', default: 'all' } } });
  const role = values.role;
  if (role !== 'all' && role !== 'api' && role !== 'worker') {
    process.stderr.write(`--role must be all, api or worker (got ${role})\n`);
    return 2;
  }
  // Listen for the stop signal before anything starts, and keep listening while shutting down, so
  // that no signal ever meets Node's default handler (which would kill the process mid-shutdown).
  const stopRequested = new Promise<void>((resolve) => {
    process.on('SIGINT', () => resolve());
    process.on('SIGTERM', () => resolve());
  });
  const release = config.databaseUrl ? () => {} : lockDataDir(config.dataDir);
  const { db, applied } = await openMachi({ config });
  if (applied.length > 0) {
    process.stdout.write(`Applied ${applied.length} database migrations.\n`);
  }
  if (config.demoData && role !== 'worker' && !(await hasAnyTenant(db))) {
    const box = await openSecretBox(config);
    const keys = await openDataKeys(db, deploymentMasterKeys(config, box));
    process.stdout.write(`${formatCredentials(await loadDemo(db, box, keys))}\n`);
  }
  const app =
    role === 'worker'
      ? undefined
      : await buildApp({
          config,
          db,
          broker: config.broker,
          jpki: config.jpki,
          upstream: config.upstream,
          mail: config.mail,
        });
  const worker =
    role === 'api'
      ? undefined
      : new Worker(db, {
          handlers: jobHandlers(db, config.broker, { ...config, box: await openSecretBox(config) }),
          concurrency: config.jobsConcurrency,
          pollIntervalMs: config.jobsPollIntervalMs,
          leaseSeconds: config.jobsLeaseSeconds,
        });
  worker?.start();
  // Access-log checkpoints: one chain of periodic jobs per deployment, (re)started by any worker.
  if (worker) await startCheckpoints(db);
  // Garbage-day reminders: a daily chain at 18:00 in Japan, (re)started the same way.
  if (worker) await startEveningReminders(db);
  if (app) {
    await app.listen({ port: config.port, host: config.host });
    const where = config.databaseUrl ? 'PostgreSQL' : `the embedded database in ${config.dataDir}`;
    process.stdout.write(`Machi is running at ${config.publicUrl} (${where}).\n`);
  } else {
    process.stdout.write(`Machi worker ${worker?.id} is taking jobs.\n`);
  }
  await stopRequested;
  await app?.close();
  await worker?.stop();
  await db.close();
  release();
  return 0;
};

const migrateCommand: Command = async (_args, config) => {
  const release = config.databaseUrl ? () => {} : lockDataDir(config.dataDir);
  try {
    const { db, applied } = await openMachi({ config });
    await db.close();
    process.stdout.write(applied.length ? `Applied:\n  ${applied.join('\n  ')}\n` : 'Nothing to apply.\n');
    return 0;
  } finally {
    release();
  }
};

const tenant: Command = async (args, config) => {
  const [sub, ...rest] = args;
  if (sub === 'list') {
    const tenants = await withDb(config, listTenants);
    for (const t of tenants) {
      process.stdout.write(
        `${t.code}  ${t.kind.padEnd(12)} ${t.name} (${t.nameEn})${t.parentCode ? `  ⊂ ${t.parentCode}` : ''}${aliasText(t.aliases)}\n`,
      );
    }
    return 0;
  }
  if (sub === 'add') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { alias: { type: 'string', multiple: true } },
    });
    if (positionals.length === 3) {
      const [code = '', name = '', nameEn = ''] = positionals;
      const aliases = commaList(values.alias);
      const added = await withDb(config, (db) => addTenant(db, { code, name, nameEn, aliases }));
      process.stdout.write(`Added ${added.kind} ${added.code} ${added.name}${aliasText(added.aliases)}.\n`);
      return 0;
    }
  }
  if (sub === 'alias' && rest.length >= 2) {
    const [name = '', ...aliases] = rest;
    const changed = await withDb(config, (db) => addTenantAliases(db, name, commaList(aliases)));
    process.stdout.write(`${changed.code} ${changed.name}${aliasText(changed.aliases)}.\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
};

/** Values of a repeatable option, each of which may be a comma list. */
function commaList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',').map((s) => s.trim())).filter(Boolean);
}

function aliasText(aliases: string[]): string {
  return aliases.length ? `  (aliases: ${aliases.join(', ')})` : '';
}

function formatTypeMarks(marks: TypeAccessEntry[]): string {
  if (marks.length === 0) {
    return 'No entity type is marked public or personal.\n';
  }
  return marks.map((m) => `${m.access.padEnd(9)} ${m.type}\n`).join('');
}

const broker: Command = async (args, config) => {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      public: { type: 'string', multiple: true },
      personal: { type: 'string', multiple: true },
      unmark: { type: 'string', multiple: true },
    },
  });
  if (sub !== 'types' || positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const marks = await withDb(config, async (db) => {
    const { code } = await requireTenant(db, positionals[0] ?? '');
    const changes = {
      public: commaList(values.public),
      personal: commaList(values.personal),
      unmark: commaList(values.unmark),
    };
    const changing = changes.public.length + changes.personal.length + changes.unmark.length > 0;
    return changing ? markEntityTypes(db, code, changes) : entityTypeMarks(db, code);
  });
  process.stdout.write(formatTypeMarks(marks));
  return 0;
};

const user: Command = async (args, config) => {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      tenant: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string', default: 'admin' },
    },
  });
  if (sub !== 'add' || !values.tenant || !values.email || !values.name) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const password = generatePassword();
  const box = await openSecretBox(config);
  const authenticator = await withDb(config, async (db) => {
    const tenantRecord = await requireTenant(db, values.tenant ?? '');
    const account = await addAccount(db, {
      kind: 'staff',
      email: values.email ?? '',
      displayName: values.name ?? '',
      password,
    });
    await grantStaffRole(db, tenantRecord.code, account.id, values.role as StaffRole);
    // Staff log in with a second factor: the account gets its authenticator key now.
    return issueTotp(db, box, account.id, values.email ?? '');
  });
  process.stdout.write(
    `Added staff ${values.email} (${values.role}, ${values.tenant}). Password (shown once): ${password}\n` +
      `Authenticator app key (shown once; TOTP, SHA-1, 6 digits, 30 s): ${authenticator.secret}\n` +
      `  ${authenticator.otpauthUri}\n`,
  );
  return 0;
};

const demo: Command = async (_args, config) => {
  const box = await openSecretBox(config);
  const credentials = await withDb(config, async (db) =>
    loadDemo(db, box, await openDataKeys(db, deploymentMasterKeys(config, box))),
  );
  process.stdout.write(`${formatCredentials(credentials)}\n`);
  return 0;
};

const client: Command = async (args, config) => {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      tenant: { type: 'string' },
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      'backchannel-logout-uri': { type: 'string' },
      scope: { type: 'string' },
      public: { type: 'boolean', default: false },
      service: { type: 'boolean', default: false },
    },
  });
  if (sub === 'list' && values.tenant) {
    const clients = await withDb(config, async (db) =>
      listClients(db, (await requireTenant(db, values.tenant ?? '')).code),
    );
    for (const c of clients) {
      process.stdout.write(
        `${c.clientId}  ${c.name}${c.disabled ? ' (disabled)' : ''}  ${c.scopes.join(' ')}  ${c.redirectUris.join(' ')}\n`,
      );
    }
    return 0;
  }
  if (sub !== 'add' || !values.tenant || !values.name) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const registered = await withDb(config, async (db) => {
    const box = await openSecretBox(config);
    return registerClient(
      db,
      box,
      {
        tenantCode: (await requireTenant(db, values.tenant ?? '')).code,
        name: values.name ?? '',
        redirectUris: values['redirect-uri'] ?? [],
        postLogoutRedirectUris: values['post-logout-redirect-uri'],
        backchannelLogoutUri: values['backchannel-logout-uri'],
        scopes: values.scope ? values.scope.split(/[\s,]+/).filter(Boolean) : undefined,
        public: values.public,
        serviceAccess: values.service,
      },
      { production: config.production },
    );
  });
  process.stdout.write(`client_id: ${registered.clientId}\n`);
  process.stdout.write(
    registered.clientSecret
      ? `client_secret (shown once): ${registered.clientSecret}\n`
      : 'public client: no secret; it must use PKCE\n',
  );
  process.stdout.write(`issuer: ${issuerOf(config.publicUrl)}\n`);
  return 0;
};

const keys: Command = async (args, config) => {
  if (args[0] !== 'rotate' || args.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const rotation = await withDb(config, async (db) => rotateSigningKeys(db, await openSecretBox(config)));
  process.stdout.write(
    `Signing with ${rotation.current}; published next: ${rotation.next}${rotation.retired ? `; still published: ${rotation.retired}` : ''}${rotation.dropped ? `; dropped ${rotation.dropped} expired key(s)` : ''}.\n`,
  );
  return 0;
};

const audit: Command = async (args, config) => {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { tenant: { type: 'string' } } });
  if (sub !== 'verify' && sub !== 'checkpoint') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const box = await openSecretBox(config);
  return withDb(config, async (db) => {
    const tenant = values.tenant ? (await requireTenant(db, values.tenant)).code : undefined;
    if (sub === 'checkpoint') {
      const written = await writeCheckpoint(db, await checkpointSigner(box), { tenant });
      for (const c of written) {
        process.stdout.write(`${c.tenant}  checkpoint ${c.seq}  ${c.heads} chain heads  root ${c.root}\n`);
      }
      if (written.length === 0) process.stdout.write('No chain moved since the last checkpoint.\n');
      return 0;
    }
    const report = await verifyAccessLog(db, box, { tenant });
    if (report.broken) {
      process.stdout.write(`Access log broken: ${formatBrokenLink(report.broken)}\n`);
      return 1;
    }
    process.stdout.write(
      `Access log intact: ${report.tenants} tenants, ${report.chains} chains, ${report.records} records, ${report.checkpoints} checkpoints.\n`,
    );
    return 0;
  });
};

const COMMANDS: Record<string, Command> = {
  start,
  migrate: migrateCommand,
  tenant,
  broker,
  user,
  client,
  keys,
  audit,
  demo,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`${USAGE}\n`);
    return name === undefined || name === '--help' || name === 'help' ? 0 : 2;
  }
  let config: PlatformConfig;
  let broker: BrokerConfig;
  let jpki: JpkiConfig;
  let upstream: UpstreamConfig;
  let mail: MailConfig;
  try {
    ({ config, broker, jpki, upstream, mail } = readAll({
      config: () => loadConfig(),
      broker: () => loadBrokerConfig(process.env, process.env.HOST?.trim() || '127.0.0.1'),
      jpki: () => loadJpkiConfig(process.env),
      upstream: () => loadUpstreamConfig(process.env),
      mail: () => loadMailConfig(process.env),
    }));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 78;
    }
    throw error;
  }
  for (const warning of [
    ...configWarnings(config),
    ...optionWarnings(brokerOptions, broker),
    ...optionWarnings(mailOptions, mail),
  ]) {
    process.stderr.write(`WARNING: ${warning}\n`);
  }
  try {
    return await command(args, { ...config, broker, jpki, upstream, mail });
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      process.stderr.write(`machi: ${error.message}\n`);
      return 1;
    }
    if (error instanceof AppError) {
      process.stderr.write(`machi: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
