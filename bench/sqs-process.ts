import { startSqs } from '#local/standins/sqs.js';

/**
 * The SQS stand-in in a process of its own, for benchmarks that measure the CPU of the process under
 * test: prints its endpoint as one JSON line on stdout, and stops when stdin closes.
 */
const sqs = await startSqs();
process.stdout.write(`${JSON.stringify({ endpoint: sqs.endpoint })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void sqs.stop().then(() => process.exit(0));
});
