/** Name of the local provider's session cookie (an HS256 JWT). */
export const SESSION_COOKIE = 'hh_session';
