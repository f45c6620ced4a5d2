/**
 * Staff reading a resident's personal data through the staff API, attacked: no stated purpose, a
 * purpose the municipality never defined, a role that does not cover 要配慮個人情報, another
 * municipality's token, a resident's token. Only a health officer with a stated, defined purpose
 * sees the vaccination record; every decision is in the resident's log, and the resident reads it
 * on My Page as a use by municipal staff.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { markEntityTypes, residentImporter } from '../../src/broker/index.ts';
import { definePurpose, listAccessLog, mapCategory } from '../../src/consent/index.ts';
import {
  addResident,
  addStaffMember,
  Browser,
  consoleToken,
  type IdentityRig,
  myPageToken,
  startIdentityRig,
} from '../identity/rig.ts';

const SENDAI = '041009';
const RECORD = 'urn:ngsi-ld:VaccinationRecord:staff-child-1';

type Json = Record<string, unknown>;

describe('staff access to personal data: a role and a stated purpose, decided by the policy point', () => {
  let rig: IdentityRig;
  let resident: { id: string; email: string };
  let officer: string;
  let admin: string;

  const lookUp = (token: string, purpose?: string, tenant = SENDAI, who = resident.id) =>
    fetch(`${rig.baseUrl}/api/v1/staff/tenants/${tenant}/residents/${who}/personal-data`, {
      headers: { authorization: `Bearer ${token}`, ...(purpose ? { 'machi-purpose': purpose } : {}) },
    });
  const log = () => rig.testDb.db.withTenant(SENDAI, (tx) => listAccessLog(tx, SENDAI, resident.id));

  before(async () => {
    rig = await startIdentityRig();
    const db = rig.testDb.db;
    await markEntityTypes(db, SENDAI, { personal: ['VaccinationRecord'] });
    await db.withTenant(SENDAI, async (tx) => {
      await definePurpose(tx, SENDAI, {
        id: 'maternal-child-health',
        nameJa: '母子保健',
        nameEn: 'Maternal and child health',
        descriptionJa: '乳幼児健診と予防接種の勧奨',
        descriptionEn: 'Infant check-ups and vaccination reminders',
      });
      await mapCategory(tx, SENDAI, { entityType: 'VaccinationRecord', category: 'vaccination' });
      await mapCategory(tx, SENDAI, {
        entityType: 'VaccinationRecord',
        attribute: 'guardianPhone',
        category: 'contact',
      });
    });
    resident = await addResident(rig, '青葉 花子');
    await residentImporter(db, rig.keys, { contextTimeoutMs: 5000, contextMaxBytes: 1 << 20 })(
      SENDAI,
      resident.id,
      [
        {
          id: RECORD,
          type: 'VaccinationRecord',
          vaccine: { type: 'Property', value: 'BCG' },
          guardianPhone: { type: 'Property', value: '022-000-0000' },
        },
      ],
    );
    officer = await consoleToken(rig, SENDAI, await addStaffMember(rig, [[SENDAI, 'health-officer']]));
    admin = await consoleToken(rig, SENDAI, await addStaffMember(rig, [[SENDAI, 'admin']]));
  });
  after(() => rig?.close());

  it('refuses a look-up without a stated purpose, and logs the refusal', async () => {
    const response = await lookUp(officer);
    assert.equal(response.status, 403);
    assert.match(((await response.json()) as Json).detail as string, /Machi-Purpose.*staff-no-purpose/);
    const [last] = await log();
    assert.deepEqual([last?.actor.kind, last?.decision, last?.reason], ['staff', 'deny', 'staff-no-purpose']);
  });

  it('refuses a purpose the municipality has not defined', async () => {
    const response = await lookUp(officer, 'curiosity');
    assert.equal(response.status, 403);
    assert.match(((await response.json()) as Json).detail as string, /staff-purpose-unknown/);
  });

  it("shows an administrator the contact number but not the child's vaccination record", async () => {
    const response = await lookUp(admin, 'maternal-child-health');
    assert.equal(
      response.status,
      403,
      'the record itself is 要配慮個人情報: the admin role does not cover it',
    );
    const [last] = await log();
    assert.deepEqual(
      [last?.decision, last?.reason, last?.categories],
      ['deny', 'staff-role-not-allowed', ['contact', 'vaccination']],
    );
  });

  it('shows a health officer the record for a stated purpose, and logs it for the resident', async () => {
    const response = await lookUp(officer, 'maternal-child-health');
    assert.equal(response.status, 200, await response.clone().text());
    const body = (await response.json()) as { entities: Json[]; withheld: Json[] };
    assert.equal(body.entities.length, 1);
    assert.equal((body.entities[0] as Json & { vaccine: Json }).vaccine.value, 'BCG');
    assert.equal((body.entities[0] as Json & { guardianPhone: Json }).guardianPhone.value, '022-000-0000');
    assert.deepEqual(body.withheld, []);
    const [last] = await log();
    assert.deepEqual(
      [last?.decision, last?.purpose, last?.entities],
      ['allow', 'maternal-child-health', [RECORD]],
    );
    const me = await myPageToken(rig, new Browser(), resident.email);
    const { entries } = (await (
      await fetch(`${rig.baseUrl}/api/v1/me/access-log`, { headers: { authorization: `Bearer ${me}` } })
    ).json()) as { entries: { text: string }[] };
    assert.match(
      entries[0]?.text ?? '',
      /市区町村の職員 が 連絡先・予防接種記録 を 閲覧しました（目的: 母子保健）$/,
    );
    assert.match(
      entries.at(-1)?.text ?? '',
      /市区町村の職員 が .* を 閲覧しようとしましたが、お断りしました（目的: 記載なし）/,
    );
  });

  it("refuses another municipality's staff token and a resident's token", async () => {
    const elsewhere = await lookUp(officer, 'maternal-child-health', '042021');
    assert.ok([401, 403].includes(elsewhere.status), `got ${elsewhere.status}`);
    const me = await myPageToken(rig, new Browser(), resident.email);
    assert.equal((await lookUp(me, 'maternal-child-health')).status, 403);
    const none = await fetch(
      `${rig.baseUrl}/api/v1/staff/tenants/${SENDAI}/residents/${resident.id}/personal-data`,
    );
    assert.equal(none.status, 401);
  });
});
