/**
 * Limits on requests that send mail (registration, a resent verification link, a password reset), so
 * that nobody can bomb an address with mail or use Machi to send mail in bulk. Counted in the
 * database like login failures (throttle.ts): per address requested, whether or not it has an
 * account, so the limit reveals nothing; and per client address.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from '../../platform/index.ts';
import { countEvent, eventsAllowed, ipKey, type LoginVerdict, type ThrottlePolicy } from '../throttle.ts';

/** Three mails to one address in 15 minutes, then 15 minutes' pause, growing to two hours. */
const PER_RECIPIENT: ThrottlePolicy = {
  maxFailures: 3,
  windowSeconds: 15 * 60,
  baseLockSeconds: 15 * 60,
  maxLockSeconds: 2 * 60 * 60,
};

/** Thirty requests from one client address in 15 minutes (a town hall's counter registers many). */
const PER_CLIENT: ThrottlePolicy = {
  maxFailures: 30,
  windowSeconds: 15 * 60,
  baseLockSeconds: 15 * 60,
  maxLockSeconds: 2 * 60 * 60,
};

/** The recipient by a hash of the address, so the throttle table holds no e-mail address. */
function recipientKey(email: string): string {
  return `mail-to:${createHash('sha256').update(email.trim().toLowerCase()).digest('base64url')}`;
}

function clientKey(ip: string): string {
  return `mail-${ipKey(ip)}`;
}

/**
 * Counts a request that may send mail to `email` from `ip`, or refuses it when either is over its
 * limit. The request that reaches a limit is still served; the next ones wait.
 */
export async function admitMailRequest(db: Queryable, email: string, ip: string): Promise<LoginVerdict> {
  const keys = [recipientKey(email), clientKey(ip)];
  const verdict = await eventsAllowed(db, keys);
  if (!verdict.allowed) return verdict;
  await countEvent(db, recipientKey(email), PER_RECIPIENT);
  await countEvent(db, clientKey(ip), PER_CLIENT);
  return verdict;
}
