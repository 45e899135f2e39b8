/**
 * The metrics' pure parts, as a scraper sees them: the compact histogram's exposition (cumulative
 * buckets, `+Inf`, sum and count), bounded operation-name labels, statement labels.
 */
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { ANONYMOUS_LABEL, BoundedLabels, CompactHistogram, OTHER_LABEL, statementLabel } from '../../src/telemetry/metrics/index.ts';

describe('CompactHistogram', () => {
  it('exposes cumulative buckets with le, +Inf, sum and count per series, and resets', async () => {
    const registry = new Registry();
    const histogram = new CompactHistogram('test_seconds', 'A test.', [0.1, 1], registry);
    const a = histogram.series({ kind: 'a' });
    for (const value of [0.05, 0.1, 0.5, 3]) a.observe(value);
    histogram.series({ kind: 'b' });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE test_seconds histogram');
    expect(text).toContain('test_seconds_bucket{kind="a",le="0.1"} 2\n');
    expect(text).toContain('test_seconds_bucket{kind="a",le="1"} 3\n');
    expect(text).toContain('test_seconds_bucket{kind="a",le="+Inf"} 4\n');
    expect(text).toContain('test_seconds_sum{kind="a"} 3.65\n');
    expect(text).toContain('test_seconds_count{kind="a"} 4\n');
    expect(text).toContain('test_seconds_count{kind="b"} 0\n');
    registry.resetMetrics();
    expect(await registry.metrics()).toContain('test_seconds_count{kind="a"} 0\n');
  });
});

describe('BoundedLabels', () => {
  it('keeps the first N well-formed names, then (other); none is (anonymous)', () => {
    const labels = new BoundedLabels(2);
    expect(labels.labelOf(undefined)).toBe(ANONYMOUS_LABEL);
    expect(labels.labelOf('')).toBe(ANONYMOUS_LABEL);
    expect(labels.labelOf('One')).toBe('One');
    expect(labels.labelOf(`x${'y'.repeat(64)}`)).toBe(OTHER_LABEL);
    expect(labels.labelOf('not a name')).toBe(OTHER_LABEL);
    expect(labels.labelOf('Two')).toBe('Two');
    expect(labels.labelOf('Three')).toBe(OTHER_LABEL);
    expect(labels.labelOf('One')).toBe('One');
  });
});

describe('statementLabel', () => {
  it('is the statement name, else its first keyword, never its text', () => {
    expect(statementLabel('SELECT content FROM resource WHERE id = $1', 'read-current')).toBe('read-current');
    expect(statementLabel('\n  WITH x AS (SELECT 1) SELECT * FROM x', undefined)).toBe('with');
    expect(statementLabel('Insert INTO t VALUES ($1)', undefined)).toBe('insert');
    expect(statementLabel("DO $$ BEGIN RAISE 'x'; END $$", undefined)).toBe('other');
  });
});
