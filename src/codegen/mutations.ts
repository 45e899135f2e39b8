/**
 * The mutation root: per resource type `TCreate(res: T_Input!): T`,
 * `TUpdate(id: ID!, res: T_Input!, ifMatch: String): T` and `TDelete(id: ID!): T`. A delete
 * returns the resource as it was just before the delete (its last version), so a client can
 * select what it removed, and a failed delete is a GraphQL error carrying the OperationOutcome
 * (STYLE.md, Errors); `ifMatch` is the ETag (`W/"3"`) that REST sends as `If-Match`.
 * https://hl7.org/fhir/R4/graphql.html#mutation  https://hl7.org/fhir/R4/http.html#delete
 */
import { inputTypeName, mutationFieldName } from './naming.ts';

/** SDL field lines of the mutation root for one resource type. https://hl7.org/fhir/R4/graphql.html#mutation */
export function renderMutationFields(resourceType: string): string[] {
  const input = inputTypeName(resourceType);
  return [
    `${mutationFieldName(resourceType, 'Create')}(res: ${input}!): ${resourceType}`,
    `${mutationFieldName(resourceType, 'Update')}(id: ID!, res: ${input}!, ifMatch: String): ${resourceType}`,
    `${mutationFieldName(resourceType, 'Delete')}(id: ID!): ${resourceType}`,
  ];
}
