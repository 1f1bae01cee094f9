import { connect, db, type Sql, type Tx } from '@/lib/db';

/** `size` connections for racing transactions, and one more that holds the starting gate. */
export interface RacePools {
  pool: Sql;
  gate: Sql;
}

export function openRacePools(size: number): RacePools {
  return { pool: connect(process.env.DATABASE_URL ?? '', size), gate: connect(process.env.DATABASE_URL ?? '', 1) };
}

export async function closeRacePools({ pool, gate }: RacePools): Promise<void> {
  await pool.end();
  await gate.end();
}

/**
 * Run `fn` in `n` transactions on `n` real connections, released at the same instant: each
 * waits on an advisory lock the test holds, then all go at once.
 */
export async function raceOn<T>({ pool, gate }: RacePools, n: number, fn: (tx: Tx, i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const key = Math.floor(Math.random() * 1e9);
  const reserved = await gate.reserve();
  await reserved`select pg_advisory_lock(${key})`;
  const runs = Array.from({ length: n }, (_, i) =>
    pool.begin(async (tx) => {
      await tx`select pg_advisory_lock_shared(${key})`;
      await tx`select pg_advisory_unlock_shared(${key})`;
      return fn(tx, i);
    }) as Promise<T>);
  // Let every transaction reach the gate before opening it.
  for (let waited = 0; waited < 100; waited++) {
    const [w] = await db()<{ n: number }[]>`
      select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = ${key} and not granted`;
    if ((w?.n ?? 0) >= n) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  await reserved`select pg_advisory_unlock(${key})`;
  reserved.release();
  return Promise.allSettled(runs);
}

/** Until the backend with this pid waits for a lock (so a race is the one the test means). */
export async function waitsForLock(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const [r] = await db()<{ waiting: boolean }[]>`select exists (select 1 from pg_locks where pid = ${pid} and not granted) as waiting`;
    if (r?.waiting) return;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`backend ${pid} never waited for a lock`);
}

/** The backend pid of a reserved connection. */
export async function pidOf(conn: Awaited<ReturnType<Sql['reserve']>>): Promise<number> {
  const [r] = await conn<{ pid: number }[]>`select pg_backend_pid() as pid`;
  return r?.pid ?? -1;
}
