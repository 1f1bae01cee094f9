import { ListOrdered, Pause, Pencil, Play, Trash2 } from 'lucide-react';
import {
  describeConditions, describeDiscount, formatUses, SOURCE_LABELS, STATUS_LABELS, STATUS_VARIANTS, toggleAction, TYPE_ICONS, TYPE_LABELS,
} from '@/components/coupons/labels';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { CopyButton } from '@/components/ui/copy-button';
import { Table, TBody, TD, TH, THead, TR } from '@/components/ui/table';
import { cn } from '@/lib/cn';
import type { Coupon } from '@/lib/coupons/schemas';
import { formatDate, formatDateTime, formatMoney, formatNumber } from '@/lib/format';

export type CouponListProps = {
  coupons: Coupon[];
  caption: string;
  busy?: boolean;
  /** The coupon whose pause/resume is in flight. */
  togglingId: string | null;
  onEdit: (c: Coupon) => void;
  onToggle: (c: Coupon) => void;
  onDelete: (c: Coupon) => void;
  onViewUses: (c: Coupon) => void;
};

const TOGGLE = {
  pause: { label: 'Pause', icon: Pause },
  resume: { label: 'Resume', icon: Play },
  activate: { label: 'Activate', icon: Play },
} as const;

/** Keeps the action buttons in the same columns when a row lacks one. */
function Gap() {
  return <span aria-hidden="true" className="w-10 shrink-0" />;
}

function Expiry({ c }: { c: Coupon }) {
  if (!c.expiresAt) return <span className="text-slate-500">Never</span>;
  const past = c.status === 'expired';
  return (
    <time dateTime={c.expiresAt} title={formatDateTime(c.expiresAt)} className={cn(past && 'text-slate-500')}>
      {past ? 'Ended ' : ''}{formatDate(c.expiresAt)}
    </time>
  );
}

/** Table of coupons: code with copy, discount, status, uses (with discount given and rejections), expiry and row actions. */
export function CouponList({ coupons, caption, busy = false, togglingId, onEdit, onToggle, onDelete, onViewUses }: CouponListProps) {
  return (
    <Table aria-busy={busy || undefined} className={cn(busy && 'opacity-60')}>
      <caption className="sr-only">{caption}</caption>
      <THead>
        <tr>
          <TH>Code</TH>
          <TH>Discount</TH>
          <TH>Status</TH>
          <TH className="text-right">Uses</TH>
          <TH>Expires</TH>
          <TH><span className="sr-only">Actions</span></TH>
        </tr>
      </THead>
      <TBody>
        {coupons.map((c) => {
          const Icon = TYPE_ICONS[c.discountType];
          const conditions = describeConditions(c);
          const toggle = toggleAction(c.status);
          const ToggleIcon = toggle ? TOGGLE[toggle].icon : null;
          const editable = c.status !== 'archived';
          return (
            <TR key={c.id} data-testid="coupon-row" data-code={c.code}>
              <TD>
                <div className="flex items-center gap-2">
                  <code className="whitespace-nowrap rounded bg-slate-100 px-1.5 py-0.5 font-mono text-sm font-semibold text-slate-900">{c.code}</code>
                  <CopyButton text={c.code} aria-label={`Copy code ${c.code}`} />
                </div>
                {c.source !== 'manual' ? <p className="mt-1 text-xs text-slate-500">{SOURCE_LABELS[c.source]}</p> : null}
              </TD>
              <TD className="min-w-44">
                <div className="flex items-start gap-2">
                  <span className="mt-0.5 flex size-7 shrink-0 items-center justify-center rounded-md bg-brand-50 text-brand-700" title={TYPE_LABELS[c.discountType]}>
                    <Icon className="size-4" aria-hidden="true" />
                  </span>
                  <div className="min-w-0">
                    <p className="font-medium text-slate-900" data-testid="coupon-discount">{describeDiscount(c)}</p>
                    {conditions.length > 0 ? <p className="text-xs text-slate-600">{conditions.join(' · ')}</p> : null}
                    {c.description ? <p className="max-w-xs truncate text-xs text-slate-500" title={c.description}>{c.description}</p> : null}
                  </div>
                </div>
              </TD>
              <TD><Badge variant={STATUS_VARIANTS[c.status]} data-testid="coupon-status">{STATUS_LABELS[c.status]}</Badge></TD>
              <TD className="whitespace-nowrap text-right tabular-nums">
                <span title={c.usageLimit == null ? 'No usage limit' : undefined}>{formatUses(c)}</span>
                <p className="text-xs text-slate-600">{formatMoney(c.totalDiscountAmount)} given</p>
                {c.rejectedCount > 0 ? (
                  <p className="text-xs font-medium text-red-700">{formatNumber(c.rejectedCount)} rejected</p>
                ) : null}
              </TD>
              <TD className="whitespace-nowrap">
                <Expiry c={c} />
              </TD>
              <TD>
                <div className="flex justify-end gap-1">
                  <Button variant="ghost" size="sm" onClick={() => onViewUses(c)} aria-label={`View uses of ${c.code}`} title="View uses">
                    <ListOrdered className="size-4" aria-hidden="true" />
                  </Button>
                  {editable ? (
                    <Button variant="ghost" size="sm" onClick={() => onEdit(c)} aria-label={`Edit ${c.code}`} title="Edit">
                      <Pencil className="size-4" aria-hidden="true" />
                    </Button>
                  ) : <Gap />}
                  {toggle && ToggleIcon ? (
                    <Button variant="ghost" size="sm" onClick={() => onToggle(c)} loading={togglingId === c.id}
                      aria-label={`${TOGGLE[toggle].label} ${c.code}`} title={TOGGLE[toggle].label}>
                      {togglingId === c.id ? null : <ToggleIcon className="size-4" aria-hidden="true" />}
                    </Button>
                  ) : <Gap />}
                  {editable ? (
                    <Button variant="ghost" size="sm" onClick={() => onDelete(c)} aria-label={`Delete ${c.code}`} title="Delete"
                      className="text-red-700 hover:bg-red-50">
                      <Trash2 className="size-4" aria-hidden="true" />
                    </Button>
                  ) : <Gap />}
                </div>
              </TD>
            </TR>
          );
        })}
      </TBody>
    </Table>
  );
}
