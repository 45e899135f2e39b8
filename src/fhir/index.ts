/**
 * The FHIR layer: the R4 type model, the resource validator and the OperationOutcome helpers.
 * https://hl7.org/fhir/R4/
 */
export * from './outcomes.ts';
export { loadFhirModel, indexFhirModel, MODEL_PATH, type FhirModel } from './fhir-model.ts';
export type * from './model-types.ts';
export { validateResource, MAX_DEPTH } from './validate-resource.ts';
