import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** Percentile of a sorted-on-demand list of milliseconds. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? 0;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, value };
}

export function machine(): string {
  return `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, embedded PostgreSQL 17 (fsync off)`;
}

/** The machine's CPU time so far, from /proc/stat (Linux): all of it, and what the hypervisor took for other guests (steal). */
export function cpuTicks(): { total: number; steal: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal guest guest_nice: guest time is inside user already.
    return { total: fields.slice(0, 8).reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
  } catch {
    return { total: 0, steal: 0 };
  }
}

/** The share of CPU time stolen between two readings of `cpuTicks` (0 where /proc/stat is missing). */
export const stealShare = (a: { total: number; steal: number }, b: { total: number; steal: number }) =>
  b.total > a.total ? (b.steal - a.steal) / (b.total - a.total) : 0;

export const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

/** Serve the production build (built first if missing) with `npm start`'s server against `env`; resolves when it answers. */
export async function startNext(port: number, env: Record<string, string>): Promise<ChildProcess> {
  if (!existsSync('.next/BUILD_ID')) {
    const build = spawnSync('node_modules/.bin/next', ['build'], { stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
    if (build.status !== 0) throw new Error('next build failed');
  }
  const child = spawn('node_modules/.bin/tsx', ['scripts/start.ts'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...env, PORT: String(port), HOSTNAME: '127.0.0.1', NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/login`);
      if (res.status < 500) return child;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill();
  throw new Error('next start did not come up');
}

/** Resident memory of a process and every process under it (`npm start` is tsx's child), in bytes, from /proc. */
export function treeRss(pid: number): number {
  const read = (p: number): number => {
    let bytes = 0;
    try {
      bytes = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) * 1024;
      for (const task of readdirSync(`/proc/${p}/task`)) {
        for (const child of readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) bytes += read(Number(child));
      }
    } catch {
      // gone meanwhile
    }
    return bytes;
  };
  return read(pid);
}

export interface StandInStats {
  requests: number;
  accepted: number;
  rateLimited: number;
  repeated: number;
  first: number | null;
  last: number | null;
  /** Requests by endpoint ("POST /api/profile-bulk-import-jobs"), with the most in one fixed second. */
  endpoints: Record<string, { requests: number; busiestSecond: number }>;
  /** Members of each list, by name. */
  lists: Record<string, number>;
}

/** The Klaviyo stand-in in its own process, Create Event limited to `burst` a second (the other endpoints to Klaviyo's documented limits); its URL and a way to read its counts. */
export async function startStandIn(burst: number, steady: number, key: string) {
  const child = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', path.resolve('scripts/bench/klaviyo-stand-in.ts'),
    String(burst), String(steady), key], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the stand-in exited with ${code}`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  return {
    url,
    stats: async () => (await (await fetch(`${url}/__stand-in/stats`)).json()) as StandInStats,
    stop: () => child.kill('SIGTERM'),
  };
}

