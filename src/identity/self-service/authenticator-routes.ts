/**
 * /account/authenticator: the password (and code, if any) → the QR code and seed → the code that
 * confirms them; and /account/authenticator/remove. The step between carries a sealed, short-lived
 * proof of the password step for this browser; the seed itself stays sealed in the database.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Lang } from '../oidc/pages.ts';
import {
  confirmAuthenticator,
  pendingAuthenticator,
  removeAuthenticator,
  startAuthenticator,
} from './authenticator.ts';
import {
  authenticatorPage,
  enrolledAlreadyPage,
  enrolPage,
  qrSvg,
  removeAuthenticatorPage,
} from './authenticator-pages.ts';
import { codeWrong, type Field, parseCredentials, text } from './forms.ts';
import { GET, html, type Kit, langOf, POST, path, type Request, refusal } from './http.ts';
import { messagePage } from './pages.ts';
import { wordsOf } from './text.ts';

const START = 'authenticator';
const CONFIRM = 'authenticator-confirm';
const REMOVE = 'authenticator-remove';

export function authenticatorRoutes(app: FastifyInstance, kit: Kit): void {
  startRoutes(app, kit);
  confirmRoute(app, kit);
  removeRoutes(app, kit);
}

function startRoutes(app: FastifyInstance, kit: Kit): void {
  const { guard, proofs, contextOf, forged } = kit;
  app.get(path('authenticator'), GET, async (request: Request, reply) => {
    const lang = langOf(request);
    return html(reply, 200, authenticatorPage({ lang, csrf: guard.token(request, reply, START) }));
  });

  app.post(path('authenticator'), POST, async (request: Request, reply) => {
    const lang = langOf(request);
    const view = { lang, csrf: guard.token(request, reply, START) };
    if (forged(request, START)) {
      return html(reply, 403, authenticatorPage({ ...view, error: wordsOf(lang).formExpired }));
    }
    const { values, problems } = parseCredentials(request.body);
    if (problems.length > 0)
      return html(reply, 400, authenticatorPage({ ...view, email: values.email, problems }));
    const result = await startAuthenticator(contextOf(request), values);
    if (result.outcome === 'enrolled-already') return html(reply, 409, enrolledAlreadyPage(lang));
    if (result.outcome !== 'started') {
      const { status, error } = refusal(reply, lang, result);
      return html(reply, status, authenticatorPage({ ...view, email: values.email, error }));
    }
    const { otpauthUri, secret } = result.enrolment;
    return html(
      reply,
      200,
      enrolPage({
        lang,
        csrf: guard.token(request, reply, CONFIRM),
        proof: proofs.issue(request, 'authenticator', result.account.id),
        qr: await qrSvg(otpauthUri, wordsOf(lang).qrLabel),
        secret,
      }),
    );
  });
}

/** Starts over at the password: the proof or the enrolment is gone. */
function startAgain(kit: Kit, request: Request, reply: FastifyReply, status: number, error: string) {
  const csrf = kit.guard.token(request, reply, START);
  return html(reply, status, authenticatorPage({ lang: langOf(request), csrf, error }));
}

/** The pending enrolment's page again, with what was wrong. */
async function showEnrolment(
  kit: Kit,
  request: Request,
  reply: FastifyReply,
  proof: { accountId: string; expires: number },
  answer: { status: number; error?: string; problems?: Field[] },
) {
  const lang: Lang = langOf(request);
  const enrolment = await pendingAuthenticator(kit.contextOf(request), proof.accountId);
  if (!enrolment) return startAgain(kit, request, reply, 400, wordsOf(lang).enrolmentGone);
  const page = enrolPage({
    lang,
    csrf: kit.guard.token(request, reply, CONFIRM),
    proof: kit.proofs.issue(request, 'authenticator', proof.accountId, proof.expires),
    qr: await qrSvg(enrolment.otpauthUri, wordsOf(lang).qrLabel),
    secret: enrolment.secret,
    error: answer.error,
    problems: answer.problems,
  });
  return html(reply, answer.status, page);
}

function confirmRoute(app: FastifyInstance, kit: Kit): void {
  app.post(path('authenticatorConfirm'), POST, async (request: Request, reply) => {
    const lang = langOf(request);
    const t = wordsOf(lang);
    if (kit.forged(request, CONFIRM)) return startAgain(kit, request, reply, 403, t.formExpired);
    const proof = kit.proofs.check(request, 'authenticator', request.body?.proof);
    if (!proof) return startAgain(kit, request, reply, 403, t.proofExpired);
    const code = text(request.body, 'code');
    if (codeWrong(code))
      return showEnrolment(kit, request, reply, proof, { status: 400, problems: ['code'] });
    const result = await confirmAuthenticator(kit.contextOf(request), proof.accountId, code);
    switch (result.outcome) {
      case 'done':
        return html(reply, 200, messagePage(lang, t.enrolTitle, t.enrolled, true));
      case 'enrolled-already':
        return html(reply, 409, enrolledAlreadyPage(lang));
      case 'gone':
        return startAgain(kit, request, reply, 400, t.enrolmentGone);
      default:
        return showEnrolment(kit, request, reply, proof, refusal(reply, lang, result));
    }
  });
}

function removeRoutes(app: FastifyInstance, { guard, contextOf, forged }: Kit): void {
  app.get(path('authenticatorRemove'), GET, async (request: Request, reply) => {
    const lang = langOf(request);
    return html(reply, 200, removeAuthenticatorPage({ lang, csrf: guard.token(request, reply, REMOVE) }));
  });

  app.post(path('authenticatorRemove'), POST, async (request: Request, reply) => {
    const lang = langOf(request);
    const t = wordsOf(lang);
    const view = { lang, csrf: guard.token(request, reply, REMOVE) };
    if (forged(request, REMOVE))
      return html(reply, 403, removeAuthenticatorPage({ ...view, error: t.formExpired }));
    const { values, problems } = parseCredentials(request.body, { codeNeeded: true });
    const kept = { ...view, email: values.email };
    if (problems.length > 0) return html(reply, 400, removeAuthenticatorPage({ ...kept, problems }));
    const result = await removeAuthenticator(contextOf(request), values);
    if (result.outcome === 'none')
      return html(reply, 404, removeAuthenticatorPage({ ...kept, error: t.noAuthenticator }));
    if (result.outcome !== 'done') {
      const { status, error } = refusal(reply, lang, result);
      return html(reply, status, removeAuthenticatorPage({ ...kept, error }));
    }
    return html(reply, 200, messagePage(lang, t.removeAuthenticatorTitle, t.authenticatorRemoved, true));
  });
}
