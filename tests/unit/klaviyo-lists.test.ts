import { describe, expect, it } from 'vitest';
import { importJobs } from '@/lib/klaviyo/lists';

const body = (profiles: unknown[]) => JSON.stringify({ data: { type: 'profile-bulk-import-job', attributes: { profiles: { data: profiles.map((attributes) => ({ type: 'profile', attributes })) } } } });

describe('bulk import jobs of a list sync', () => {
  it('holds at most 10,000 profiles a job', () => {
    const adds = Array.from({ length: 25_001 }, (_, i) => ({ email: `p${i}@example.test`, firstName: null, lastName: null }));
    const jobs = importJobs(adds);
    expect(jobs.map((j) => j.length)).toEqual([10_000, 10_000, 5_001]);
    expect(jobs.flat().map((p) => p.email)).toEqual(adds.map((a) => a.email));
  });

  it('cuts a job before its body reaches Klaviyo\'s 5 MB', () => {
    // Names of 250 characters, each two bytes in UTF-8: the limit is in bytes.
    const long = 'é'.repeat(250);
    const adds = Array.from({ length: 10_000 }, (_, i) => ({ email: `p${i}@example.test`, firstName: long, lastName: long }));
    const jobs = importJobs(adds);
    expect(jobs.length).toBeGreaterThan(1);
    for (const job of jobs) expect(Buffer.byteLength(body(job))).toBeLessThan(5_000_000);
    expect(jobs.flat()).toHaveLength(10_000);
  });
});
