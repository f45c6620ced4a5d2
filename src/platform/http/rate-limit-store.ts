/**
 * A @fastify/rate-limit store in PostgreSQL, so every API process counts against the same window:
 * one upsert per request on `platform.rate_limits` (fixed window per key).
 */
import type { Db } from '../db.ts';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** Rows older than this are swept; much longer than any sensible window. */
const SWEEP_AFTER = '1 day';

export function postgresRateLimitStore(db: Db) {
  let sinceSweep = 0;
  return class PostgresRateLimitStore {
    incr(key: string, callback: Callback, timeWindowMs: number): void {
      db.query<{ hits: number; ttl_ms: number }>(
        `insert into platform.rate_limits as r (key, window_start, hits) values ($1, now(), 1)
         on conflict (key) do update set
           hits = case when r.window_start + make_interval(secs => $2::double precision) <= now() then 1 else r.hits + 1 end,
           window_start = case when r.window_start + make_interval(secs => $2::double precision) <= now()
                               then now() else r.window_start end
         returning hits,
           greatest(0, extract(epoch from (window_start + make_interval(secs => $2::double precision) - now())) * 1000)::float8 as ttl_ms`,
        [key, timeWindowMs / 1000],
      ).then(
        ({ rows }) => {
          const row = rows[0];
          callback(null, { current: row?.hits ?? 1, ttl: Math.ceil(row?.ttl_ms ?? timeWindowMs) });
          if (++sinceSweep >= 1000) {
            sinceSweep = 0;
            void db
              .query(
                `delete from platform.rate_limits where window_start < now() - interval '${SWEEP_AFTER}'`,
              )
              .catch(() => {});
          }
        },
        (error: Error) => callback(error),
      );
    }

    child(): PostgresRateLimitStore {
      return this;
    }
  };
}
