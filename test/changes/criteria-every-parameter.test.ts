/**
 * Change criteria mean what the REST search means, for every R4 (type, search parameter) pair:
 * the search coverage fixtures (`test/fixtures/search-param-synthetic.json`, the ones
 * `test/search/search-param-queries.test.ts` finds over REST while missing their near-misses) are
 * matched in memory against the criteria built from the fixture's own index row, and the fixture
 * must match while its near-miss must not. Pure: no database (no pair's query is a chain).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { matchesCriteria, parseChangeCriteria } from '../../src/changes/index.ts';
import { indexVersion } from '../../src/changes/match/indexed-version.ts';
import { DEFAULT_LIMITS } from '../../src/config.ts';
import { stringifyFhirJson } from '../../src/fhir/fhir-json.ts';
import { loadFhirModel } from '../../src/fhir/fhir-model.ts';
import { extractIndexRows, type IndexRow } from '../../src/search/extract-index-rows.ts';
import type { SyntheticFixture } from '../helpers/synthetic-fixtures/build-synthetic-fixtures.ts';
import { buildStoredResource, type FhirResource } from '../../src/service/resource-content.ts';
import type { Queryable } from '../../src/store/database.ts';
import { searchQueryForRow } from '../helpers/search-query-for-row.ts';

const BASE = 'http://fhirgraph.test/fhir';
const model = loadFhirModel();
const synthetic = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/search-param-synthetic.json', import.meta.url)), 'utf8')) as SyntheticFixture[];
const unsupported = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/search-param-query-unsupported.json', import.meta.url)), 'utf8')) as { resourceType: string; param: string }[];
/** Never asked: none of these criteria has a chain or `_has`. */
const noDatabase: Queryable = { query: () => { throw new Error('the in-memory criteria asked the database'); } };

function stored(resource: Record<string, unknown>, id: string, at: Date) {
  const content = stringifyFhirJson(buildStoredResource(resource as FhirResource, id, 1, at));
  return indexVersion({ resourceType: String(resource.resourceType), id, versionId: 1, lastUpdated: at, deleted: false, content }, BASE)!;
}

/** The first row of `param` on the fixture that the near-miss lacks (as the REST coverage test picks it). */
function rowFor(fixture: IndexRow[], nearMiss: IndexRow[], param: string): IndexRow | undefined {
  const rows = fixture.filter((r) => r.param === param);
  const missed = new Set(nearMiss.filter((r) => r.param === param).map((r) => JSON.stringify(r)));
  return rows.find((r) => !missed.has(JSON.stringify(r))) ?? rows[0];
}

describe('change criteria on every R4 search parameter', () => {
  it('match each coverage fixture and miss its near-miss, as the REST search does', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const source of synthetic) {
      const fixture = stored(source.fixture, 'fixture', new Date('2024-01-01T10:00:00.000Z'));
      const nearMiss = stored(source.nearMiss, 'near-miss', new Date('2024-01-01T10:00:00.005Z'));
      const fixtureRows = [...fixture.rows.values()].flat();
      const nearMissRows = [...nearMiss.rows.values()].flat();
      for (const param of source.params) {
        if (unsupported.some((u) => (u.resourceType === source.resourceType || u.resourceType === '*') && u.param === param)) continue;
        const def = model.getSearchParam(source.resourceType, param)!;
        const row = rowFor(fixtureRows, nearMissRows, param);
        const query = row && searchQueryForRow(row, def);
        if (!query || 'unsupported' in query) {
          failures.push(`${source.resourceType}.${param}: no query`);
          continue;
        }
        const text = new URLSearchParams(query.params).toString();
        try {
          const criteria = parseChangeCriteria(text, { resourceType: source.resourceType, limits: DEFAULT_LIMITS.search, fhirBaseUrl: BASE });
          const hit = await matchesCriteria(criteria, fixture, noDatabase);
          const miss = await matchesCriteria(criteria, nearMiss, noDatabase);
          if (!hit || miss) failures.push(`${source.resourceType}?${text}: ${!hit ? 'fixture not matched' : ''}${miss ? ' near-miss matched' : ''}`);
        } catch (err) {
          failures.push(`${source.resourceType}?${text}: ${(err as Error).message}`);
        }
        checked++;
      }
    }
    console.log(`change criteria: ${checked} (type, parameter) pairs checked in memory, ${failures.length} failing`);
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(1000);
  });

  it('rows extracted in memory are the rows the store indexes', () => {
    const source = synthetic.find((s) => s.resourceType === 'Observation')!;
    const at = new Date('2024-01-01T10:00:00.000Z');
    const resource = buildStoredResource(source.fixture as FhirResource, 'x', 1, at);
    const sorted = (rows: IndexRow[]) => rows.map((r) => JSON.stringify(r)).sort();
    expect(sorted([...stored(source.fixture, 'x', at).rows.values()].flat())).toEqual(sorted(extractIndexRows(resource, { baseUrl: BASE })));
  });
});
