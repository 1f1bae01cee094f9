'use client';

import { useEffect, useRef, useState } from 'react';
import { Check, Copy } from 'lucide-react';
import { cn } from '@/lib/cn';

export type CopyButtonProps = {
  text: string;
  'aria-label'?: string;
  label?: string;
  className?: string;
  onCopied?: () => void;
};

const FEEDBACK_MS = 2000;

/** Copies `text` to the clipboard and shows 'Copied' feedback (announced politely) for 2 s. */
export function CopyButton({
  text,
  'aria-label': ariaLabel = 'Copy to clipboard',
  label,
  className,
  onCopied,
}: CopyButtonProps) {
  const [copied, setCopied] = useState(false);
  const [failed, setFailed] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    return () => {
      if (timer.current) clearTimeout(timer.current);
    };
  }, []);

  async function handleClick() {
    try {
      await navigator.clipboard.writeText(text);
      setFailed(false);
      setCopied(true);
      onCopied?.();
    } catch {
      setCopied(false);
      setFailed(true);
    }
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      setCopied(false);
      setFailed(false);
    }, FEEDBACK_MS);
  }

  const Icon = copied ? Check : Copy;
  return (
    <>
      <button
        type="button"
        onClick={handleClick}
        aria-label={ariaLabel}
        className={cn(
          'inline-flex h-8 items-center gap-1.5 rounded-md border border-slate-300 bg-white px-2 text-xs font-medium text-slate-700 shadow-sm hover:bg-slate-50',
          className,
        )}
      >
        <Icon className={cn('size-4', copied && 'text-emerald-600')} aria-hidden="true" />
        {label || copied ? <span aria-hidden="true">{copied ? 'Copied' : label}</span> : null}
      </button>
      <span role="status" aria-live="polite" className="sr-only">
        {copied ? 'Copied' : failed ? 'Copy failed' : ''}
      </span>
    </>
  );
}
