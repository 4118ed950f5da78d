/** Emails are compared as stored: trimmed and lower-cased. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase();
