/**
 * TOTP as an authenticator app meets it: enrol with a URI and a base32 seed, confirm with a code,
 * then each code is good once, within one step of drift. Codes are made here with otplib from the
 * returned seed, at times the test chooses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import { addAccount } from '../../src/identity/accounts.ts';
import {
  confirmTotpEnrolment,
  hasTotp,
  removeTotp,
  startTotpEnrolment,
  verifyTotp,
} from '../../src/identity/totp.ts';
import { parseMasterKey, SecretBox } from '../../src/platform/index.ts';
import { backend, createTestDb, TEST_SECRET_KEY, type TestDb } from '../helpers/db.ts';

/** 10 s into a 30-second step. */
const T0 = Date.UTC(2030, 0, 1, 9, 0, 10);
const at = (steps: number, seconds = 0) => new Date(T0 + steps * 30_000 + seconds * 1000);
const codeAt = (secret: string, time: Date) => generate({ secret, epoch: Math.floor(time.getTime() / 1000) });

describe(`TOTP second factor (${backend})`, () => {
  let t: TestDb;
  const box = new SecretBox(parseMasterKey(TEST_SECRET_KEY));
  let n = 0;
  async function newAccount(): Promise<string> {
    n += 1;
    const email = `totp${n}@example.jp`;
    const account = await addAccount(t.db, {
      kind: 'staff',
      email,
      displayName: email,
      password: 'correct horse battery',
    });
    return account.id;
  }
  /** An account with a confirmed factor (confirmed with the code of step -10) and its seed. */
  async function enrolled(): Promise<{ id: string; secret: string }> {
    const id = await newAccount();
    const { secret } = await startTotpEnrolment(t.db, box, id, 'someone@example.jp');
    assert.equal(await confirmTotpEnrolment(t.db, box, id, await codeAt(secret, at(-10)), at(-10)), true);
    return { id, secret };
  }

  before(async () => {
    t = await createTestDb();
  });
  after(() => t.close());

  it('enrols with an otpauth URI and a base32 seed that the table holds only sealed', async () => {
    const id = await newAccount();
    const { otpauthUri, secret } = await startTotpEnrolment(t.db, box, id, 'hanako@example.jp');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    const uri = new URL(otpauthUri);
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Machi:hanako@example.jp');
    assert.equal(uri.searchParams.get('secret'), secret);
    assert.equal(uri.searchParams.get('issuer'), 'Machi');

    const { rows } = await t.db.query<Record<string, unknown>>(
      'select * from identity.totp_factors where account_id = $1',
      [id],
    );
    const stored = JSON.stringify(rows);
    assert.equal(stored.includes(secret), false, 'the seed is not in the table in the clear');
    assert.equal(stored.includes(Buffer.from(secret).toString('base64')), false);
    assert.equal(box.openText(String(rows[0]?.secret_sealed), 'identity.totp'), secret);
    assert.equal(await hasTotp(t.db, id), false, 'a pending enrolment is no factor yet');
  });

  it('confirms only with a code from the seed, then counts as a factor', async () => {
    const id = await newAccount();
    const { secret } = await startTotpEnrolment(t.db, box, id, 'x@example.jp');
    const other = await startTotpEnrolment(t.db, box, await newAccount(), 'y@example.jp');
    assert.equal(await confirmTotpEnrolment(t.db, box, id, await codeAt(other.secret, at(0)), at(0)), false);
    assert.equal(await hasTotp(t.db, id), false);
    assert.equal(await confirmTotpEnrolment(t.db, box, id, await codeAt(secret, at(0)), at(0)), true);
    assert.equal(await hasTotp(t.db, id), true);
    await assert.rejects(confirmTotpEnrolment(t.db, box, id, await codeAt(secret, at(1)), at(1)), {
      status: 409,
    });
  });

  it('replaces a pending enrolment, and refuses a new one while a factor is confirmed', async () => {
    const id = await newAccount();
    const first = await startTotpEnrolment(t.db, box, id, 'x@example.jp');
    const second = await startTotpEnrolment(t.db, box, id, 'x@example.jp');
    assert.notEqual(first.secret, second.secret);
    assert.equal(await confirmTotpEnrolment(t.db, box, id, await codeAt(first.secret, at(0)), at(0)), false);
    assert.equal(await confirmTotpEnrolment(t.db, box, id, await codeAt(second.secret, at(0)), at(0)), true);
    await assert.rejects(startTotpEnrolment(t.db, box, id, 'x@example.jp'), { status: 409 });
  });

  it('accepts the code of the current step once and refuses its replay', async () => {
    const { id, secret } = await enrolled();
    const code = await codeAt(secret, at(0));
    assert.equal(await verifyTotp(t.db, box, id, code, at(0)), true);
    assert.equal(await verifyTotp(t.db, box, id, code, at(0)), false, 'replayed in the same step');
    assert.equal(await verifyTotp(t.db, box, id, code, at(1)), false, 'replayed a step later');
    assert.equal(await verifyTotp(t.db, box, id, await codeAt(secret, at(1)), at(1)), true, 'the next code');
  });

  it('accepts one step of drift either way, not two, and no step older than one used', async () => {
    const { id, secret } = await enrolled();
    const now = at(100);
    assert.equal(await verifyTotp(t.db, box, id, await codeAt(secret, at(98)), now), false, 'two steps old');
    assert.equal(
      await verifyTotp(t.db, box, id, await codeAt(secret, at(102)), now),
      false,
      'two steps ahead',
    );
    assert.equal(await verifyTotp(t.db, box, id, await codeAt(secret, at(99)), now), true, 'one step old');
    assert.equal(await verifyTotp(t.db, box, id, await codeAt(secret, at(101)), now), true, 'one step ahead');
    assert.equal(
      await verifyTotp(t.db, box, id, await codeAt(secret, at(100)), now),
      false,
      'older than one used',
    );
  });

  it('refuses a wrong code and malformed input, and accepts a code typed with a space', async () => {
    const { id, secret } = await enrolled();
    const now = at(200);
    const valid = new Set(await Promise.all([199, 200, 201].map((s) => codeAt(secret, at(s)))));
    const wrong = ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c)) ?? '';
    for (const code of [wrong, '', '12345', '1234567', 'abcdef', `${wrong}0`]) {
      assert.equal(await verifyTotp(t.db, box, id, code, now), false, JSON.stringify(code));
    }
    const code = await codeAt(secret, now);
    assert.equal(await verifyTotp(t.db, box, id, `${code.slice(0, 3)} ${code.slice(3)}`, now), true);
  });

  it('does not let the code that confirmed the enrolment log in', async () => {
    const id = await newAccount();
    const { secret } = await startTotpEnrolment(t.db, box, id, 'x@example.jp');
    const code = await codeAt(secret, at(0));
    assert.equal(await confirmTotpEnrolment(t.db, box, id, code, at(0)), true);
    assert.equal(await verifyTotp(t.db, box, id, code, at(0)), false);
  });

  it('accepts a code only once when it is sent several times at once', async () => {
    const { id, secret } = await enrolled();
    const code = await codeAt(secret, at(300));
    const results = await Promise.all(
      Array.from({ length: 6 }, () => verifyTotp(t.db, box, id, code, at(300))),
    );
    assert.equal(results.filter(Boolean).length, 1);
  });

  it('verifies nothing for a pending enrolment or a removed factor', async () => {
    const id = await newAccount();
    const { secret } = await startTotpEnrolment(t.db, box, id, 'x@example.jp');
    assert.equal(await verifyTotp(t.db, box, id, await codeAt(secret, at(0)), at(0)), false, 'pending');

    const factor = await enrolled();
    assert.equal(await removeTotp(t.db, factor.id), true);
    assert.equal(await removeTotp(t.db, factor.id), false);
    assert.equal(await hasTotp(t.db, factor.id), false);
    assert.equal(await verifyTotp(t.db, box, factor.id, await codeAt(factor.secret, at(5)), at(5)), false);
    await startTotpEnrolment(t.db, box, factor.id, 'again@example.jp');
  });

  it('refuses to enrol an unknown account, and to confirm an enrolment never started', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    await assert.rejects(startTotpEnrolment(t.db, box, unknown, 'x@example.jp'), { status: 404 });
    await assert.rejects(confirmTotpEnrolment(t.db, box, await newAccount(), '123456'), { status: 404 });
  });

  it('goes with the account when the account is deleted', async () => {
    const { id } = await enrolled();
    await t.db.query('delete from identity.accounts where id = $1', [id]);
    const { rows } = await t.db.query('select 1 from identity.totp_factors where account_id = $1', [id]);
    assert.equal(rows.length, 0);
  });
});
