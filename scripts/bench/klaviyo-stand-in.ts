/**
 * The Klaviyo stand-in of the tests, in a process of its own so that answering does not take
 * the sender's CPU: prints {"url"} on its first line, serves until killed. Limits from argv:
 * burst per second and steady per minute.
 */
import { KlaviyoStandIn } from '@/tests/helpers/klaviyo';

const [burst = '350', steady = '3500', key = 'pk_bench_0123456789'] = process.argv.slice(2);
const standIn = await new KlaviyoStandIn({ keys: [key], burstPerSecond: Number(burst), steadyPerMinute: Number(steady) }).start();
console.log(JSON.stringify({ url: standIn.url }));
process.on('SIGTERM', () => void standIn.stop().then(() => process.exit(0)));
