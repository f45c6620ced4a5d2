/**
 * A @fastify/rate-limit store in PostgreSQL, so every API process counts against the same window
 * (fixed window per key, `platform.rate_limits`).
 *
 * Writing the count on every request cost a database round trip and a commit per request, more than
 * the rest of a cached read. So each process counts in memory while a client is far from its limit,
 * and sends what it counted for all clients in one statement every FLUSH_MS, learning the other
 * processes' counts from the same statement. Close to the limit it counts in the database on every
 * request, as before, so the request that crosses the limit is refused exactly:
 * - a key this process has not seen in the current window is counted in the database at once;
 * - limits below EXACT_BELOW are always counted in the database (a handful of requests a minute,
 *   e.g. login attempts, must be exact across processes);
 * - otherwise, from half the limit on, every request is counted in the database.
 * Below half the limit, other processes' requests are seen at most about 2 × FLUSH_MS late; they
 * can push a client past half without this process knowing for that long, never past the limit
 * unnoticed, since from half on each process asks the database.
 */
import type { Db } from '../db.ts';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** Rows older than this are swept; much longer than any sensible window. */
const SWEEP_AFTER = '1 day';
/** How often counts kept in memory are written to the database. */
const FLUSH_MS = 100;
/** Limits this low are counted in the database on every request. */
const EXACT_BELOW = 100;

interface Counter {
  /** The database's count at the last exchange, including every process's flushed requests. */
  shared: number;
  /** Requests counted here since, not yet sent to the database. */
  pending: number;
  /** Requests sent and not yet answered. */
  inFlight: number;
  /** When the window ends (this process's clock, from the database's remaining time). */
  windowEndsAt: number;
}

interface Counted {
  key: string;
  hits: number;
  ttl_ms: number;
}

/** Adds `hits` to each key's window (a new window when it has ended); one statement for any number of keys. */
const UPSERT = `insert into platform.rate_limits as r (key, window_start, hits)
  select k.key, now(), k.hits from unnest($1::text[], $2::int[]) as k(key, hits)
  on conflict (key) do update set
    hits = case when r.window_start + make_interval(secs => $3::double precision) <= now()
                then excluded.hits else r.hits + excluded.hits end,
    window_start = case when r.window_start + make_interval(secs => $3::double precision) <= now()
                        then now() else r.window_start end
  returning key, hits,
    greatest(0, extract(epoch from (window_start + make_interval(secs => $3::double precision) - now())) * 1000)::float8 as ttl_ms`;

export function postgresRateLimitStore(db: Db) {
  const counters = new Map<string, Counter>();
  let windowMs = 60_000;
  let flushing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let sinceSweep = 0;
  let closed = false;

  /** Sends requests counted here; when the database does not answer, they are pending again. */
  async function send(sent: Map<string, number>): Promise<Counted[]> {
    for (const [key, hits] of sent) {
      const counter = counters.get(key) ?? { shared: 0, pending: 0, inFlight: 0, windowEndsAt: 0 };
      counter.inFlight += hits;
      counters.set(key, counter);
    }
    let rows: Counted[];
    try {
      rows = (await db.query<Counted>(UPSERT, [[...sent.keys()], [...sent.values()], windowMs / 1000])).rows;
    } catch (error) {
      for (const [key, hits] of sent) {
        const counter = counters.get(key);
        if (counter) {
          counter.inFlight -= hits;
          counter.pending += hits;
        }
      }
      throw error;
    }
    const now = Date.now();
    for (const row of rows) {
      const counter = counters.get(row.key);
      if (counter) {
        counter.shared = row.hits;
        counter.inFlight -= sent.get(row.key) ?? 0;
        counter.windowEndsAt = now + row.ttl_ms;
      }
    }
    if (++sinceSweep >= 1000) {
      sinceSweep = 0;
      void db
        .query(`delete from platform.rate_limits where window_start < now() - interval '${SWEEP_AFTER}'`)
        .catch(() => {});
    }
    return rows;
  }

  /** Writes every key's pending requests in one statement. */
  function flush(): Promise<void> {
    timer = undefined;
    const sent = new Map<string, number>();
    const now = Date.now();
    for (const [key, counter] of counters) {
      if (counter.pending > 0) {
        sent.set(key, counter.pending);
        counter.pending = 0;
      } else if (counter.inFlight === 0 && counter.windowEndsAt <= now) {
        counters.delete(key);
      }
    }
    if (sent.size === 0) {
      return Promise.resolve();
    }
    flushing = send(sent).then(
      () => {
        flushing = undefined;
      },
      () => {
        // The requests stay pending and go with the next flush; the limiter keeps answering from memory.
        flushing = undefined;
        schedule();
      },
    );
    return flushing;
  }

  function schedule(): void {
    if (!timer && !closed) {
      timer = setTimeout(flush, FLUSH_MS);
      timer.unref();
    }
  }

  /** Counts one request in the database now, with what this process had pending for the key. */
  async function countNow(key: string): Promise<{ current: number; ttl: number }> {
    const counter = counters.get(key);
    const sent = new Map([[key, (counter?.pending ?? 0) + 1]]);
    if (counter) counter.pending = 0;
    const [row] = await send(sent);
    return { current: row?.hits ?? 1, ttl: Math.ceil(row?.ttl_ms ?? windowMs) };
  }

  return class PostgresRateLimitStore {
    incr(key: string, callback: Callback, timeWindowMs: number, max: number): void {
      windowMs = timeWindowMs;
      // The timer also forgets clients whose window has ended.
      schedule();
      const counter = counters.get(key);
      const now = Date.now();
      const fresh = counter && counter.windowEndsAt > now;
      const current = counter ? counter.shared + counter.inFlight + counter.pending + 1 : 1;
      if (fresh && max >= EXACT_BELOW && current < max / 2) {
        counter.pending += 1;
        callback(null, { current, ttl: counter.windowEndsAt - now });
        return;
      }
      countNow(key).then(
        (result) => callback(null, result),
        (error: Error) => callback(error),
      );
    }

    child(): PostgresRateLimitStore {
      return this;
    }

    /** Writes what is pending; called when the app closes. */
    static async flush(): Promise<void> {
      closed = true;
      if (timer) clearTimeout(timer);
      await flushing;
      await flush();
    }
  };
}
