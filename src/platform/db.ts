/**
 * One database interface over two engines: the embedded PGlite (with PostGIS) in DATA_DIR when
 * DATABASE_URL is unset, a PostgreSQL server otherwise. The same SQL runs on both.
 * Tenant data is only ever read or written through `withTenant`, which drops to the `machi_app`
 * role so that PostgreSQL's row-level security policies apply.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import pg from 'pg';
import { postgisExtension } from './postgis-bundle.ts';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

/** Something SQL can be sent to: the database, a transaction or one connection. */
export interface Queryable {
  /**
   * `prepare`: a statement sent often with the same text (a hot write path) is prepared once per
   * connection and then only bound and executed, saving its parse and plan on every later call.
   */
  query<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    options?: { prepare?: boolean },
  ): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** A transaction as the schema owner: platform tables only, never tenant data. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * A transaction in which row-level security confines every statement to one tenant:
   * the role is `machi_app` and `machi.tenant_id` is set for this transaction only.
   */
  withTenant<T>(tenantId: string, fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** One connection held for the duration of `fn` (session-level advisory locks). */
  withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T>;
  /**
   * Receives the NOTIFY payloads of a channel, from any process, until the returned function is
   * called. `listening(false)` reports that notifications may have been missed (the connection was
   * lost); `listening(true)` that they arrive again.
   */
  listen(channel: string, handlers: ListenHandlers): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface ListenHandlers {
  message(payload: string): void;
  listening(on: boolean): void;
}

/** Work that must wait until a transaction has committed, by transaction handle. */
const onCommit = new WeakMap<Queryable, (() => void)[]>();

/**
 * Runs `fn` once the transaction of `tx` has committed, in this process; never when it rolls back.
 * For what must not happen early, such as dropping a cached copy of a row the transaction changes:
 * dropped before the commit, the old row could be read and cached again.
 */
export function afterCommit(tx: Queryable, fn: () => void): void {
  const list = onCommit.get(tx);
  if (!list) {
    throw new Error('afterCommit needs the handle of a running transaction');
  }
  list.push(fn);
}

function runCommitted(tx: Queryable): void {
  for (const fn of onCommit.get(tx) ?? []) {
    try {
      fn();
    } catch {
      // The commit happened; a failing follow-up must not turn it into an error for the caller.
    }
  }
  onCommit.delete(tx);
}

/** The role that application queries on tenant data run as; row-level security applies to it. */
export const APP_ROLE = 'machi_app';
/** The per-transaction setting that row-level security policies compare `tenant_id` with. */
export const TENANT_SETTING = 'machi.tenant_id';

/**
 * The statements that confine a transaction to one tenant, sent as one script so entering a tenant
 * costs one round trip. The tenant goes into the SQL text, so only a 全国地方公共団体コード-shaped
 * value (six digits) is accepted. JIT compilation is off: it costs far more than it saves on the
 * short statements of a request.
 */
export function tenantScript(tenantId: string): string {
  if (!/^\d{6}$/.test(tenantId)) {
    throw new Error(`not a tenant code: ${JSON.stringify(tenantId)}`);
  }
  return `set local role ${APP_ROLE}; set local ${TENANT_SETTING} = '${tenantId}'; set local jit = off`;
}

const INT8 = 20;

/**
 * Marks the async context of a running transaction. Using the database itself (not the transaction
 * handle) from inside one is a bug: on PGlite, a single connection, it waits for the transaction to
 * end and never returns; on PostgreSQL it silently runs outside the transaction. Both fail loudly.
 */
const insideTransaction = new AsyncLocalStorage<object>();

function assertNotInside(db: object): void {
  if (insideTransaction.getStore() === db) {
    throw new Error(
      'the database was used directly inside one of its transactions; use the transaction handle',
    );
  }
}

class PgliteDb implements Db {
  readonly kind = 'pglite';
  readonly #pg: PGlite;
  constructor(pglite: PGlite) {
    this.#pg = pglite;
  }
  async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    assertNotInside(this);
    const r = await this.#pg.query<T>(sql, params);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }
  async exec(sql: string): Promise<void> {
    assertNotInside(this);
    await this.#pg.exec(sql);
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    assertNotInside(this);
    const handle: Queryable = {
      async query<R>(sql: string, params?: unknown[]) {
        const r = await current.query<R>(sql, params);
        return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
      },
      async exec(sql: string) {
        await current.exec(sql);
      },
    };
    let current: Pick<PGlite, 'query' | 'exec'>;
    onCommit.set(handle, []);
    return this.#pg
      .transaction((tx) => {
        current = tx;
        return insideTransaction.run(this, () => fn(handle));
      })
      .then(
        (result) => {
          runCommitted(handle);
          return result;
        },
        (error: unknown) => {
          onCommit.delete(handle);
          throw error;
        },
      );
  }
  withTenant<T>(tenantId: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const script = tenantScript(tenantId);
    return this.transaction(async (tx) => {
      await tx.exec(script);
      return fn(tx);
    });
  }
  withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
    // PGlite is a single connection already.
    return fn(this);
  }
  async listen(channel: string, handlers: ListenHandlers): Promise<() => Promise<void>> {
    // One process owns the embedded database, so its notifications cannot be missed.
    const stop = await this.#pg.listen(channel, handlers.message);
    handlers.listening(true);
    return async () => {
      if (!this.#pg.closed) await stop();
    };
  }
  /** A gzipped tarball of the whole data folder (backups, test templates). */
  dumpDataDir(): Promise<Blob> {
    return this.#pg.dumpDataDir('gzip');
  }
  async close(): Promise<void> {
    if (!this.#pg.closed) {
      await this.#pg.close();
    }
  }
}

/** Prepared statements are named by their text, so one name always means one text on a connection. */
const statementNames = new Map<string, string>();
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (!name) {
    name = `machi_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    if (statementNames.size < 1000) statementNames.set(sql, name);
  }
  return name;
}

function clientQueryable(client: pg.PoolClient): Queryable {
  return {
    async query<R>(sql: string, params?: unknown[], options?: { prepare?: boolean }) {
      const r = options?.prepare
        ? await client.query({ name: statementName(sql), text: sql, values: params ?? [] })
        : await client.query(sql, params);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}

/**
 * LISTEN on a connection of its own (a pooled one would lose it on release), reconnecting with
 * growing delays when the server goes away, and saying so, since notifications sent meanwhile are lost.
 */
class Listener {
  #client: pg.Client | undefined;
  #stopped = false;
  #retryMs = 100;
  #timer: NodeJS.Timeout | undefined;
  readonly #config: pg.ClientConfig;
  readonly #channel: string;
  readonly #handlers: ListenHandlers;
  constructor(config: pg.ClientConfig, channel: string, handlers: ListenHandlers) {
    this.#config = config;
    this.#channel = channel;
    this.#handlers = handlers;
  }
  async start(): Promise<void> {
    const client = new pg.Client({ ...this.#config, application_name: 'machi-listen' });
    client.on('notification', (n) => {
      if (n.channel === this.#channel) this.#handlers.message(n.payload ?? '');
    });
    const lost = () => {
      if (this.#client !== client) return;
      this.#client = undefined;
      this.#handlers.listening(false);
      client.end().catch(() => {});
      this.#retry();
    };
    client.on('error', lost);
    client.on('end', lost);
    await client.connect();
    await client.query(`listen ${pg.escapeIdentifier(this.#channel)}`);
    if (this.#stopped) {
      await client.end();
      return;
    }
    this.#client = client;
    this.#retryMs = 100;
    this.#handlers.listening(true);
  }
  #retry(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.start().catch(() => {
        this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
        this.#retry();
      });
    }, this.#retryMs);
    this.#timer.unref();
  }
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}

class PostgresDb implements Db {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #config: pg.ClientConfig;
  readonly #listeners = new Set<Listener>();
  constructor(pool: pg.Pool, config: pg.ClientConfig) {
    this.#pool = pool;
    this.#config = config;
  }
  async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    assertNotInside(this);
    const r = await this.#pool.query(sql, params);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
  }
  async exec(sql: string): Promise<void> {
    assertNotInside(this);
    await this.#pool.query(sql);
  }
  async withConnection<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
    assertNotInside(this);
    const client = await this.#pool.connect();
    try {
      return await fn(clientQueryable(client));
    } finally {
      client.release();
    }
  }
  transaction<T>(fn: (tx: Queryable) => Promise<T>, preamble = ''): Promise<T> {
    return this.withConnection(async (conn) => {
      await conn.exec(preamble ? `begin; ${preamble}` : 'begin');
      onCommit.set(conn, []);
      let result: T;
      try {
        result = await insideTransaction.run(this, () => fn(conn));
        await conn.query('commit');
      } catch (error) {
        onCommit.delete(conn);
        await conn.query('rollback');
        throw error;
      }
      runCommitted(conn);
      return result;
    });
  }
  withTenant<T>(tenantId: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    // begin and the tenant's settings in one round trip.
    return this.transaction(fn, tenantScript(tenantId));
  }
  async listen(channel: string, handlers: ListenHandlers): Promise<() => Promise<void>> {
    const listener = new Listener(this.#config, channel, handlers);
    this.#listeners.add(listener);
    await listener.start();
    return async () => {
      this.#listeners.delete(listener);
      await listener.stop();
    };
  }
  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((l) => l.stop()));
    await this.#pool.end();
  }
}

export interface OpenDbOptions {
  /** PostgreSQL connection string; unset means the embedded database. */
  databaseUrl?: string | undefined;
  /** Folder of the embedded database; unset means in memory (tests). */
  dataDir?: string | undefined;
  poolSize?: number;
  /** Start the embedded database from a dump made by `dumpEmbeddedDb` instead of an empty one. */
  fromDump?: Blob | undefined;
}

/** Dumps the embedded database's data folder; a PostgreSQL server is backed up with its own tools. */
export function dumpEmbeddedDb(db: Db): Promise<Blob> {
  if (!(db instanceof PgliteDb)) {
    throw new Error('only the embedded database can be dumped this way; use pg_dump for PostgreSQL');
  }
  return db.dumpDataDir();
}

/** Opens the embedded database (in `dataDir`, or in memory) or connects to a PostgreSQL server. */
export async function openDb(options: OpenDbOptions): Promise<Db> {
  if (options.databaseUrl) {
    const config: pg.ClientConfig = {
      connectionString: options.databaseUrl,
      application_name: 'machi',
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    };
    const pool = new pg.Pool({ ...config, max: options.poolSize ?? 10 });
    // An idle client that loses its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    const db = new PostgresDb(pool, config);
    await db.query('select 1');
    return db;
  }
  let dataDir: string | undefined;
  if (options.dataDir) {
    dataDir = path.join(options.dataDir, 'pgdata');
    fs.mkdirSync(dataDir, { recursive: true });
  }
  const pglite = await PGlite.create(dataDir, {
    extensions: { postgis: await postgisExtension() },
    ...(options.fromDump ? { loadDataDir: options.fromDump } : {}),
    parsers: { [pgliteTypes.INT8]: (value: string) => Number(value) },
  });
  return new PgliteDb(pglite);
}
