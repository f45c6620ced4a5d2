/**
 * Attacks on tenant isolation through every path that exists so far: row-level security must keep
 * each tenant's code to its own rows, whatever the SQL asks for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadDemo } from '../../src/demo/index.ts';
import { addAccount, grantStaffRole, listStaff } from '../../src/identity/index.ts';
import { APP_ROLE, enqueue, TENANT_SETTING } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';

const SENDAI = '041009';
const ISHINOMAKI = '042021';

describe(`tenant isolation (${backend})`, () => {
  let t: TestDb;
  let ishinomakiStaffId: string;

  before(async () => {
    t = await createTestDb();
    await loadDemo(t.db);
    const account = await addAccount(t.db, {
      kind: 'staff',
      email: 'staff@city.ishinomaki.example.jp',
      displayName: '石巻市 職員',
      password: 'a-long-enough-password',
    });
    ishinomakiStaffId = account.id;
    await grantStaffRole(t.db, ISHINOMAKI, account.id, 'editor');
  });
  after(() => t.close());

  it('puts every table that has a tenant_id under row-level security keyed on the tenant setting', async () => {
    const { rows } = await t.db.query<{ table: string; rls: boolean; policies: string[] }>(
      `select format('%I.%I', n.nspname, c.relname) as table, c.relrowsecurity as rls,
              coalesce(array_agg(p.qual) filter (where p.qual is not null), '{}') as policies
         from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
         join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
         left join (select polrelid, pg_get_expr(polqual, polrelid) as qual from pg_policy) p on p.polrelid = c.oid
        where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')
        group by 1, 2 order by 1`,
    );
    assert.ok(rows.length >= 2, 'tenant-owned tables exist');
    for (const row of rows) {
      assert.equal(row.rls, true, `${row.table} has row-level security enabled`);
      assert.ok(row.policies.length > 0, `${row.table} has a policy`);
      for (const policy of row.policies) {
        assert.match(
          policy,
          new RegExp(TENANT_SETTING.replace('.', '\\.')),
          `${row.table} policy uses the setting`,
        );
      }
    }
  });

  it('gives the application role no way around the policies (no superuser, no BYPASSRLS, owns no table)', async () => {
    const { rows } = await t.db.query<{ rolsuper: boolean; rolbypassrls: boolean; owned: number }>(
      `select r.rolsuper, r.rolbypassrls,
              (select count(*)::int from pg_class c where c.relowner = r.oid) as owned
         from pg_roles r where r.rolname = $1`,
      [APP_ROLE],
    );
    assert.deepEqual(rows[0], { rolsuper: false, rolbypassrls: false, owned: 0 });
  });

  it("shows a tenant only its own staff, even when the query asks for another tenant's rows", async () => {
    const staff = await listStaff(t.db, SENDAI);
    assert.deepEqual(
      staff.map((s) => s.email),
      ['staff@city.sendai.example.jp'],
    );
    const stolen = await t.db.withTenant(SENDAI, (tx) =>
      tx.query('select * from identity.staff_roles where tenant_id = $1', [ISHINOMAKI]),
    );
    assert.equal(stolen.rows.length, 0);
    const all = await t.db.withTenant(SENDAI, (tx) =>
      tx.query<{ tenant_id: string }>('select tenant_id from identity.staff_roles'),
    );
    assert.deepEqual([...new Set(all.rows.map((r) => r.tenant_id))], [SENDAI]);
  });

  it('refuses to write a row into another tenant', async () => {
    await assert.rejects(
      t.db.withTenant(SENDAI, (tx) =>
        tx.query(`insert into identity.staff_roles (tenant_id, account_id, role) values ($1, $2, 'admin')`, [
          ISHINOMAKI,
          ishinomakiStaffId,
        ]),
      ),
      /row-level security/,
    );
  });

  it("cannot move its own rows into another tenant, nor change or delete another tenant's rows", async () => {
    await assert.rejects(
      t.db.withTenant(SENDAI, (tx) =>
        tx.query('update identity.staff_roles set tenant_id = $1', [ISHINOMAKI]),
      ),
      /row-level security/,
    );
    const changed = await t.db.withTenant(SENDAI, (tx) =>
      tx.query(`update identity.staff_roles set role = 'viewer' where tenant_id = $1`, [ISHINOMAKI]),
    );
    assert.equal(changed.rowCount, 0);
    const deleted = await t.db.withTenant(SENDAI, (tx) =>
      tx.query('delete from identity.staff_roles where account_id = $1', [ishinomakiStaffId]),
    );
    assert.equal(deleted.rowCount, 0);
    assert.deepEqual(
      (await listStaff(t.db, ISHINOMAKI)).map((s) => [s.email, s.roles]),
      [['staff@city.ishinomaki.example.jp', ['editor']]],
    );
  });

  it('sees nothing as the application role when no tenant is set', async () => {
    const rows = await t.db.transaction(async (tx) => {
      await tx.query(`set local role ${APP_ROLE}`);
      return (await tx.query('select * from identity.staff_roles')).rows;
    });
    assert.equal(rows.length, 0);
  });

  it("keeps the tenant setting to the transaction, so the next one cannot inherit another tenant's scope", async () => {
    await t.db.withTenant(ISHINOMAKI, (tx) => tx.query('select 1'));
    const after = await t.db.transaction(async (tx) => {
      await tx.query(`set local role ${APP_ROLE}`);
      const setting = await tx.query<{ v: string | null }>(`select current_setting($1, true) as v`, [
        TENANT_SETTING,
      ]);
      const rows = await tx.query('select * from identity.staff_roles');
      return { setting: setting.rows[0]?.v ?? '', count: rows.rows.length };
    });
    assert.deepEqual(after, { setting: '', count: 0 });
  });

  it("does not let a tenant enqueue a job for another tenant or see another tenant's jobs", async () => {
    await t.db.withTenant(ISHINOMAKI, (tx) =>
      enqueue(tx, 'test.isolation', { n: 1 }, { tenantId: ISHINOMAKI }),
    );
    await assert.rejects(
      t.db.withTenant(SENDAI, (tx) => enqueue(tx, 'test.isolation', { n: 2 }, { tenantId: ISHINOMAKI })),
      /row-level security/,
    );
    const seen = await t.db.withTenant(SENDAI, (tx) =>
      tx.query(`select id from platform.jobs where queue = 'test.isolation'`),
    );
    assert.equal(seen.rows.length, 0);
  });

  it('cannot grant itself a way out: the application role may not create policies or disable them', async () => {
    await assert.rejects(
      t.db.withTenant(SENDAI, (tx) =>
        tx.query('alter table identity.staff_roles disable row level security'),
      ),
      /must be (the )?owner|permission denied/,
    );
    await assert.rejects(
      t.db.withTenant(SENDAI, (tx) =>
        tx.query('create policy open_door on identity.staff_roles using (true)'),
      ),
      /must be (the )?owner|permission denied/,
    );
  });
});
