/**
 * My Page's API: the resident's consents, the data tracker, and their rights under 個人情報保護法.
 * It decides nothing about personal data itself: consent answers through the consent capability,
 * entities through the broker's functions for the resident, tokens through identity.
 */
export { ME_PATH, type MyPageOptions, myPageRoutes } from './routes.ts';
export type { MyPageIdentity } from './types.ts';
