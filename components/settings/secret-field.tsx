'use client';

import { useState, type FormEvent } from 'react';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Field, fieldDescribedBy } from '@/components/ui/field';
import { Input } from '@/components/ui/input';
import { formatRelative } from '@/lib/format';
import type { SecretStatus } from '@/lib/settings/schemas';

interface SecretFieldProps {
  id: string;
  label: string;
  hint: string;
  status: SecretStatus;
  error?: string;
  saving: boolean;
  onSave: (value: string | null) => Promise<boolean>;
}

/** A write-only secret: shows whether it is set (last 4 characters), never the value. */
export function SecretField({ id, label, hint, status, error, saving, onSave }: SecretFieldProps) {
  const [value, setValue] = useState('');

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (await onSave(value)) setValue('');
  }

  return (
    <form onSubmit={submit} className="space-y-3" aria-label={`${label} settings`}>
      <div className="flex flex-wrap items-center gap-2 text-sm">
        {status.configured ? (
          <>
            <Badge variant="success">Saved</Badge>
            <span className="text-slate-600">
              ends in <code className="font-mono">{status.last4}</code>
              {status.updatedAt ? `, updated ${formatRelative(status.updatedAt)}` : ''}
            </span>
          </>
        ) : (
          <Badge variant="secondary">Not set</Badge>
        )}
      </div>
      <Field label={status.configured ? `Replace ${label}` : label} htmlFor={id} hint={hint} error={error}>
        <Input id={id} name={id} type="password" autoComplete="off" spellCheck={false} value={value}
          onChange={(e) => setValue(e.target.value)} invalid={Boolean(error)}
          aria-describedby={fieldDescribedBy(id, { hint: true, error: Boolean(error) })} />
      </Field>
      <div className="flex gap-2">
        <Button type="submit" size="sm" loading={saving} disabled={value.trim() === ''}>Save</Button>
        {status.configured ? (
          <Button type="button" size="sm" variant="ghost" onClick={() => void onSave(null)} disabled={saving}>Remove</Button>
        ) : null}
      </div>
    </form>
  );
}
