/** What the identity benchmark's server and its driver agree on. */
export const REDIRECT_URI = 'http://127.0.0.1:9/bench/callback';
export const PASSWORD = 'bench password 1234';
