'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { Button } from '@/components/ui/button';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { api, ApiError } from '@/lib/api-client';

interface AuthFormProps {
  mode: 'login' | 'signup';
  next: string;
}

/** Sign-in and sign-up share one form; the server's message is shown next to the field it names. */
export function AuthForm({ mode, next }: AuthFormProps) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setPending(true);
    setError(null);
    try {
      const result = await api.post<{ confirmationRequired?: boolean }>(`/api/auth/${mode}`, {
        email: String(form.get('email') ?? ''),
        password: String(form.get('password') ?? ''),
      });
      if (result.confirmationRequired) {
        setNotice('Check your inbox to confirm your email, then sign in.');
        return;
      }
      router.replace(next);
      router.refresh();
    } catch (err) {
      const message = err instanceof Error ? err.message : 'Something went wrong';
      setError({ message: message.replace(/^(email|password): /, ''), field: err instanceof ApiError ? err.field : undefined });
    } finally {
      setPending(false);
    }
  }

  const emailError = error?.field === 'email' ? error.message : undefined;
  const passwordError = error?.field === 'password' ? error.message : undefined;
  const formError = error && !emailError && !passwordError ? error.message : undefined;
  const isSignup = mode === 'signup';

  return (
    // method and action are set so that a form submitted before its script has loaded posts,
    // and a password never ends up in a URL, a log or the history.
    <form method="post" action={`/api/auth/${mode}`} onSubmit={onSubmit} noValidate className="space-y-5"
      aria-describedby={formError ? 'form-error' : undefined}>
      <Field label="Email" htmlFor="email" error={emailError}>
        <Input id="email" name="email" type="email" autoComplete="email" required invalid={Boolean(emailError)}
          aria-describedby={fieldDescribedBy('email', { error: Boolean(emailError) })} />
      </Field>
      <Field label="Password" htmlFor="password" error={passwordError} hint={isSignup ? 'At least 8 characters.' : undefined}>
        <Input id="password" name="password" type="password" required minLength={isSignup ? 8 : undefined}
          autoComplete={isSignup ? 'new-password' : 'current-password'} invalid={Boolean(passwordError)}
          aria-describedby={fieldDescribedBy('password', { hint: isSignup, error: Boolean(passwordError) })} />
      </Field>
      {formError ? (
        <p id="form-error" role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{formError}</p>
      ) : null}
      {notice ? <p role="status" className="rounded-md bg-brand-50 px-3 py-2 text-sm text-brand-900">{notice}</p> : null}
      <Button type="submit" loading={pending} className="w-full">
        {isSignup ? 'Create account' : 'Sign in'}
      </Button>
      <p className="text-center text-sm text-slate-600">
        {isSignup ? 'Already have an account? ' : 'New to Haven Hub? '}
        <Link className="font-medium text-brand-700 underline underline-offset-4"
          href={`${isSignup ? '/login' : '/signup'}${next !== '/dashboard' ? `?next=${encodeURIComponent(next)}` : ''}`}>
          {isSignup ? 'Sign in' : 'Create an account'}
        </Link>
      </p>
    </form>
  );
}
