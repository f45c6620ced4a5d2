/**
 * What every group of self-service routes shares: the request schemas, the page's language, the
 * HTML answer, the page a refusal becomes, and the kit of collaborators handed to each group.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../../platform/index.ts';
import { type Lang, pickLang } from '../oidc/pages.ts';
import type { Refusal } from './account-changes.ts';
import type { SelfServiceContext } from './context.ts';
import type { FormGuard } from './csrf.ts';
import type { Body } from './forms.ts';
import { ACCOUNT_PATH, PAGES } from './layout.ts';
import type { ProofKeeper } from './proof.ts';
import { wordsOf } from './text.ts';

export type Request = FastifyRequest<{ Querystring: { lang?: string; token?: string }; Body: Body }>;

const QUERY = {
  type: 'object',
  properties: { lang: { type: 'string', maxLength: 16 }, token: { type: 'string', maxLength: 128 } },
};
/** Every field a string (a repeated field is refused), none of absurd length. */
const FORM = { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 } };
export const GET = { schema: { querystring: QUERY } };
export const POST = { schema: { querystring: QUERY, body: FORM } };

export const path = (name: keyof typeof PAGES) => `${ACCOUNT_PATH}${PAGES[name]}`;

export function langOf(request: FastifyRequest): Lang {
  const query = request.query as { lang?: unknown } | undefined;
  const lang = typeof query?.lang === 'string' ? query.lang : undefined;
  return pickLang(lang, request.headers['accept-language']);
}

export function html(reply: FastifyReply, status: number, body: string) {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
}

/** The status and message of a refused change, setting Retry-After when it is a wait. */
export function refusal(
  reply: FastifyReply,
  lang: Lang,
  refused: Refusal,
): { status: number; error: string } {
  const t = wordsOf(lang);
  switch (refused.outcome) {
    case 'limited':
      reply.header('retry-after', String(refused.retryAfterSeconds));
      return { status: 429, error: t.locked(Math.ceil(refused.retryAfterSeconds / 60)) };
    case 'wrong':
      return { status: 401, error: t.wrong };
    case 'needs-code':
      return { status: 401, error: t.needsCode };
    case 'wrong-code':
      return { status: 401, error: t.wrongCode };
    case 'not-resident':
      return { status: 403, error: t.notResident };
  }
}

/** What every route group shares. */
export interface Kit {
  db: Db;
  guard: FormGuard;
  /** Proofs of a re-authentication, carried by the forms that follow it. */
  proofs: ProofKeeper;
  mailOn: boolean;
  contextOf(request: FastifyRequest): SelfServiceContext;
  /** Whether the posted form lacks its valid CSRF token. */
  forged(request: Request, form: string): boolean;
}
