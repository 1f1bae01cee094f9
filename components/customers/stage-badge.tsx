import { STAGE_COLORS } from '@/components/customers/labels';
import { cn } from '@/lib/cn';
import { STAGE_LABELS, type Stage } from '@/lib/customers/schemas';

/** Lifecycle stage pill with a colour per stage (text carries the meaning, colour only helps scanning). */
export function StageBadge({ stage, className }: { stage: Stage; className?: string }) {
  return (
    <span
      data-stage={stage}
      className={cn(
        'inline-flex items-center whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset',
        STAGE_COLORS[stage].badge,
        className,
      )}
    >
      {STAGE_LABELS[stage]}
    </span>
  );
}
