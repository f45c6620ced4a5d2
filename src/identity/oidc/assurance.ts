/**
 * Authentication assurance levels (`acr`) Machi issues, weakest first, and the `amr` values
 * (RFC 8176) of each login method. A service demanding a level with `acr_values` gets a session of
 * that level or stronger; a weaker session must step up (provider.ts adds the check).
 */
export const ACR = {
  /** Something the resident knows: a password. */
  password: 'urn:machi:loa:password',
  /** Two factors: password and TOTP, or a passkey (possession plus user verification). */
  mfa: 'urn:machi:loa:mfa',
  /** The My Number Card's user-authentication certificate (JPKI), verified by Machi. */
  card: 'urn:machi:loa:card',
} as const;

export type Acr = (typeof ACR)[keyof typeof ACR];

export const ACR_VALUES: Acr[] = [ACR.password, ACR.mfa, ACR.card];

/** Whether a session at `have` satisfies a request for `want` (unknown values are never satisfied). */
export function satisfies(have: string | undefined, want: string): boolean {
  const wanted = ACR_VALUES.indexOf(want as Acr);
  const held = ACR_VALUES.indexOf(have as Acr);
  return wanted >= 0 && held >= wanted;
}

/** Whether any of the space-separated `acr_values` (in preference order) is satisfied. */
export function meetsAcrValues(have: string | undefined, acrValues: string | undefined): boolean {
  const wanted = (acrValues ?? '').split(' ').filter(Boolean);
  return wanted.length === 0 || wanted.some((w) => satisfies(have, w));
}
