import { z } from 'zod';
import { isCleanText } from '@/lib/fields';

/** Email as stored everywhere: trimmed and lower case, so Foo@x.com and " foo@x.com " are one person. */
export const emailSchema = z
  .string({ error: 'Email is required' })
  .trim()
  .toLowerCase()
  .max(254, 'Email is too long')
  .pipe(z.email('Enter a valid email address'));

export const signupSchema = z.object({
  email: emailSchema,
  // bcrypt reads at most 72 bytes; longer passwords would be silently truncated.
  password: z
    .string({ error: 'Password is required' })
    .min(8, 'Password must be at least 8 characters')
    .max(72, 'Password must be at most 72 characters')
    .refine(isCleanText, 'Password contains characters that are not allowed'),
});

export const loginSchema = z.object({
  email: emailSchema,
  password: z.string({ error: 'Password is required' }).min(1, 'Password is required').max(200)
    .refine(isCleanText, 'Password contains characters that are not allowed'),
});

export type SignupInput = z.infer<typeof signupSchema>;
export type LoginInput = z.infer<typeof loginSchema>;
