/**
 * The self-service pages under /account: each handler checks the form's CSRF token, reads the form,
 * calls one command and shows its answer as a page (errors too: a resident's browser reads them).
 */
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type Provider from 'oidc-provider';
import type { Db, Queryable, SecretBox } from '../../platform/index.ts';
import { type Lang, textOf } from '../oidc/pages.ts';
import { sendLogouts } from '../oidc/revoke.ts';
import { deleteOwnAccount, moveHome } from './account-changes.ts';
import { authenticatorRoutes } from './authenticator-routes.ts';
import { formGuard } from './csrf.ts';
import {
  parseDeletion,
  parseEmailRequest,
  parseMove,
  parseRegistration,
  passwordWrong,
  text,
} from './forms.ts';
import { GET, html, type Kit, langOf, POST, path, type Request, refusal } from './http.ts';
import { ACCOUNT_PATH } from './layout.ts';
import { enqueueMail, type MailKind } from './mail.ts';
import {
  deletePage,
  emailRequestPage,
  messagePage,
  movePage,
  registerPage,
  resetConfirmPage,
  sentPage,
} from './pages.ts';
import { passkeyRoutes } from './passkey-routes.ts';
import { proofKeeper } from './proof.ts';
import { registerResident, resendVerification, verifyEmail } from './registration.ts';
import { requestPasswordReset, resetPassword } from './reset.ts';
import { listMunicipalities } from './store.ts';
import { wordsOf } from './text.ts';
import { tokenUsable } from './tokens.ts';

export interface SelfServiceOptions {
  db: Db;
  box: SecretBox;
  publicUrl: string;
  /** Whether SMTP_URL is set; without it mail is neither queued nor its link made. */
  mailOn: boolean;
  /** The provider in use now (it is replaced when signing keys rotate): it signs logout tokens. */
  provider: () => Provider;
}

function renderErrors(app: FastifyInstance): void {
  app.setErrorHandler(
    (error: Error & { statusCode?: number; status?: number; validation?: unknown }, request, reply) => {
      const status = error.validation ? 400 : (error.statusCode ?? error.status ?? 500);
      const lang = langOf(request);
      const t = wordsOf(lang);
      if (status >= 500) request.log.error({ err: error }, 'a self-service page failed');
      const message = status === 429 ? t.busy : status < 500 ? t.badRequest : t.failed;
      return html(
        reply,
        status >= 400 && status < 500 ? status : 500,
        messagePage(lang, textOf(lang).errorTitle, message, false),
      );
    },
  );
}

export async function selfServiceRoutes(app: FastifyInstance, options: SelfServiceOptions): Promise<void> {
  await app.register(formbody);
  await app.register(cookie);
  renderErrors(app);
  const guard = formGuard(options.box.derive('identity.self-service.csrf'), {
    secure: options.publicUrl.startsWith('https:'),
    path: ACCOUNT_PATH,
  });
  const kit: Kit = {
    db: options.db,
    guard,
    proofs: proofKeeper(options.box),
    mailOn: options.mailOn,
    contextOf: (request) => ({
      db: options.db,
      box: options.box,
      ip: request.ip,
      async mail(tx: Queryable, kind: MailKind, accountId: string) {
        if (options.mailOn) return enqueueMail(tx, kind, accountId);
        request.log.warn({ mail: kind }, 'mail is off (SMTP_URL is not set): the mail was not sent');
      },
      logout: (logouts) => sendLogouts(options.provider(), logouts, request.log),
    }),
    forged: (request, form) => !guard.valid(request, form, request.body?.csrf),
  };
  registrationRoutes(app, kit);
  mailRequestRoutes(app, kit);
  resetRoutes(app, kit);
  accountChangeRoutes(app, kit);
  authenticatorRoutes(app, kit);
  passkeyRoutes(app, kit);
}

function registrationRoutes(app: FastifyInstance, { db, guard, mailOn, contextOf, forged }: Kit): void {
  app.get(path('register'), GET, async (request: Request, reply) => {
    const lang = langOf(request);
    const csrf = guard.token(request, reply, 'register');
    return html(reply, 200, registerPage({ lang, csrf, municipalities: await listMunicipalities(db) }));
  });

  app.post(path('register'), POST, async (request: Request, reply) => {
    const lang = langOf(request);
    const municipalities = await listMunicipalities(db);
    const view = { lang, csrf: guard.token(request, reply, 'register'), municipalities };
    if (forged(request, 'register')) {
      return html(reply, 403, registerPage({ ...view, error: wordsOf(lang).formExpired }));
    }
    const { values, problems } = parseRegistration(request.body, new Set(municipalities.map((m) => m.code)));
    if (problems.length > 0) return html(reply, 400, registerPage({ ...view, values, problems }));
    const result = await registerResident(contextOf(request), values);
    if (result.outcome === 'limited') {
      const { status, error } = refusal(reply, lang, result);
      return html(reply, status, registerPage({ ...view, values, error }));
    }
    return html(reply, 200, sentPage(lang, 'register', !mailOn));
  });

  app.get(path('verify'), GET, async (request: Request, reply) => {
    const lang = langOf(request);
    const t = wordsOf(lang);
    if (await verifyEmail(contextOf(request), request.query.token)) {
      return html(reply, 200, messagePage(lang, t.verifiedTitle, t.verified, true));
    }
    const csrf = guard.token(request, reply, 'resend');
    return html(reply, 400, emailRequestPage(lang, 'resend', csrf, { error: t.badLink }));
  });
}

function mailRequestRoutes(app: FastifyInstance, { guard, mailOn, contextOf, forged }: Kit): void {
  for (const kind of ['resend', 'reset'] as const) {
    app.get(path(kind), GET, async (request: Request, reply) => {
      return html(reply, 200, emailRequestPage(langOf(request), kind, guard.token(request, reply, kind)));
    });
    app.post(path(kind), POST, async (request: Request, reply) => {
      const lang = langOf(request);
      const csrf = guard.token(request, reply, kind);
      if (forged(request, kind)) {
        return html(reply, 403, emailRequestPage(lang, kind, csrf, { error: wordsOf(lang).formExpired }));
      }
      const { values, problems } = parseEmailRequest(request.body);
      if (problems.length > 0) {
        return html(reply, 400, emailRequestPage(lang, kind, csrf, { ...values, problems }));
      }
      const ask = kind === 'reset' ? requestPasswordReset : resendVerification;
      const result = await ask(contextOf(request), values.email);
      if (result.outcome === 'limited') {
        const { status, error } = refusal(reply, lang, result);
        return html(reply, status, emailRequestPage(lang, kind, csrf, { ...values, error }));
      }
      return html(reply, 200, sentPage(lang, kind, !mailOn));
    });
  }
}

function resetRoutes(app: FastifyInstance, { db, guard, contextOf, forged }: Kit): void {
  const badResetLink = (request: Request, reply: FastifyReply, lang: Lang) =>
    html(
      reply,
      400,
      emailRequestPage(lang, 'reset', guard.token(request, reply, 'reset'), { error: wordsOf(lang).badLink }),
    );

  app.get(path('resetConfirm'), GET, async (request: Request, reply) => {
    const lang = langOf(request);
    const token = request.query.token ?? '';
    if (!(await tokenUsable(db, token, 'reset-password'))) return badResetLink(request, reply, lang);
    return html(reply, 200, resetConfirmPage(lang, guard.token(request, reply, 'reset-confirm'), token));
  });

  app.post(path('resetConfirm'), POST, async (request: Request, reply) => {
    const lang = langOf(request);
    const t = wordsOf(lang);
    const token = text(request.body, 'token');
    const csrf = guard.token(request, reply, 'reset-confirm');
    if (forged(request, 'reset-confirm')) {
      return html(reply, 403, resetConfirmPage(lang, csrf, token, { error: t.formExpired }));
    }
    const password = text(request.body, 'password');
    if (passwordWrong(password)) {
      return html(reply, 400, resetConfirmPage(lang, csrf, token, { problems: ['password'] }));
    }
    if (!(await resetPassword(contextOf(request), token, password))) {
      return badResetLink(request, reply, lang);
    }
    return html(reply, 200, messagePage(lang, t.resetTitle, t.resetDone, true));
  });
}

function accountChangeRoutes(app: FastifyInstance, { db, guard, contextOf, forged }: Kit): void {
  app.get(path('delete'), GET, async (request: Request, reply) => {
    const lang = langOf(request);
    return html(reply, 200, deletePage({ lang, csrf: guard.token(request, reply, 'delete') }));
  });

  app.post(path('delete'), POST, async (request: Request, reply) => {
    const lang = langOf(request);
    const t = wordsOf(lang);
    const csrf = guard.token(request, reply, 'delete');
    if (forged(request, 'delete')) return html(reply, 403, deletePage({ lang, csrf, error: t.formExpired }));
    const { values, problems } = parseDeletion(request.body);
    if (problems.length > 0) {
      return html(reply, 400, deletePage({ lang, csrf, email: values.email, problems }));
    }
    const result = await deleteOwnAccount(contextOf(request), values);
    if (result.outcome !== 'done') {
      const { status, error } = refusal(reply, lang, result);
      return html(reply, status, deletePage({ lang, csrf, email: values.email, error }));
    }
    return html(reply, 200, messagePage(lang, t.deleteTitle, t.deleted, true));
  });

  app.get(path('municipality'), GET, async (request: Request, reply) => {
    const lang = langOf(request);
    const csrf = guard.token(request, reply, 'municipality');
    return html(reply, 200, movePage({ lang, csrf, municipalities: await listMunicipalities(db) }));
  });

  app.post(path('municipality'), POST, async (request: Request, reply) => {
    const lang = langOf(request);
    const t = wordsOf(lang);
    const municipalities = await listMunicipalities(db);
    const view = { lang, csrf: guard.token(request, reply, 'municipality'), municipalities };
    if (forged(request, 'municipality')) return html(reply, 403, movePage({ ...view, error: t.formExpired }));
    const { values, problems } = parseMove(request.body, new Set(municipalities.map((m) => m.code)));
    const kept = { email: values.email, municipality: values.municipality };
    if (problems.length > 0) return html(reply, 400, movePage({ ...view, ...kept, problems }));
    const result = await moveHome(contextOf(request), values);
    if (result.outcome !== 'done') {
      const { status, error } = refusal(reply, lang, result);
      return html(reply, status, movePage({ ...view, ...kept, error }));
    }
    const home = municipalities.find((m) => m.code === values.municipality);
    const name = home ? (lang === 'en' ? home.nameEn : home.name) : values.municipality;
    return html(reply, 200, messagePage(lang, t.moveTitle, t.moved(name), true));
  });
}
