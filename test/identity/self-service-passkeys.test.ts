/**
 * A resident looks through and deletes their passkeys on /account/passkeys over real HTTP: the
 * password again, then the list, each passkey deleted by its own form carrying the CSRF token and
 * a sealed proof of the password step (never the password). Another account's passkey cannot be
 * deleted, whatever id is posted.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { listAuditEvents } from '../../src/identity/audit.ts';
import { addAccount } from '../../src/identity/index.ts';
import { insertPasskey } from '../../src/identity/login/passkey-store.ts';
import type { Db } from '../../src/platform/index.ts';
import { backend } from '../helpers/db.ts';
import { AccountPages, altered, formsOn, type PageForm } from './account-pages.ts';
import { addResident, Browser, type IdentityRig, PASSWORD, startIdentityRig } from './rig.ts';

describe(`passkeys on the self-service pages (${backend})`, () => {
  let rig: IdentityRig;
  let db: Db;
  let pages: AccountPages;

  before(async () => {
    rig = await startIdentityRig();
    db = rig.testDb.db;
    pages = new AccountPages(rig.baseUrl);
  });
  after(() => rig.close());

  async function addPasskey(accountId: string, name: string, backedUp = false): Promise<string> {
    const id = await insertPasskey(db, {
      credentialId: randomBytes(16).toString('base64url'),
      accountId,
      publicKey: randomBytes(77),
      counter: 0,
      transports: ['internal'],
      backedUp,
      name,
    });
    assert.ok(id);
    return id;
  }

  async function passkeyIds(accountId: string): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      'select id from identity.passkeys where account_id = $1 order by name',
      [accountId],
    );
    return rows.map((r) => r.id);
  }

  /** The password step; returns the browser on the list and the list's delete forms by passkey id. */
  async function openList(email: string) {
    const browser = new Browser();
    await pages.open(browser, '/account/passkeys');
    assert.equal(await pages.submit(browser, { email, password: PASSWORD }), 200, browser.lastPage);
    return { browser, forms: deleteForms(browser.lastPage) };
  }

  function deleteForms(html: string): Map<string, PageForm> {
    return new Map(formsOn(html).map((f) => [f.hidden.passkey as string, f]));
  }

  it('lists the passkeys with their dates and deletes one by its own form', async () => {
    const resident = await addResident(rig);
    const phone = await addPasskey(resident.id, 'わたしのスマホ', true);
    const laptop = await addPasskey(resident.id, 'Laptop <old>');
    await db.query(`update identity.passkeys set last_used_at = '2031-02-03T04:05:00Z' where id = $1`, [
      phone,
    ]);
    assert.match(await pages.open(new Browser(), '/account/passkeys'), /パスキーの管理/);
    const { browser, forms } = await openList(resident.email);
    const html = browser.lastPage;
    assert.match(html, /<strong>わたしのスマホ<\/strong>/);
    assert.match(html, /<strong>Laptop &lt;old&gt;<\/strong>/, 'names are escaped');
    assert.match(html, /最後の利用: <time datetime="2031-02-03T04:05:00.000Z">2031\/02\/03 13:05<\/time>/);
    assert.match(html, /まだ使われていません/);
    assert.match(html, /ほかの端末と同期されるパスキー/);
    assert.deepEqual([...forms.keys()].sort(), [phone, laptop].sort());
    for (const form of forms.values()) {
      assert.deepEqual(Object.keys(form.hidden).sort(), ['csrf', 'passkey', 'proof']);
      assert.ok(!JSON.stringify(form).includes(PASSWORD), 'no password carried on');
    }

    assert.equal(await pages.submit(browser, {}, forms.get(laptop)), 200);
    assert.match(browser.lastPage, /パスキー「Laptop &lt;old&gt;」を削除しました/);
    assert.deepEqual(await passkeyIds(resident.id), [phone]);
    assert.deepEqual([...deleteForms(browser.lastPage).keys()], [phone], 'the list again, without it');
    assert.equal(await pages.submit(browser, {}, deleteForms(browser.lastPage).get(phone)), 200);
    assert.match(browser.lastPage, /登録されているパスキーはありません/);
    const events = await listAuditEvents(db, {
      accountId: resident.id,
      kinds: ['passkey-removed'],
      limit: 5,
    });
    assert.deepEqual(events.map((e) => e.detail.passkeyId).sort(), [phone, laptop].sort());
  });

  it("never deletes another account's passkey, whatever id is posted", async () => {
    const resident = await addResident(rig);
    const other = await addResident(rig, '青葉 次郎');
    const mine = await addPasskey(resident.id, 'mine');
    const theirs = await addPasskey(other.id, 'theirs');
    const { browser, forms } = await openList(resident.email);
    assert.doesNotMatch(browser.lastPage, /theirs/);
    const form = forms.get(mine) as PageForm;
    for (const id of [theirs, 'not-a-uuid', '00000000-0000-0000-0000-000000000000']) {
      assert.equal(await pages.submit(browser, { passkey: id }, form), 404, id);
      assert.match(browser.lastPage, /そのパスキーは見つかりません/);
    }
    assert.deepEqual(await passkeyIds(other.id), [theirs], 'nothing deleted');
    assert.deepEqual(await passkeyIds(resident.id), [mine]);
    const failures = await listAuditEvents(db, {
      accountId: resident.id,
      kinds: ['passkey-removed'],
      limit: 5,
    });
    assert.equal(failures.filter((e) => e.outcome === 'failure').length, 3);
  });

  it('refuses forged CSRF tokens and proofs altered, missing or from another browser with 403', async () => {
    const resident = await addResident(rig);
    const id = await addPasskey(resident.id, 'phone');
    const first = await openList(resident.email);
    const second = await openList(resident.email);
    const form = second.forms.get(id) as PageForm;
    const tries: [string, Record<string, string>, RegExp][] = [
      ['a forged CSRF token', { csrf: 'forged' }, /フォームの有効期限が切れたか/],
      ['no CSRF token', { csrf: '' }, /フォームの有効期限が切れたか/],
      ['a proof from another browser', { proof: first.forms.get(id)?.hidden.proof as string }, /本人確認/],
      ['an altered proof', { proof: altered(form.hidden.proof as string) }, /本人確認の有効期限が切れました/],
      ['no proof', { proof: '' }, /本人確認の有効期限が切れました/],
      ['the password instead', { proof: '', email: resident.email, password: PASSWORD }, /本人確認/],
    ];
    for (const [what, fields, message] of tries) {
      assert.equal(await pages.submit(second.browser, fields, form), 403, what);
      assert.match(second.browser.lastPage, message, what);
      assert.match(second.browser.lastPage, /name="password"/, 'asks for the password again');
    }
    assert.deepEqual(await passkeyIds(resident.id), [id], 'nothing deleted');
  });

  it('refuses a wrong password (locking after five) and staff', async () => {
    const resident = await addResident(rig);
    await addPasskey(resident.id, 'phone');
    const browser = new Browser();
    for (let i = 0; i < 5; i++) {
      await pages.open(browser, '/account/passkeys?lang=en');
      assert.equal(await pages.submit(browser, { email: resident.email, password: `wrong ${i}` }), 401);
      assert.match(browser.lastPage, /The e-mail address or password is wrong/);
      assert.doesNotMatch(browser.lastPage, /name="passkey"/);
    }
    await pages.open(browser, '/account/passkeys');
    assert.equal(await pages.submit(browser, { email: resident.email, password: PASSWORD }), 429);
    const staff = `staff-${Date.now()}@city.example.jp`;
    await addAccount(db, { kind: 'staff', email: staff, displayName: '職員', password: PASSWORD });
    await pages.open(browser, '/account/passkeys');
    assert.equal(await pages.submit(browser, { email: staff, password: PASSWORD }), 403);
    assert.match(browser.lastPage, /職員のアカウントは、この画面では変更できません/);
  });
});
