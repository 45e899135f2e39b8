/**
 * `npm run seed -- --scale 10k|100k|1m [--seed N] [--url URL --token T | --refresh-token RT]
 * [--concurrency N]`: loads deterministic synthetic clinical data through the server's own
 * transaction endpoint, with a progress bar on stderr and a JSON summary on stdout. Without
 * `--url` it starts the server in process (on `DATABASE_URL`, or the embedded PostgreSQL in
 * `DATA_DIR`), authenticates as a temporary admin client, and stops everything at the end.
 */
import { createClient, disableClientById } from '../src/auth/client-admin.ts';
import { loadConfig } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/http/start-server.ts';
import { generateBundles, planSeed } from './seed/generate-bundles.ts';
import { loadBundles, refreshTokenSource, staticTokenSource, type TokenSource } from './seed/load-bundles.ts';
import { SEED_USAGE, SeedArgsError, parseSeedArgs } from './seed/parse-seed-args.ts';
import { ProgressBar } from './seed/progress-bar.ts';

function log(message: string): void {
  process.stderr.write(`seed: ${message}\n`);
}

async function main(): Promise<number> {
  const args = parseSeedArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${SEED_USAGE}\n`);
    return 0;
  }
  const plan = planSeed({ scale: args.scale, seed: args.seed, bundleSize: args.bundleSize });
  const abort = new AbortController();
  // First signal: finish the bundles in flight, then stop the server cleanly. Second: leave now.
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(130);
    log('interrupted: finishing the bundles in flight (again to quit at once)');
    abort.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let server: RunningServer | undefined;
  let seedClient: string | undefined;
  try {
    let baseUrl: string;
    let tokens: TokenSource;
    if (args.url) {
      baseUrl = args.url;
      tokens = args.token ? staticTokenSource(args.token) : refreshTokenSource(baseUrl, args.refreshToken!);
    } else {
      log('starting the server in process');
      server = await startServer(loadConfig(process.env, { port: 0, metrics: { host: '127.0.0.1', port: 0 } }), { logger: false, log });
      baseUrl = server.url;
      const client = await createClient(server.service.db, { name: 'seed', scope: 'system/*.*', admin: true, rate: '0/s,0/min' });
      seedClient = client.client_id;
      tokens = refreshTokenSource(baseUrl, client.refresh_token!);
    }
    await tokens.current();
    log(`loading ${plan.resources.toLocaleString('en-US')} resources (${plan.patients} patients, ${plan.practitioners} practitioners, ${plan.organizations} organizations) into ${baseUrl}/fhir, seed ${plan.seed}`);
    const progress = new ProgressBar(plan.resources, process.stderr);
    const started = performance.now();
    const result = await loadBundles(generateBundles(plan), {
      baseUrl, tokens, concurrency: args.concurrency, signal: abort.signal, onStored: (n) => progress.advance(n),
    }).finally(() => progress.finish());
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`${JSON.stringify({
      resources: result.resources,
      bundles: result.bundles,
      seconds: Math.round(seconds * 100) / 100,
      resourcesPerSecond: Math.round(result.resources / seconds),
      seed: plan.seed,
      scale: plan.scale,
    })}\n`);
    return 0;
  } finally {
    if (server) {
      // The temporary client's refresh token was never shown; disable it so it cannot outlive the run.
      if (seedClient) await disableClientById(server.service.db, seedClient).catch(() => undefined);
      await server.close();
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof SeedArgsError) {
      process.stderr.write(`seed: ${err.message}\n${SEED_USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    const interrupted = (err as Error)?.name === 'AbortError' || (err as Error)?.message === 'interrupted';
    log(interrupted ? 'interrupted' : (err as Error)?.message ?? String(err));
    process.exitCode = interrupted ? 130 : 1;
  },
).finally(() => {
  // Whatever is still open (keep-alive sockets, timers) must not hold the process once the work is done.
  setTimeout(() => process.exit(), 2000).unref();
});
