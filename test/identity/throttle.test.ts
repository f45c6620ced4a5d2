/**
 * Login throttling as the login pages rely on it: an account locked at its fifth failure, an
 * address at its fiftieth, locks that grow and end, success forgiving the account only, failures
 * from several processes at once all counted. Time is moved by `now`, never waited for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ACCOUNT_THROTTLE,
  IP_THROTTLE,
  loginAllowed,
  recordLoginFailure,
  recordLoginSuccess,
  sweepLoginThrottle,
  THROTTLE_FORGIVE_SECONDS,
} from '../../src/identity/throttle.ts';
import { type Db, openDb } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';

const T0 = Date.UTC(2030, 0, 1, 9, 0, 0);
const at = (seconds: number) => new Date(T0 + seconds * 1000);

let n = 0;
/** A fresh account and address per test, so the tests do not share counters. */
function fresh() {
  n += 1;
  return { account: `Resident${n}@Example.jp`, ip: `198.51.100.${n}` };
}

describe(`login throttle (${backend})`, () => {
  let t: TestDb;
  before(async () => {
    t = await createTestDb();
  });
  after(() => t.close());

  async function fail(attempt: { account: string; ip: string }, seconds: number) {
    return recordLoginFailure(t.db, { ...attempt, now: at(seconds) });
  }

  it('locks an account at its fifth failure within 15 minutes, not before', async () => {
    const a = fresh();
    for (let i = 0; i < 4; i++) {
      const outcome = await fail(a, i * 60);
      assert.deepEqual(outcome, { accountLocked: false, ipLocked: false, lockedForSeconds: 0 });
      assert.deepEqual(await loginAllowed(t.db, { ...a, now: at(i * 60) }), { allowed: true });
    }
    const fifth = await fail(a, 4 * 60);
    assert.deepEqual(fifth, { accountLocked: true, ipLocked: false, lockedForSeconds: 60 });
    assert.deepEqual(await loginAllowed(t.db, { ...a, now: at(4 * 60) }), {
      allowed: false,
      retryAfterSeconds: 60,
    });
  });

  it('locks the account whatever the case of the e-mail and from any address', async () => {
    const a = fresh();
    for (let i = 0; i < 5; i++) {
      await fail({ account: i % 2 ? a.account.toUpperCase() : a.account, ip: `203.0.113.${i}` }, i);
    }
    const verdict = await loginAllowed(t.db, {
      account: a.account.toLowerCase(),
      ip: '192.0.2.200',
      now: at(5),
    });
    assert.equal(verdict.allowed, false);
  });

  it('shrinks the retry-after as time passes and allows again when the lock ends', async () => {
    const a = fresh();
    for (let i = 0; i < 5; i++) await fail(a, 0);
    assert.deepEqual(await loginAllowed(t.db, { ...a, now: at(20) }), {
      allowed: false,
      retryAfterSeconds: 40,
    });
    assert.deepEqual(await loginAllowed(t.db, { ...a, now: at(59.5) }), {
      allowed: false,
      retryAfterSeconds: 1,
    });
    assert.deepEqual(await loginAllowed(t.db, { ...a, now: at(60) }), { allowed: true });
  });

  it('does not add up failures further apart than the window', async () => {
    const a = fresh();
    for (let i = 0; i < 4; i++) await fail(a, i);
    const late = ACCOUNT_THROTTLE.windowSeconds + 1;
    for (let i = 0; i < 4; i++) {
      assert.equal((await fail(a, late + i)).accountLocked, false);
    }
    assert.equal((await fail(a, late + 4)).accountLocked, true);
  });

  it('doubles each further lock up to an hour, and starts afresh after a day without failures', async () => {
    const a = fresh();
    let now = 0;
    const locks: number[] = [];
    for (let round = 0; round < 8; round++) {
      let outcome = await fail(a, now);
      for (let i = 1; i < 5; i++) outcome = await fail(a, now);
      locks.push(outcome.lockedForSeconds);
      now += outcome.lockedForSeconds;
    }
    assert.deepEqual(locks, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
    now += THROTTLE_FORGIVE_SECONDS;
    for (let i = 0; i < 4; i++) await fail(a, now);
    assert.equal((await fail(a, now)).lockedForSeconds, 60);
  });

  it('ignores failures while locked: they neither extend the lock nor count towards the next', async () => {
    const a = fresh();
    for (let i = 0; i < 5; i++) await fail(a, 0);
    for (let i = 0; i < 10; i++) assert.equal((await fail(a, 30)).accountLocked, false);
    assert.deepEqual(await loginAllowed(t.db, { ...a, now: at(30) }), {
      allowed: false,
      retryAfterSeconds: 30,
    });
    for (let i = 0; i < 4; i++) assert.equal((await fail(a, 60 + i)).accountLocked, false);
    assert.equal((await fail(a, 64)).lockedForSeconds, 120);
  });

  it('locks an address at its fiftieth failure, on whichever accounts', async () => {
    const ip = '192.0.2.10';
    for (let i = 0; i < IP_THROTTLE.maxFailures - 1; i++) {
      assert.equal((await fail({ account: `spray${i}@example.jp`, ip }, i)).ipLocked, false);
    }
    assert.deepEqual(await loginAllowed(t.db, { account: 'other@example.jp', ip, now: at(60) }), {
      allowed: true,
    });
    const last = await fail({ account: 'spray-last@example.jp', ip }, 60);
    assert.deepEqual(last, { accountLocked: false, ipLocked: true, lockedForSeconds: 60 });
    const verdict = await loginAllowed(t.db, { account: 'innocent@example.jp', ip, now: at(61) });
    assert.deepEqual(verdict, { allowed: false, retryAfterSeconds: 59 });
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped address as IPv4', async () => {
    for (let i = 0; i < IP_THROTTLE.maxFailures; i++) {
      await fail({ account: `v6-${i}@example.jp`, ip: `2001:db8:7:8::${i.toString(16)}` }, i);
    }
    const same = await loginAllowed(t.db, {
      account: 'x@example.jp',
      ip: '2001:DB8:7:8:aaaa::1',
      now: at(50),
    });
    assert.equal(same.allowed, false);
    const next = await loginAllowed(t.db, { account: 'x@example.jp', ip: '2001:db8:7:9::1', now: at(50) });
    assert.equal(next.allowed, true);

    for (let i = 0; i < IP_THROTTLE.maxFailures; i++) {
      const ip = i % 2 ? '::ffff:192.0.2.99' : '192.0.2.99';
      await fail({ account: `v4-${i}@example.jp`, ip }, i);
    }
    assert.equal(
      (await loginAllowed(t.db, { account: 'y@example.jp', ip: '192.0.2.99', now: at(50) })).allowed,
      false,
    );
  });

  it('forgets the account on success but keeps counting the address', async () => {
    const a = fresh();
    for (let i = 0; i < 4; i++) await fail(a, i);
    for (let i = 0; i < IP_THROTTLE.maxFailures - 5; i++)
      await fail({ account: `s${i}@example.jp`, ip: a.ip }, 10);
    await recordLoginSuccess(t.db, { account: a.account.toUpperCase() });

    const next = await fail(a, 20);
    assert.equal(next.accountLocked, false, 'the account count started again after the success');
    assert.equal(next.ipLocked, true, 'the address count went on: this was its fiftieth failure');
    assert.equal(
      (await loginAllowed(t.db, { account: a.account, ip: '192.0.2.77', now: at(21) })).allowed,
      true,
    );
  });

  it('counts every one of many concurrent failures, from two processes at once', async () => {
    // On PostgreSQL a second pool stands for a second API process; PGlite has one connection.
    const other: Db = t.databaseUrl ? await openDb({ databaseUrl: t.databaseUrl, poolSize: 5 }) : t.db;
    try {
      const ip = '192.0.2.55';
      const spray = Array.from({ length: 40 }, (_, i) => [t.db, other][i % 2] as Db).map((db, i) =>
        recordLoginFailure(db, { account: `par${i}@example.jp`, ip, now: at(0) }),
      );
      const target = fresh();
      const guesses = Array.from({ length: 12 }, (_, i) => [t.db, other][i % 2] as Db).map((db) =>
        recordLoginFailure(db, { ...target, now: at(0) }),
      );
      const outcomes = await Promise.all([...spray, ...guesses]);
      const { rows } = await t.db.query<{ failures: number }>(
        'select failures from identity.login_throttle where key = $1',
        [`ip:${ip}`],
      );
      assert.equal(rows[0]?.failures, 40);
      assert.equal(outcomes.filter((o) => o.accountLocked).length, 1, 'exactly the fifth failure locks');
    } finally {
      if (other !== t.db) await other.close();
    }
  });

  it('sweeps the rows that no longer decide anything, and keeps locks and lock history', async () => {
    await t.db.query('delete from identity.login_throttle');
    const stale = fresh();
    for (let i = 0; i < 3; i++) await fail(stale, 0);
    const locked = fresh();
    for (let i = 0; i < 5; i++) await fail(locked, 1000);
    const history = fresh();
    for (let i = 0; i < 5; i++) await fail(history, 0);
    const sweptNow = at(1030);

    assert.equal(await sweepLoginThrottle(t.db, { now: sweptNow }), 3, 'the stale account and two addresses');
    const { rows } = await t.db.query<{ key: string }>('select key from identity.login_throttle');
    assert.deepEqual(
      rows.map((r) => r.key).sort(),
      [
        `account:${history.account.toLowerCase()}`,
        `account:${locked.account.toLowerCase()}`,
        `ip:${locked.ip}`,
      ].sort(),
    );
    assert.equal(await sweepLoginThrottle(t.db, { now: at(THROTTLE_FORGIVE_SECONDS + 2000) }), 3);
  });
});
