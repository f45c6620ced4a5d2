/**
 * CSRF protection of the self-service forms, which run before anyone is logged in: the browser holds
 * a random cookie (HttpOnly, SameSite=Lax, for /account only) and each form carries an HMAC of that
 * cookie and the form's name. Another site can neither read the cookie nor compute the HMAC, so a
 * form it posts is refused; and no state is kept on the server.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const FORM_COOKIE = 'machi_form';

export interface FormGuard {
  /** The token for the form, setting the cookie first when the browser has none. */
  token(request: FastifyRequest, reply: FastifyReply, form: string): string;
  /** Whether the posted token belongs to this browser and this form. */
  valid(request: FastifyRequest, form: string, given: unknown): boolean;
}

export function formGuard(key: Buffer, options: { secure: boolean; path: string }): FormGuard {
  const mac = (cookie: string, form: string) =>
    createHmac('sha256', key).update(`${form}\0${cookie}`).digest('base64url');
  return {
    token(request, reply, form) {
      let cookie = request.cookies[FORM_COOKIE];
      if (!cookie || cookie.length < 32) {
        cookie = randomBytes(24).toString('base64url');
        reply.setCookie(FORM_COOKIE, cookie, {
          path: options.path,
          httpOnly: true,
          sameSite: 'lax',
          secure: options.secure,
        });
      }
      return mac(cookie, form);
    },
    valid(request, form, given) {
      const cookie = request.cookies[FORM_COOKIE];
      if (!cookie || typeof given !== 'string') return false;
      const expected = Buffer.from(mac(cookie, form));
      const actual = Buffer.from(given);
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}
