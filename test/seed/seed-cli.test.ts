import { describe, expect, it } from 'vitest';
import { SeedArgsError, parseScale, parseSeedArgs } from '../../scripts/seed/parse-seed-args.ts';
import { ProgressBar, formatDuration, renderProgress } from '../../scripts/seed/progress-bar.ts';

describe('parseSeedArgs', () => {
  it('reads 10k, 100k, 1m and plain numbers as the scale', () => {
    expect(parseScale('10k')).toBe(10_000);
    expect(parseScale('100K')).toBe(100_000);
    expect(parseScale('1m')).toBe(1_000_000);
    expect(parseScale('600')).toBe(600);
    expect(parseScale('10_000')).toBe(10_000);
    expect(() => parseScale('lots')).toThrow(SeedArgsError);
    expect(() => parseScale('0')).toThrow(SeedArgsError);
  });

  it('defaults to 10k resources, seed 1, two bundles in flight, an in-process server', () => {
    expect(parseSeedArgs([])).toEqual({ scale: 10_000, seed: 1, concurrency: 2, bundleSize: 500, help: false });
  });

  it('takes --name value and --name=value, and the FHIR base as the server URL', () => {
    expect(parseSeedArgs(['--scale=1m', '--seed', '42', '--url', 'http://localhost:8080/fhir/', '--token', 't', '--concurrency=4']))
      .toMatchObject({ scale: 1_000_000, seed: 42, url: 'http://localhost:8080', token: 't', concurrency: 4 });
  });

  it('refuses --url without credentials, credentials without --url, and unknown arguments', () => {
    expect(() => parseSeedArgs(['--url', 'http://localhost:8080'])).toThrow(/--token or --refresh-token/);
    expect(() => parseSeedArgs(['--token', 'x'])).toThrow(/go with --url/);
    expect(() => parseSeedArgs(['--scale'])).toThrow(/needs a value/);
    expect(() => parseSeedArgs(['--frobnicate', '1'])).toThrow(/unknown argument/);
    expect(() => parseSeedArgs(['--seed', '-1'])).toThrow(SeedArgsError);
  });
});

describe('ProgressBar', () => {
  it('renders done/total, rate and eta', () => {
    expect(renderProgress(4500, 10_000, 3000)).toBe('[##############................] 4,500/10,000 resources  1,500/s  eta 4s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(3720)).toBe('1h02m');
  });

  it('prints a line per tenth when stderr is not a terminal', () => {
    const lines: string[] = [];
    let t = 0;
    const bar = new ProgressBar(1000, { write: (s: string) => lines.push(s) }, () => t);
    for (let i = 0; i < 100; i++) { t += 10; bar.advance(10); }
    bar.finish();
    expect(lines).toHaveLength(10);
    expect(lines[9]).toContain('1,000/1,000 resources');
    expect(lines.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
  });

  it('redraws in place on a terminal, at most every 100 ms', () => {
    const out: string[] = [];
    let t = 0;
    const bar = new ProgressBar(1000, { write: (s: string) => out.push(s), isTTY: true }, () => t);
    for (let i = 0; i < 100; i++) { t += 10; bar.advance(10); }
    bar.finish();
    expect(out.length).toBeLessThanOrEqual(13);
    expect(out.every((s) => s.startsWith('\r'))).toBe(true);
    expect(out[out.length - 1].endsWith('\n')).toBe(true);
  });
});
