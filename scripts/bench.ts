/**
 * `npm run bench -- <suite>`: run a benchmark suite on a throwaway embedded PostgreSQL (or
 * DATABASE_URL) and write its results into docs/benchmarks.md. Targets live here, not in tests.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { runCouponsBench } from '@/scripts/bench/coupons';
import { runGiftsBench } from '@/scripts/bench/gifts';
import { runIngestBench } from '@/scripts/bench/ingest';
import { runJourneyBench } from '@/scripts/bench/journey';
import { runLoyaltyBench } from '@/scripts/bench/loyalty';
import { runPipelineBench } from '@/scripts/bench/pipeline';
import { runScaleBench } from '@/scripts/bench/scale';
import { runWinbackBench } from '@/scripts/bench/winback';

const SUITES: Record<string, () => Promise<string>> = {
  coupons: runCouponsBench,
  gifts: runGiftsBench,
  ingest: runIngestBench,
  journey: runJourneyBench,
  loyalty: runLoyaltyBench,
  pipeline: runPipelineBench,
  scale: runScaleBench,
  winback: runWinbackBench,
};

const name = process.argv[2];
const suite = name ? SUITES[name] : undefined;
if (!suite) {
  console.error(`usage: npm run bench -- <${Object.keys(SUITES).join('|')}>`);
  process.exit(2);
}
const report = await suite();
console.log(`\n${report}`);

// Replace this suite's section of docs/benchmarks.md, keep the others.
const file = 'docs/benchmarks.md';
const current = await readFile(file, 'utf8').catch(() => '# Benchmarks\n\nProduced by `npm run bench -- <suite>`; numbers from the machine named in each section.\n');
const marker = (edge: 'start' | 'end') => `<!-- bench:${name}:${edge} -->`;
const section = `${marker('start')}\n${report}\n${marker('end')}`;
const re = new RegExp(`${marker('start')}[\\s\\S]*?${marker('end')}`);
await writeFile(file, re.test(current) ? current.replace(re, section) : `${current.trimEnd()}\n\n${section}\n`);
console.log(`written to ${file}`);
process.exit(0);
