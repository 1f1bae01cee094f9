import { z } from 'zod';

// Every environment variable the app reads, validated once with readable errors.
// Parsed lazily so `next build` and scripts can import modules without a full env.
const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: optionalString.pipe(
    z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string').optional(),
  ),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  AUTH_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  APP_ENCRYPTION_KEY: optionalString.pipe(
    z
      .string()
      .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
      .optional(),
  ),
  CRON_SECRET: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  APP_URL: optionalString.pipe(z.url('must be an absolute URL').optional()),
  NEXT_PUBLIC_SUPABASE_URL: optionalString.pipe(z.url('must be an absolute URL').optional()),
  NEXT_PUBLIC_SUPABASE_ANON_KEY: optionalString,
  NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: optionalString,
  KLAVIYO_API_URL: z.url().default('https://a.klaviyo.com'),
  /** The app's client id and secret (Shopify Partners, the app's settings); both or neither. */
  SHOPIFY_API_KEY: optionalString,
  SHOPIFY_API_SECRET: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** Access scopes the app asks for when a shop installs it, comma separated. */
  SHOPIFY_SCOPES: z
    .string()
    .trim()
    .regex(/^[a-z_]+(,[a-z_]+)*$/, 'must be scopes separated by commas, e.g. read_orders,read_customers')
    .default('read_orders,read_customers'),
  /**
   * Tests only: every request to a shop (https://<shop>/...) goes to this origin instead, as
   * <origin>/shops/<shop>/..., where a stand-in speaks Shopify's OAuth and GraphQL protocol.
   */
  SHOPIFY_API_ORIGIN: optionalString.pipe(z.url('must be an absolute URL').optional()),
  /**
   * How long one /api/cron/<job> call works before it stops and leaves the rest to the next
   * call (seconds; a step under way finishes first, and 0 means one step a call). At most 35:
   * the cron route's maxDuration is 60, and the messages job lets the sends under way finish.
   */
  CRON_BUDGET_SECONDS: z.coerce.number().min(0).max(35).default(10),
  /** Jobs (messages to Klaviyo) run at once by `npm run worker` and by each /api/cron/jobs call. */
  JOB_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(16),
  /**
   * How many proxies of ours stand in front of the app, each appending to X-Forwarded-For
   * (0: clients connect to `npm start` directly). Decides which address rate limits key on and
   * whether X-Forwarded-Host/-Proto are believed.
   */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /** Set to 1 by Vercel, whose edge writes the X-Forwarded-* headers itself. */
  VERCEL: optionalString,
});

/**
 * The Shopify app's redirect and webhook address come from APP_URL only, never from a request's
 * Host header (which a caller chooses): the app's credentials need it.
 */
const checked = schema.superRefine((e, ctx) => {
  if (Boolean(e.SHOPIFY_API_KEY) !== Boolean(e.SHOPIFY_API_SECRET)) {
    ctx.addIssue({ code: 'custom', path: ['SHOPIFY_API_SECRET'], message: 'set both SHOPIFY_API_KEY and SHOPIFY_API_SECRET, or neither' });
  }
  if (e.SHOPIFY_API_KEY && !e.APP_URL) {
    ctx.addIssue({ code: 'custom', path: ['APP_URL'], message: 'must be set with SHOPIFY_API_KEY: the install redirect and the webhook address are built from it' });
  }
});

export type Env = z.infer<typeof schema>;

let cached: Env | undefined;

/** The validated environment; throws one readable error listing every bad variable. */
export function env(): Env {
  if (cached) return cached;
  const parsed = checked.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid environment variables:\n${lines.join('\n')}`);
  }
  cached = parsed.data;
  return cached;
}

/** Re-read process.env (tests and scripts that change variables at run time). */
export function reloadEnv(): Env {
  cached = undefined;
  return env();
}

/** Supabase Auth is used only when both public Supabase variables are set. */
export function supabaseConfig(): { url: string; key: string } | null {
  const e = env();
  const key = e.NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY ?? e.NEXT_PUBLIC_SUPABASE_ANON_KEY;
  return e.NEXT_PUBLIC_SUPABASE_URL && key ? { url: e.NEXT_PUBLIC_SUPABASE_URL, key } : null;
}
