/**
 * The shape of the committed FHIR R4 type model (`src/fhir/generated/fhir-model.json`), derived
 * once from the StructureDefinitions, ValueSets, CodeSystems and SearchParameters of
 * `hl7.fhir.r4.examples@4.0.1` by `npm run codegen`.
 * https://hl7.org/fhir/R4/structuredefinition.html
 */

/** Kinds of StructureDefinition kept in the model (R4 `StructureDefinition.kind`). */
export type TypeKind = 'primitive-type' | 'complex-type' | 'resource';

/** One allowed type of an element (R4 `ElementDefinition.type`). */
export interface TypeRef {
  /** A FHIR type name (`string`, `CodeableConcept`, `Reference`, `BackboneElement`, ...). */
  code: string;
  /** For `Reference`/`canonical`: the type names of `targetProfile` (absent = any). */
  targets?: string[];
}

/** A terminology binding (R4 `ElementDefinition.binding`). */
export interface BindingDef {
  strength: 'required' | 'extensible' | 'preferred' | 'example';
  /** The value set canonical URL without its `|version` suffix. */
  valueSet?: string;
}

/** One element of a type's snapshot (R4 `ElementDefinition`), the root element excluded. */
export interface ElementDef {
  /** Full path, e.g. `Observation.value[x]` or `Questionnaire.item.item`. */
  path: string;
  min: number;
  /** `'*'` or a decimal integer. */
  max: string;
  /** Allowed types; absent when {@link contentReference} is set. */
  types?: TypeRef[];
  /** `#Path` of the element whose definition this one reuses (e.g. `#Questionnaire.item`). */
  contentReference?: string;
  binding?: BindingDef;
  /** `isSummary` (drives `_summary=true`). */
  summary?: true;
  /** `isModifier`. */
  modifier?: true;
  /** For a primitive type's `value` element: the R4 regex, as published. */
  regex?: string;
}

/** A type: a resource, a complex datatype or a primitive type (R4 StructureDefinition). */
export interface TypeDef {
  kind: TypeKind;
  abstract?: true;
  /** Name of the base type (`DomainResource`, `Element`, ...); absent for `Resource`/`Element`. */
  base?: string;
  elements: ElementDef[];
}

/** How a value set used by a required binding is checked. */
export type ValueSetFormat = 'mime-type' | 'currency' | 'ucum' | 'loinc-answer' | 'any';

/**
 * A value set used by a required binding: its expansion as codes per system, or (when the
 * package cannot expand it) a format check. https://hl7.org/fhir/R4/valueset.html
 */
export interface ValueSetDef {
  /** Expanded codes keyed by code system URL. */
  codes?: Record<string, string[]>;
  /** Set when the value set cannot be expanded from the package: check the code's shape only. */
  format?: ValueSetFormat;
}

/** A search parameter definition (R4 SearchParameter), xpath dropped. https://hl7.org/fhir/R4/searchparameter.html */
export interface SearchParamDef {
  url: string;
  code: string;
  type: 'number' | 'date' | 'string' | 'token' | 'reference' | 'composite' | 'quantity' | 'uri' | 'special';
  base: string[];
  expression?: string;
  target?: string[];
  modifier?: string[];
  comparator?: string[];
  multipleOr?: boolean;
  multipleAnd?: boolean;
  component?: { definition: string; expression: string }[];
}

/** The whole model. */
export interface FhirModelData {
  fhirVersion: string;
  types: Record<string, TypeDef>;
  valueSets: Record<string, ValueSetDef>;
  searchParams: SearchParamDef[];
  /**
   * Compartments (R4 CompartmentDefinition): for each compartment type (`Patient`, `Encounter`,
   * `RelatedPerson`, `Practitioner`, `Device`), the parameters of each resource type that link a
   * resource into it. https://hl7.org/fhir/R4/compartmentdefinition.html
   */
  compartments: Record<string, Record<string, string[]>>;
}
