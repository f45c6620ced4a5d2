import type { IdentityHandle } from '../../identity/index.ts';

/** What My Page needs from identity, through the composition root. */
export type MyPageIdentity = Pick<
  IdentityHandle,
  | 'resident'
  | 'account'
  | 'clientNames'
  | 'endServiceAccess'
  | 'sign'
  | 'issuer'
  | 'purposeRequest'
  | 'answerPurposeRequest'
>;
