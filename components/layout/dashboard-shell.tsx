'use client';

import { useQueryClient } from '@tanstack/react-query';
import { LogOut, Menu, X } from 'lucide-react';
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { useState, type ReactNode } from 'react';
import { activeNavHref, NAV_ITEMS } from '@/components/layout/nav';
import { Button } from '@/components/ui/button';
import { useToast } from '@/components/ui/toast';
import { api } from '@/lib/api-client';
import { cn } from '@/lib/cn';

/** Sidebar navigation, account menu and a skip link around every dashboard page. */
export function DashboardShell({ email, children }: { email: string; children: ReactNode }) {
  const pathname = usePathname();
  const router = useRouter();
  const qc = useQueryClient();
  const { toast } = useToast();
  const [open, setOpen] = useState(false);
  const activeHref = activeNavHref(pathname);
  const [signingOut, setSigningOut] = useState(false);

  async function signOut() {
    setSigningOut(true);
    try {
      await api.post('/api/auth/logout');
      qc.clear();
      router.replace('/login');
      router.refresh();
    } catch (err) {
      toast({ title: 'Could not sign out', description: err instanceof Error ? err.message : undefined, variant: 'error' });
      setSigningOut(false);
    }
  }

  return (
    <div className="min-h-screen md:flex">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2">
        Skip to content
      </a>
      <header className="flex items-center justify-between border-b border-slate-200 bg-white px-4 py-3 md:hidden">
        <span className="font-semibold text-brand-800">Haven Hub</span>
        <Button variant="ghost" size="sm" aria-expanded={open} aria-controls="sidebar" onClick={() => setOpen((o) => !o)}>
          {open ? <X className="h-5 w-5" aria-hidden /> : <Menu className="h-5 w-5" aria-hidden />}
          <span className="sr-only">{open ? 'Close menu' : 'Open menu'}</span>
        </Button>
      </header>
      <aside id="sidebar"
        className={cn('w-full shrink-0 border-r border-slate-200 bg-white md:flex md:min-h-screen md:w-60 md:flex-col', open ? 'block' : 'hidden md:flex')}>
        <div className="hidden px-5 py-5 md:block">
          <Link href="/dashboard" className="text-lg font-semibold text-brand-800">Haven Hub</Link>
          <p className="text-xs text-slate-500">Retention</p>
        </div>
        <nav aria-label="Main" className="flex-1 px-3 py-2">
          <ul className="space-y-1">
            {NAV_ITEMS.map((item) => {
              const active = item.href === activeHref;
              return (
                <li key={item.href}>
                  <Link href={item.href} aria-current={active ? 'page' : undefined} onClick={() => setOpen(false)}
                    className={cn('flex items-center gap-3 rounded-md px-3 py-2 text-sm font-medium',
                      active ? 'bg-brand-50 text-brand-800' : 'text-slate-700 hover:bg-slate-100')}>
                    <item.icon className="h-4 w-4" aria-hidden />
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="border-t border-slate-200 px-4 py-4">
          <p className="truncate text-sm text-slate-700" title={email}>{email}</p>
          <Button variant="ghost" size="sm" className="mt-2 w-full justify-start" onClick={signOut} loading={signingOut}>
            <LogOut className="h-4 w-4" aria-hidden />
            Sign out
          </Button>
        </div>
      </aside>
      <main id="main" tabIndex={-1} className="min-w-0 flex-1 focus:outline-none">{children}</main>
    </div>
  );
}
