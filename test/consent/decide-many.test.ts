/**
 * Deciding over many residents at once: a service's query must reach exactly the residents whose
 * consent covers the use, decided in one statement, and agree with the one-resident decision.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  decide,
  decideMany,
  type ManyRequest,
  recordConsent,
  withdrawConsent,
} from '../../src/consent/index.ts';
import type { Queryable } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';
import {
  addTenants,
  CLINIC,
  CLINIC_ITEMS,
  clinic,
  declare,
  definePurposes,
  EVENTS,
  ISHINOMAKI,
  item,
  SENDAI,
  TEXT,
} from './helpers.ts';

const BOTH = [
  { category: 'vaccination', purpose: 'telemedicine' },
  { category: 'household', purpose: 'telemedicine' },
];

interface Group {
  residents: string[];
  items: { category: string; purpose: string }[];
  clientId?: string;
  expiresAt?: Date;
  withdraw?: boolean;
}

const residents = (n: number) => Array.from({ length: n }, () => randomUUID()).sort();

/** Every resident's consent in one transaction of the tenant (as many forms submitted). */
async function give(t: TestDb, tenant: string, group: Group): Promise<void> {
  await t.db.withTenant(tenant, async (tx) => {
    for (const resident of group.residents) {
      const clientId = group.clientId ?? CLINIC;
      await recordConsent(tx, {
        tenant,
        resident,
        subject: `pw-${resident}`,
        clientId,
        requestVersion: 1,
        items: group.items,
        text: TEXT,
        expiresAt: group.expiresAt,
      });
      if (group.withdraw) await withdrawConsent(tx, { tenant, resident, clientId });
    }
  });
}

/** A transaction handle that counts the statements sent through it. */
function counting(tx: Queryable): { tx: Queryable; count: () => number } {
  let n = 0;
  return {
    tx: {
      query: (sql, params, options) => {
        n++;
        return tx.query(sql, params, options);
      },
      exec: (sql) => {
        n++;
        return tx.exec(sql);
      },
    },
    count: () => n,
  };
}

describe(`decideMany over hundreds of residents (${backend})`, () => {
  let t: TestDb;
  const full = residents(120);
  const withdrawn = residents(40);
  const partial = residents(30);
  const expiring = residents(20);
  const elsewhere = residents(20);
  const otherService = residents(15);
  const never = residents(55);
  const everyone = [...full, ...withdrawn, ...partial, ...expiring, ...otherService, ...never];
  const expiresAt = new Date(Date.now() + 10 * 60_000);
  const sorted = (list: string[]) => [...list].sort();
  const many = (over: Partial<ManyRequest> = {}, tenant = SENDAI) =>
    t.db.withTenant(tenant, (tx) =>
      decideMany(tx, {
        tenant,
        actor: clinic,
        purpose: 'telemedicine',
        category: 'vaccination',
        action: 'read',
        ...over,
      }),
    );

  before(async () => {
    t = await createTestDb();
    await addTenants(t.db);
    for (const tenant of [SENDAI, ISHINOMAKI]) {
      await definePurposes(t.db, tenant);
      await declare(t.db, tenant, CLINIC, CLINIC_ITEMS);
    }
    await declare(t.db, SENDAI, EVENTS, [item({ category: 'vaccination' })]);
    await give(t, SENDAI, { residents: full, items: BOTH });
    await give(t, SENDAI, { residents: withdrawn, items: BOTH, withdraw: true });
    await give(t, SENDAI, { residents: partial, items: [BOTH[1] as Group['items'][0]] });
    await give(t, SENDAI, { residents: expiring, items: BOTH, expiresAt });
    await give(t, SENDAI, {
      residents: otherService,
      items: [BOTH[0] as Group['items'][0]],
      clientId: EVENTS,
    });
    await give(t, ISHINOMAKI, { residents: elsewhere, items: BOTH });
  });
  after(() => t.close());

  it('returns exactly the residents whose consent covers the use, in one statement', async () => {
    const { decision, statements } = await t.db.withTenant(SENDAI, async (raw) => {
      const { tx, count } = counting(raw);
      const decision = await decideMany(tx, {
        tenant: SENDAI,
        actor: clinic,
        purpose: 'telemedicine',
        category: 'vaccination',
        action: 'read',
      });
      return { decision, statements: count() };
    });
    assert.equal(statements, 1);
    assert.equal(decision.everyone, false);
    assert.deepEqual(decision.residents, sorted([...full, ...expiring]));
  });

  it('leaves out residents whose consent has expired by the time asked', async () => {
    const later = await many({ at: new Date(expiresAt.getTime() + 1000) });
    assert.deepEqual(later.residents, full);
  });

  it('includes residents who granted only the category asked for', async () => {
    const household = await many({ category: 'household' });
    assert.deepEqual(household.residents, sorted([...full, ...partial, ...expiring]));
  });

  it('narrows to the residents a query is about', async () => {
    const candidates = [...full.slice(0, 10), ...withdrawn.slice(0, 10), ...never.slice(0, 10), ...elsewhere];
    const decision = await many({ residents: candidates });
    assert.deepEqual(decision.residents, full.slice(0, 10));
  });

  it('agrees with the one-resident decision for every resident', async () => {
    const allowed = new Set((await many()).residents);
    const disagreements = await t.db.withTenant(SENDAI, async (tx) => {
      const wrong: string[] = [];
      for (const resident of [...everyone, ...elsewhere]) {
        const one = await decide(tx, {
          tenant: SENDAI,
          resident,
          actor: clinic,
          purpose: 'telemedicine',
          category: 'vaccination',
          action: 'read',
        });
        if (one.allow !== allowed.has(resident)) wrong.push(resident);
      }
      return wrong;
    });
    assert.deepEqual(disagreements, []);
  });

  it('reaches nobody for a purpose or action the service did not declare', async () => {
    assert.deepEqual(await many({ purpose: 'event-recommendations' }), {
      allow: false,
      reason: 'not-requested',
      everyone: false,
      residents: [],
    });
    assert.equal((await many({ action: 'write' })).reason, 'action-not-requested');
  });

  it('reaches every resident for an item declared on a basis other than consent', async () => {
    const contact = await many({ category: 'contact' });
    assert.deepEqual(contact, {
      allow: true,
      reason: 'declared-basis',
      basis: 'contract',
      everyone: true,
      residents: [],
    });
  });

  it('answers a thousand candidate residents in one statement', async () => {
    const candidates = [...everyone, ...residents(1000 - everyone.length)];
    const started = performance.now();
    const decision = await many({ residents: candidates });
    const ms = performance.now() - started;
    assert.deepEqual(decision.residents, sorted([...full, ...expiring]));
    assert.ok(ms < 5000, `took ${Math.round(ms)} ms`);
  });
});
