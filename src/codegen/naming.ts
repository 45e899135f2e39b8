/**
 * The one module that converts FHIR names into GraphQL names and back (STYLE.md: "conversion
 * between FHIR and GraphQL names lives in one module"). Every name the schema generator emits is
 * made here, so the resolvers can call the same functions to find their way back to FHIR.
 *
 * Collision-freedom (DECISIONS.md §6) comes from the shape of the names: FHIR-derived names
 * (resources, datatypes, backbone elements as `<Type><Path>`) are PascalCase without `_`; every
 * name the generator adds that is not in the FHIR GraphQL page carries a `_` (`Patient_Input`,
 * `Observation_ReferenceParam`), so the two sets cannot meet.
 * https://hl7.org/fhir/R4/graphql.html
 */

/** Suffix of every mutation input type (`Patient_Input`, `TaskInput_Input` for `Task.input`). */
export const INPUT_SUFFIX = '_Input';

/** Upper-cases the first letter (`dateTime` → `DateTime`, `input` → `Input`). */
export function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * The object type name of a backbone element: its path in PascalCase (`Patient.contact` →
 * `PatientContact`, `Task.input` → `TaskInput`, `Bundle.entry.request` → `BundleEntryRequest`).
 * https://hl7.org/fhir/R4/graphql.html#schema
 */
export function backboneTypeName(path: string): string {
  return path.split('.').map(capitalize).join('');
}

/** The input type paired with an output type name (`HumanName` → `HumanName_Input`). */
export function inputTypeName(outputTypeName: string): string {
  return `${outputTypeName}${INPUT_SUFFIX}`;
}

/**
 * The field of one type of a choice element, named as in FHIR JSON (`value[x]` with `Quantity` →
 * `valueQuantity`). https://hl7.org/fhir/R4/formats.html#choice
 */
export function choiceFieldName(elementName: string, typeCode: string): string {
  return `${elementName.replace(/\[x\]$/, '')}${capitalize(typeCode)}`;
}

/**
 * The field holding a primitive's `id` and extensions, named as in FHIR JSON (`birthDate` →
 * `_birthDate`). https://hl7.org/fhir/R4/json.html#primitive
 */
export function primitiveExtensionFieldName(fieldName: string): string {
  return `_${fieldName}`;
}

/**
 * The GraphQL argument name of a search parameter code: GraphQL names allow only `[_A-Za-z0-9]`,
 * so `-` becomes `_` (`general-practitioner` → `general_practitioner`). No R4 type has two codes
 * that map to the same name (asserted where the arguments are built).
 * https://hl7.org/fhir/R4/graphql.html#searching
 */
export function graphqlArgName(code: string): string {
  return code.replace(/-/g, '_');
}

/** Root query field that reads one resource (`Patient(_id: ID, id: ID)`). https://hl7.org/fhir/R4/graphql.html#searching */
export function readFieldName(resourceType: string): string {
  return resourceType;
}

/** Root query field (and reverse-reference field) that searches a type (`PatientList`). */
export function listFieldName(resourceType: string): string {
  return `${resourceType}List`;
}

/** Root query field and its result type for cursor paging (`PatientConnection`). */
export function connectionTypeName(resourceType: string): string {
  return `${resourceType}Connection`;
}

/** Type of one entry of a connection (`PatientEdge`). https://hl7.org/fhir/R4/graphql.html#searching */
export function edgeTypeName(resourceType: string): string {
  return `${resourceType}Edge`;
}

/**
 * Enum of the reference search parameters of a source type, the values of `_reference` on its
 * reverse-reference fields (`Observation_ReferenceParam { subject performer ... }`).
 */
export function referenceParamEnumName(sourceType: string): string {
  return `${sourceType}_ReferenceParam`;
}

/** Mutation field names (`PatientCreate`, `PatientUpdate`, `PatientDelete`). https://hl7.org/fhir/R4/graphql.html#mutation */
export function mutationFieldName(resourceType: string, action: 'Create' | 'Update' | 'Delete'): string {
  return `${resourceType}${action}`;
}

/**
 * The subscription root type. The FHIR resource type `Subscription` owns the name GraphQL would
 * use by default (CONTRACT.md "Change triggers"), so the schema names its root explicitly
 * (`schema { subscription: Change_Subscription }`). https://spec.graphql.org/October2021/#sec-Root-Operation-Types
 */
export const SUBSCRIPTION_ROOT = 'Change_Subscription';

/** The enum of change actions (`CREATE`, `UPDATE`, `DELETE`) that `TChanged(actions:)` filters on. */
export const CHANGE_ACTION_ENUM = 'Change_Action';

/** Subscription root field of one resource type's changes (`PatientChanged`). CONTRACT.md "Change triggers". */
export function changedFieldName(resourceType: string): string {
  return `${resourceType}Changed`;
}

/** The event type a `TChanged` subscription delivers (`Patient_ChangeEvent`). */
export function changeEventTypeName(resourceType: string): string {
  return `${resourceType}_ChangeEvent`;
}
