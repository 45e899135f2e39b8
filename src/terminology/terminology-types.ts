/**
 * The shapes of the terminology resources as the terminology room reads them: the parts of R4
 * `CodeSystem` and `ValueSet` that expansion, lookup and validation need. Stored resources and the
 * built-in ones (generated/, from the R4 definitions package) are read through the same shapes.
 * https://hl7.org/fhir/R4/codesystem.html  https://hl7.org/fhir/R4/valueset.html
 */

/** `CodeSystem.concept.designation` and `ValueSet.compose.include.concept.designation`. */
export interface Designation {
  language?: string;
  use?: { system?: string; code?: string; display?: string };
  value: string;
}

/** `CodeSystem.concept.property`: one value[x]. */
export interface ConceptProperty {
  code: string;
  valueCode?: string;
  valueCoding?: { system?: string; code?: string; display?: string };
  valueString?: string;
  valueInteger?: number;
  valueBoolean?: boolean;
  valueDateTime?: string;
  valueDecimal?: number;
}

/** `CodeSystem.concept`, nested concepts included (the hierarchy). */
export interface ConceptDef {
  code: string;
  display?: string;
  definition?: string;
  designation?: Designation[];
  property?: ConceptProperty[];
  concept?: ConceptDef[];
}

/** A CodeSystem resource. */
export interface CodeSystemResource {
  resourceType: 'CodeSystem';
  id?: string;
  url?: string;
  version?: string;
  name?: string;
  title?: string;
  status?: string;
  content?: string;
  caseSensitive?: boolean;
  hierarchyMeaning?: string;
  property?: { code: string; uri?: string; description?: string; type?: string }[];
  concept?: ConceptDef[];
}

/** `ValueSet.compose.include.filter`. */
export interface ComposeFilter {
  property: string;
  op: string;
  value: string;
}

/** `ValueSet.compose.include` (and `exclude`). */
export interface ComposeInclude {
  system?: string;
  version?: string;
  concept?: { code: string; display?: string; designation?: Designation[] }[];
  filter?: ComposeFilter[];
  valueSet?: string[];
}

/** One code of an expansion (`ValueSet.expansion.contains`, flat). */
export interface ExpansionEntry {
  system: string;
  version?: string;
  code: string;
  display?: string;
  abstract?: boolean;
  inactive?: boolean;
  designation?: Designation[];
  /** Nested entries, only as read from a published expansion (flattened when expanded). */
  contains?: ExpansionEntry[];
}

/** A ValueSet resource. */
export interface ValueSetResource {
  resourceType: 'ValueSet';
  id?: string;
  url?: string;
  version?: string;
  name?: string;
  title?: string;
  status?: string;
  compose?: { inactive?: boolean; include?: ComposeInclude[]; exclude?: ComposeInclude[] };
  expansion?: { contains?: ExpansionEntry[]; [key: string]: unknown };
  [key: string]: unknown;
}

/**
 * Where CodeSystems and ValueSets are found by canonical URL (and version: undefined takes the
 * one the source prefers). Synchronous: the operation layer fetches stored resources before it
 * expands (src/operations/terminology-source.ts), so the expansion itself runs no I/O.
 */
export interface TerminologySource {
  codeSystem(url: string, version?: string): CodeSystemResource | undefined;
  valueSet(url: string, version?: string): ValueSetResource | undefined;
}
