import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { AccessRecord } from '../../src/consent/access-log.ts';
import { describeAccess, jstMinute } from '../../src/consent/access-log-describe.ts';
import {
  canonicalJson,
  genesisHash,
  hashedTime,
  merkleRoot,
  recordHash,
} from '../../src/consent/access-log-hash.ts';

const RESIDENT = '0b8f3c1e-2d4a-4f6b-9c8d-7e6f5a4b3c2d';

const record = (over: Partial<AccessRecord> = {}): AccessRecord => ({
  tenant: '041009',
  resident: RESIDENT,
  seq: 1,
  at: new Date('2026-11-20T05:03:27.123Z'),
  actor: { kind: 'client', id: 'clinic-telemedicine', name: '〇〇小児科オンライン相談' },
  purpose: 'telemedicine',
  categories: ['vaccination'],
  entities: ['urn:ngsi-ld:VaccinationRecord:1'],
  action: 'read',
  decision: 'allow',
  reason: 'consent',
  prevHash: '0'.repeat(64),
  hash: '1'.repeat(64),
  ...over,
});

const names = {
  categories: {
    vaccination: { nameJa: 'お子さまの予防接種記録', nameEn: 'your child’s vaccination records' },
    household: { nameJa: '世帯の情報', nameEn: 'your household' },
    contact: { nameJa: '連絡先', nameEn: 'your contact details' },
  },
  purposes: { telemedicine: { nameJa: '医療相談', nameEn: 'medical consultation' } },
};

describe('access log in plain words', () => {
  it('says who used which data for what, at the minute in Japan time', () => {
    assert.equal(
      describeAccess(record(), 'ja', names),
      '2026-11-20 14:03 〇〇小児科オンライン相談 が お子さまの予防接種記録 を 閲覧しました（目的: 医療相談）',
    );
    assert.equal(
      describeAccess(record(), 'en', names),
      '2026-11-20 14:03 〇〇小児科オンライン相談 viewed your child’s vaccination records (purpose: medical consultation)',
    );
  });

  it('dates an access by the Japanese calendar day, not the UTC one', () => {
    assert.equal(jstMinute(new Date('2026-12-31T15:30:00Z')), '2027-01-01 00:30');
    assert.equal(jstMinute(new Date('2026-12-31T14:59:59.999Z')), '2026-12-31 23:59');
  });

  it('says a refused use was refused, and names every category', () => {
    const refused = record({
      decision: 'deny',
      reason: 'no-consent',
      categories: ['contact', 'household', 'vaccination'],
    });
    assert.equal(
      describeAccess(refused, 'ja', names),
      '2026-11-20 14:03 〇〇小児科オンライン相談 が 連絡先・世帯の情報・お子さまの予防接種記録 を 閲覧しようとしましたが、お断りしました（目的: 医療相談）',
    );
    assert.equal(
      describeAccess(refused, 'en', names),
      '2026-11-20 14:03 〇〇小児科オンライン相談 tried to view your contact details, your household and your child’s vaccination records and was refused (purpose: medical consultation)',
    );
  });

  it('falls back to codes it has no names for, and to a plain word for an unnamed staff member', () => {
    const staff = record({
      actor: { kind: 'staff', id: 'a1', name: '' },
      action: 'export',
      purpose: '',
      categories: ['pregnancy'],
    });
    assert.equal(
      describeAccess(staff, 'ja'),
      '2026-11-20 14:03 市区町村の職員 が pregnancy を 書き出しました（目的: 記載なし）',
    );
    assert.equal(
      describeAccess(staff, 'en'),
      '2026-11-20 14:03 a member of municipal staff exported pregnancy (purpose: none stated)',
    );
  });
});

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest();

describe('access log hashes', () => {
  it('writes canonical JSON: sorted keys, no spaces, integers only', () => {
    assert.equal(
      canonicalJson({ b: 1, a: ['x', { d: null, c: true }], é: '"\n', A: 'ア' }),
      '{"A":"ア","a":["x",{"c":true,"d":null}],"b":1,"é":"\\"\\n"}',
    );
    assert.throws(() => canonicalJson({ n: 1.5 }), /integers/);
  });

  it('hashes a record as the documented canonical JSON, chained from the genesis value', () => {
    const prev = genesisHash('041009', RESIDENT);
    assert.equal(prev, sha256(`machi-access-log:041009:${RESIDENT}`).toString('hex'));
    const text =
      '{"action":"read","actor":{"id":"clinic-telemedicine","kind":"client","name":"〇〇小児科オンライン相談"},' +
      '"at":"2026-11-20T05:03:27.123Z","categories":["vaccination"],"decision":"allow",' +
      `"entities":["urn:ngsi-ld:VaccinationRecord:1"],"prev":"${prev}","purpose":"telemedicine",` +
      `"reason":"consent","resident":"${RESIDENT}","seq":1,"tenant":"041009","v":1}`;
    const r = record();
    assert.equal(
      recordHash({ ...r, at: r.at.toISOString(), prev }),
      sha256(Buffer.from(text, 'utf8')).toString('hex'),
    );
  });

  it('reads a stored time as milliseconds, keeping microseconds a DBA added', () => {
    assert.equal(hashedTime('2026-11-20T05:03:27.123000'), '2026-11-20T05:03:27.123Z');
    assert.equal(hashedTime('2026-11-20T05:03:27.123456'), '2026-11-20T05:03:27.123456Z');
  });

  it('computes the RFC 6962 Merkle tree hash', () => {
    const leaf = (s: string) => sha256(Buffer.concat([Buffer.from([0]), Buffer.from(s)]));
    const node = (l: Buffer, r: Buffer) => sha256(Buffer.concat([Buffer.from([1]), l, r]));
    assert.equal(merkleRoot([]), sha256('').toString('hex'));
    assert.equal(merkleRoot(['a']), leaf('a').toString('hex'));
    assert.equal(merkleRoot(['a', 'b', 'c']), node(node(leaf('a'), leaf('b')), leaf('c')).toString('hex'));
    const five = ['a', 'b', 'c', 'd', 'e'];
    const left = node(node(leaf('a'), leaf('b')), node(leaf('c'), leaf('d')));
    assert.equal(merkleRoot(five), node(left, leaf('e')).toString('hex'));
  });
});
