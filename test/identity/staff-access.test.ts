/**
 * Staff authorisation, decided in one place: roles allow actions in their own tenant only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addAccount, allows, grantStaffRole, requireStaff } from '../../src/identity/index.ts';
import { addTenant, Forbidden } from '../../src/platform/index.ts';
import { backend, createTestDb, type TestDb } from '../helpers/db.ts';

const SENDAI = '041009';
const ISHINOMAKI = '042021';

describe(`staff authorisation (${backend})`, () => {
  let t: TestDb;
  let officer: string;
  before(async () => {
    t = await createTestDb();
    await addTenant(t.db, { code: '040002', name: '宮城県', nameEn: 'Miyagi Prefecture' });
    await addTenant(t.db, { code: SENDAI, name: '仙台市', nameEn: 'Sendai City' });
    await addTenant(t.db, { code: ISHINOMAKI, name: '石巻市', nameEn: 'Ishinomaki City' });
    officer = (
      await addAccount(t.db, {
        kind: 'staff',
        email: 'bousai@city.sendai.example.jp',
        displayName: '防災 太郎',
        password: 'long enough password',
      })
    ).id;
    await grantStaffRole(t.db, SENDAI, officer, 'disaster-officer');
    await grantStaffRole(t.db, ISHINOMAKI, officer, 'viewer');
  });
  after(() => t.close());

  it('lets a disaster officer send alerts in the tenant that gave the role', async () => {
    assert.deepEqual(await requireStaff(t.db, { accountId: officer, tenantCode: SENDAI }, 'disaster.alert'), [
      'disaster-officer',
    ]);
  });

  it('refuses the same action in another tenant, where the officer is only a viewer', async () => {
    await assert.rejects(
      requireStaff(t.db, { accountId: officer, tenantCode: ISHINOMAKI }, 'disaster.alert'),
      Forbidden,
    );
    await requireStaff(t.db, { accountId: officer, tenantCode: ISHINOMAKI }, 'dashboard.read');
  });

  it('refuses what the role does not cover: a disaster officer reads no health records and publishes no notices', async () => {
    for (const action of ['health.read', 'notices.publish', 'clients.manage'] as const) {
      await assert.rejects(
        requireStaff(t.db, { accountId: officer, tenantCode: SENDAI }, action),
        Forbidden,
        action,
      );
    }
  });

  it('gives an editor writing but not publishing, and an approver publishing', () => {
    assert.equal(allows(['editor'], 'notices.write'), true);
    assert.equal(allows(['editor'], 'notices.publish'), false);
    assert.equal(allows(['approver'], 'notices.publish'), true);
    assert.equal(allows(['admin'], 'health.read'), true);
  });

  it('refuses a role name the platform does not know', async () => {
    await assert.rejects(grantStaffRole(t.db, SENDAI, officer, 'mayor' as never), /role must be one of/);
  });
});
