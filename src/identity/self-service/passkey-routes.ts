/**
 * /account/passkeys: the password (and code, if any) → the account's passkeys, each deleted by a
 * POST of its own that carries the CSRF token and the sealed, short-lived proof of the password
 * step for this browser. A deletion answers with the list again, under the same proof.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseCredentials, text } from './forms.ts';
import { GET, html, type Kit, langOf, POST, path, type Request, refusal } from './http.ts';
import { passkeyListPage, passkeysPage } from './passkey-pages.ts';
import { openPasskeys, ownPasskeys, removeOwnPasskey } from './passkeys.ts';
import type { Proof } from './proof.ts';
import { wordsOf } from './text.ts';

const OPEN = 'passkeys';
const DELETE = 'passkey-delete';

export function passkeyRoutes(app: FastifyInstance, kit: Kit): void {
  openRoutes(app, kit);
  deleteRoute(app, kit);
}

/** The list, under a fresh proof or (given `expires`) one that ends when the last one did. */
async function showList(
  kit: Kit,
  request: Request,
  reply: FastifyReply,
  proof: Pick<Proof, 'accountId'> & Partial<Proof>,
  answer: { status: number; notice?: string; error?: string },
) {
  const page = passkeyListPage({
    lang: langOf(request),
    csrf: kit.guard.token(request, reply, DELETE),
    proof: kit.proofs.issue(request, 'passkeys', proof.accountId, proof.expires),
    passkeys: await ownPasskeys(kit.contextOf(request), proof.accountId),
    notice: answer.notice,
    error: answer.error,
  });
  return html(reply, answer.status, page);
}

function openRoutes(app: FastifyInstance, kit: Kit): void {
  const { guard, contextOf, forged } = kit;
  app.get(path('passkeys'), GET, async (request: Request, reply) => {
    return html(reply, 200, passkeysPage({ lang: langOf(request), csrf: guard.token(request, reply, OPEN) }));
  });

  app.post(path('passkeys'), POST, async (request: Request, reply) => {
    const lang = langOf(request);
    const view = { lang, csrf: guard.token(request, reply, OPEN) };
    if (forged(request, OPEN))
      return html(reply, 403, passkeysPage({ ...view, error: wordsOf(lang).formExpired }));
    const { values, problems } = parseCredentials(request.body);
    if (problems.length > 0)
      return html(reply, 400, passkeysPage({ ...view, email: values.email, problems }));
    const result = await openPasskeys(contextOf(request), values);
    if (result.outcome !== 'ok') {
      const { status, error } = refusal(reply, lang, result);
      return html(reply, status, passkeysPage({ ...view, email: values.email, error }));
    }
    return showList(kit, request, reply, { accountId: result.accountId }, { status: 200 });
  });
}

function deleteRoute(app: FastifyInstance, kit: Kit): void {
  app.post(path('passkeyDelete'), POST, async (request: Request, reply) => {
    const lang = langOf(request);
    const t = wordsOf(lang);
    const again = (status: number, error: string) =>
      html(reply, status, passkeysPage({ lang, csrf: kit.guard.token(request, reply, OPEN), error }));
    if (kit.forged(request, DELETE)) return again(403, t.formExpired);
    const proof = kit.proofs.check(request, 'passkeys', request.body?.proof);
    if (!proof) return again(403, t.proofExpired);
    const name = await removeOwnPasskey(
      kit.contextOf(request),
      proof.accountId,
      text(request.body, 'passkey'),
    );
    return name === undefined
      ? showList(kit, request, reply, proof, { status: 404, error: t.passkeyNotFound })
      : showList(kit, request, reply, proof, { status: 200, notice: t.passkeyDeleted(name) });
  });
}
