/**
 * The subscription root (CONTRACT.md "Change triggers"): per resource type `T`,
 * `TChanged(criteria: String, actions: [Change_Action!], since: String): T_ChangeEvent!`, whose
 * events carry the action, the resource's id and version, the feed cursor to resume after the
 * event, and the resource as that version wrote it (null for a delete). The root is named
 * `Change_Subscription` because the FHIR resource type `Subscription` owns the default name; it
 * is served over WebSocket only (`graphql-transport-ws`), and left out of the federation SDL.
 * https://spec.graphql.org/October2021/#sec-Subscription  https://hl7.org/fhir/R4/subscription.html
 */
import { CHANGE_ACTION_ENUM, changedFieldName, changeEventTypeName } from './naming.ts';

/** SDL of the `Change_Action` enum. */
export function renderChangeActionEnum(): string {
  return [
    '"What a change did to a resource (https://hl7.org/fhir/R4/valueset-http-verb.html: POST, PUT/PATCH, DELETE)."',
    `enum ${CHANGE_ACTION_ENUM} {`,
    '  CREATE',
    '  UPDATE',
    '  DELETE',
    '}',
    '',
  ].join('\n');
}

/** SDL of the event type of one resource type's changes (`Patient_ChangeEvent`). */
export function renderChangeEventType(resourceType: string): string {
  return [
    `"A committed change of a ${resourceType}, as \`${changedFieldName(resourceType)}\` delivers it."`,
    `type ${changeEventTypeName(resourceType)} {`,
    `  action: ${CHANGE_ACTION_ENUM}!`,
    '  "The id of the changed resource."',
    '  id: ID!',
    '  "The version the change wrote (a delete writes a version of its own)."',
    '  versionId: ID!',
    '  "Opaque: pass it as `since` to resume after this event, with no gap and no duplicate."',
    '  cursor: String!',
    `  "The ${resourceType} as this change wrote it (this version, not the current one); null for a delete."`,
    `  resource: ${resourceType}`,
    '}',
    '',
  ].join('\n');
}

/** SDL field line of the subscription root for one resource type. */
export function renderSubscriptionField(resourceType: string): string {
  return `${changedFieldName(resourceType)}(criteria: String, actions: [${CHANGE_ACTION_ENUM}!], since: String): ${changeEventTypeName(resourceType)}!`;
}
