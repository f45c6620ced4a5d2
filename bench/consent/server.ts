/**
 * A server for the consent benchmark, in its own process: Machi's full stack (identity, consent,
 * broker; rate limiting on) on PostgreSQL at MACHI_BENCH_DATABASE_URL, else on the embedded
 * database in a temporary folder, with BENCH_CONSENT_RESIDENTS residents each owning one personal
 * record (and its public twin), a service that asks for the records on consent, and the consent of
 * every resident but the first BENCH_CONSENT_LOGINS (who give theirs on the consent page when the
 * driver logs them in). Prints one JSON line (shared.ts `Announcement`) once listening; stops when
 * standard input closes. With BENCH_CONSENT_PROFILE=<file>, writes a CPU profile of the time from
 * listening to stopping (not the set-up) to that file, for Chrome DevTools or `node --cpu-prof` tools.
 */
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import { buildApp } from '../../src/main.ts';
import { benchDeployment, parentGone } from '../child.ts';
import { seed } from './setup.ts';
import { type Announcement, personalId, publicId, TENANT } from './shared.ts';

/** Not part of Machi: lets the driver check that every personal read left its line. */
const ACCESS_LOG_PATH = '/bench/access-log-lines';

async function start(residents: number, logins: number) {
  const { port, config, db, box, dataDir } = await benchDeployment('consent');
  const seeded = await seed(db, box, residents, logins);
  const app = await buildApp({ config, db, box });
  app.get(ACCESS_LOG_PATH, async () => {
    const { rows } = await db.withTenant(TENANT, (tx) =>
      tx.query<{ n: number }>('select count(*)::int as n from consent.access_log'),
    );
    return { lines: rows[0]?.n ?? 0 };
  });
  await app.listen({ host: '127.0.0.1', port });
  const announcement: Announcement = {
    port,
    clientId: seeded.clientId,
    clientSecret: seeded.clientSecret,
    logins: seeded.residents.slice(0, logins).map((r, n) => ({
      email: r.email,
      personalId: personalId(n),
      publicId: publicId(n),
    })),
    residents,
    accessLogPath: ACCESS_LOG_PATH,
  };
  return {
    announcement,
    async close() {
      await app.close();
      await db.close();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Profiles what runs until the returned function is called, which writes the profile to `file`. */
async function profile(file: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

const residents = Number(process.env.BENCH_CONSENT_RESIDENTS ?? 1000);
const logins = Number(process.env.BENCH_CONSENT_LOGINS ?? 10);
const profileFile = process.env.BENCH_CONSENT_PROFILE;
const server = await start(residents, logins);
const stopProfile = profileFile ? await profile(profileFile) : undefined;
process.stdout.write(`${JSON.stringify(server.announcement)}\n`);
await parentGone();
await stopProfile?.();
await server.close();
