import type { RateState } from '@/lib/klaviyo/client';

/**
 * Keeps one process's requests to Klaviyo under an account's limits, per merchant: Klaviyo
 * counts in two fixed windows, a burst of 1 s and a steady minute, and answers 429 past either.
 * Windows start on the second and the minute, as fixed windows do. The steady limit and what
 * remains of it come from the RateLimit-* headers once Klaviyo has answered; a 429's
 * Retry-After stops the merchant's requests until then. Several processes each pace
 * themselves; what they exceed together comes back as 429 and is deferred, not failed.
 */
export interface PacerLimits {
  burstPerSecond: number;
  steadyPerMinute: number;
}

/**
 * Klaviyo's documented limits of the endpoints we call in volume, per account: each endpoint
 * has windows of its own (Create Event is XL; the bulk import and list membership calls M;
 * Get Profiles L).
 */
export const LIMITS = {
  events: { burstPerSecond: 350, steadyPerMinute: 3500 },
  bulkImport: { burstPerSecond: 10, steadyPerMinute: 150 },
  getProfiles: { burstPerSecond: 75, steadyPerMinute: 700 },
  listProfiles: { burstPerSecond: 10, steadyPerMinute: 150 },
  createList: { burstPerSecond: 10, steadyPerMinute: 150 },
} as const satisfies Record<string, PacerLimits>;
export type Endpoint = keyof typeof LIMITS;

/** Klaviyo's documented limits for POST /api/events (the XL tier). */
export const EVENT_LIMITS: PacerLimits = LIMITS.events;

interface Account {
  second: number;
  inSecond: number;
  minute: number;
  inMinute: number;
  steadyLimit: number;
  blockedUntil: number;
}

export class Pacer {
  private readonly accounts = new Map<string, Account>();

  constructor(private readonly limits: PacerLimits = EVENT_LIMITS) {}

  private account(key: string): Account {
    let a = this.accounts.get(key);
    if (!a) {
      a = { second: 0, inSecond: 0, minute: 0, inMinute: 0, steadyLimit: this.limits.steadyPerMinute, blockedUntil: 0 };
      this.accounts.set(key, a);
    }
    return a;
  }

  /**
   * Take a slot for one request now, or say how long to wait: 0 means go (and it is counted);
   * more means nothing was taken, ask again after that many milliseconds.
   */
  reserve(key: string, now = Date.now()): number {
    const a = this.account(key);
    if (now < a.blockedUntil) return a.blockedUntil - now;
    const second = Math.floor(now / 1000);
    const minute = Math.floor(now / 60_000);
    if (second !== a.second) {
      a.second = second;
      a.inSecond = 0;
    }
    if (minute !== a.minute) {
      a.minute = minute;
      a.inMinute = 0;
    }
    if (a.inMinute >= a.steadyLimit) return (minute + 1) * 60_000 - now;
    if (a.inSecond >= this.limits.burstPerSecond) return (second + 1) * 1000 - now;
    a.inSecond += 1;
    a.inMinute += 1;
    return 0;
  }

  /** What Klaviyo said of the steady window: its limit, and none left means wait for its reset. */
  observe(key: string, rate: RateState, now = Date.now()): void {
    const a = this.account(key);
    if (rate.limit !== null && rate.limit > 0) a.steadyLimit = rate.limit;
    if (rate.remaining !== null && rate.remaining <= 0 && rate.resetSeconds !== null) {
      a.blockedUntil = Math.max(a.blockedUntil, now + rate.resetSeconds * 1000);
    }
  }

  /** Klaviyo answered 429: nothing more for this merchant until Retry-After has passed. */
  block(key: string, untilMs: number): void {
    const a = this.account(key);
    a.blockedUntil = Math.max(a.blockedUntil, untilMs);
  }
}

// One pacer per endpoint and process: every concurrent job of a merchant shares its windows.
const holder = globalThis as typeof globalThis & { __havenKlaviyoPacers?: Map<Endpoint, Pacer> };
export function processPacer(endpoint: Endpoint): Pacer {
  holder.__havenKlaviyoPacers ??= new Map();
  let pacer = holder.__havenKlaviyoPacers.get(endpoint);
  if (!pacer) {
    pacer = new Pacer(LIMITS[endpoint]);
    holder.__havenKlaviyoPacers.set(endpoint, pacer);
  }
  return pacer;
}
