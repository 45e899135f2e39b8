/**
 * An OTLP/HTTP receiver that reads each export and answers 200 with nothing, for the bench's
 * "tracing on" variant (`telemetry-cost.ts`). It runs in a process of its own: in the bench's it
 * would take CPU from the load generator. It reports the exports and bytes it got when stopped.
 */
import { spawn } from 'node:child_process';
import { freePort } from './child-process.ts';

const RECEIVER_SCRIPT = `
let exports = 0, bytes = 0;
const server = require('node:http').createServer((req, res) => {
  req.on('data', (chunk) => { bytes += chunk.length; });
  req.on('end', () => { exports += 1; res.writeHead(200, { 'content-type': req.headers['content-type'] || 'application/x-protobuf' }).end(); });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => { process.stderr.write(JSON.stringify({ exports, bytes }) + '\\n'); process.exit(0); });
`;

/** A running receiver: its base URL (for `OTEL_EXPORTER_OTLP_ENDPOINT`) and its stop. */
export interface DiscardingReceiver {
  url: string;
  stop(): Promise<{ exports: number; bytes: number }>;
}

/** Starts a receiver on a free loopback port. */
export async function startDiscardingReceiver(): Promise<DiscardingReceiver> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', RECEIVER_SCRIPT], { env: { PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let report = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { report += chunk; });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { if (chunk.includes('listening')) resolve(); });
    child.once('exit', () => reject(new Error(`the OTLP receiver exited: ${report}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(report.trim().split('\n').pop() || '{}') as { exports: number; bytes: number };
    },
  };
}
