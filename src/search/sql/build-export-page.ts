/**
 * The SQL of one page of a Bulk Data export (https://hl7.org/fhir/uv/bulkdata/export.html): the
 * resources of one type as they were at the export's `transactionTime`, after a key, in key
 * order, optionally modified after `_since`, matching its `_typeFilter`s and in the Patient
 * compartment of some patients. Pure: it writes SQL text and runs nothing.
 *
 * The snapshot: a resource whose current version is from at or before `transactionTime` is
 * exported as it is (unless it is a deletion); one changed since is exported as the version that
 * was current at `transactionTime`, read from `resource_history` (and left out when that was a
 * deletion, or when it did not exist yet). `_typeFilter` criteria and compartment membership are
 * matched against the search index, which holds the current versions. A Binary is exported with
 * its bytes as `data`, as FHIR JSON carries them.
 */
import type { FhirModel } from '../../fhir/fhir-model.ts';
import type { SearchCriterion } from '../search-request.ts';
import { criterionSql } from './criterion-sql.ts';
import { SqlParams } from './sql-params.ts';

/** What one export page selects. */
export interface ExportPageRequest {
  resourceType: string;
  /** The export's `transactionTime`. */
  transactionTime: Date;
  /** `_since`: only versions last updated after it. */
  since?: Date;
  /** The last id of the previous page ('' for the first). */
  afterId: string;
  /** Rows at most. */
  limit: number;
  /** `_typeFilter`s of this type, each an AND of criteria; a resource matching any one is exported. */
  filters: readonly SearchCriterion[][];
  /**
   * Patient-level and Group-level exports: the parameters of this type that put it in a patient's
   * compartment (`self` for Patient itself), and the patients (undefined: any patient).
   */
  compartment?: { params: readonly string[]; patientIds?: readonly string[] };
}

/** A page's SQL: it selects `id` and `content` (the NDJSON line), in id order. */
export interface ExportPageQuery {
  sql: string;
  params: unknown[];
}

/** The compartment condition on `r` ({@link ExportPageRequest.compartment}). */
function compartmentSql(compartment: NonNullable<ExportPageRequest['compartment']>, p: SqlParams): string {
  const { params, patientIds } = compartment;
  if (params.includes('self')) return patientIds ? `r.id = ANY(${p.add(patientIds, 'text[]')})` : 'true';
  const targets = patientIds ? ` AND c.target_id = ANY(${p.add(patientIds, 'text[]')})` : '';
  return `EXISTS (SELECT 1 FROM search_reference c WHERE c.resource_type = r.resource_type AND c.resource_id = r.id
      AND c.param = ANY(${p.add(params, 'text[]')}) AND c.target_type = 'Patient'${targets})`;
}

/** Builds the SQL of one export page. */
export function buildExportPage(request: ExportPageRequest, model: FhirModel, fhirBaseUrl: string): ExportPageQuery {
  const p = new SqlParams();
  const at = p.add(request.transactionTime.toISOString(), 'timestamptz');
  const since = request.since ? p.add(request.since.toISOString(), 'timestamptz') : undefined;
  const atVersion = (column: string) => `(SELECT ${column} FROM resource_history h
      WHERE h.resource_type = r.resource_type AND h.id = r.id AND h.last_updated <= ${at}${since ? ` AND h.last_updated > ${since}` : ''}
      ORDER BY h.version_id DESC LIMIT 1)`;
  const conditions = [
    `r.resource_type = ${p.add(request.resourceType)}`,
    `r.id > ${p.add(request.afterId)}`,
    ...(since ? [`r.last_updated > ${since}`] : []),
    `CASE WHEN r.last_updated <= ${at} THEN NOT r.deleted ELSE coalesce(${atVersion('NOT h.deleted')}, false) END`,
  ];
  if (request.filters.length > 0) {
    let aliases = 0;
    const ctx = { model, params: p, fhirBaseUrl, nextAlias: () => `f${aliases++}` };
    const each = request.filters.map((criteria) => (criteria.length === 0 ? 'true' : criteria.map((c) => criterionSql(c, 'r', ctx)).join(' AND ')));
    conditions.push(`(${each.map((c) => `(${c})`).join(' OR ')})`);
  }
  if (request.compartment) conditions.push(compartmentSql(request.compartment, p));
  const content = `CASE WHEN r.last_updated <= ${at} THEN r.content::text ELSE ${atVersion('h.content::text')} END`;
  const binary = request.resourceType === 'Binary';
  const version = binary ? `, CASE WHEN r.last_updated <= ${at} THEN r.version_id ELSE ${atVersion('h.version_id')} END AS version_id` : '';
  const page = `SELECT r.id, ${content} AS content${version}
    FROM resource r
   WHERE ${conditions.join('\n     AND ')}
   ORDER BY r.id
   LIMIT ${p.add(request.limit, 'int')}`;
  return { sql: binary ? withBinaryData(page) : page, params: p.values };
}

/**
 * A Binary page with each version's bytes put back as `data` (base64), as a FHIR JSON Binary
 * carries them: the store keeps them outside the JSON (src/store/binary-store.ts), in chunks whose
 * sizes are multiples of 3 bytes, so their base64 texts concatenate. Spliced into the JSON text
 * (the stored object always ends with `}`), so its members keep their order.
 */
function withBinaryData(page: string): string {
  const data = `(SELECT string_agg(translate(encode(c.data, 'base64'), E'\\n', ''), '' ORDER BY c.chunk_no)
      FROM binary_chunk c WHERE c.blob_id = b.blob_id)`;
  return `SELECT x.id, CASE WHEN d.data IS NULL THEN x.content
           ELSE left(x.content, -1) || ',"data":"' || d.data || '"}' END AS content
    FROM (${page}) x
    LEFT JOIN binary_content b ON b.id = x.id AND b.version_id = x.version_id
    LEFT JOIN LATERAL (SELECT ${data} AS data) d ON true
   ORDER BY x.id`;
}
