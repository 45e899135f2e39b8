/**
 * Resolvers of the subscription root (`TChanged`) and the change event types (`T_ChangeEvent`).
 * A `TChanged` field's source stream is the change stream the WebSocket facade opened and
 * authorised before execution (`subscription-start.ts`); each event is then executed like a query
 * whose root value is the delivery, so `resource` and everything under it (references, reverse
 * references) go through the query resolvers and a fresh set of loaders per event. `resource` is
 * the version the change wrote, parsed once per event for every subscriber.
 * https://spec.graphql.org/October2021/#sec-Subscription
 */
import { GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { changedFieldName, changeEventTypeName } from '../../codegen/naming.ts';
import type { FhirModel } from '../../fhir/fhir-model.ts';
import { invariant } from '../../fhir/outcomes.ts';
import type { Change_SubscriptionResolvers, Patient_ChangeEventResolvers } from '../generated/resolver-types.ts';
import type { FhirObject, GraphQLContext } from '../request-loaders.ts';
import type { ChangePayload } from './change-payload.ts';

type SubscriptionField = NonNullable<Change_SubscriptionResolvers<GraphQLContext>['PatientChanged']>;
/** `Patient_ChangeEvent`'s resolvers stand for every type's: the fields differ only in `resource`'s type. */
type EventResolvers = Required<Omit<Patient_ChangeEventResolvers<GraphQLContext>, '__isTypeOf'>>;

/** `TChanged`: the stream opened before execution, each event resolved as itself. */
const changedField: Exclude<SubscriptionField, (...args: never[]) => unknown> = {
  subscribe: (_root, _args, context) => {
    invariant(context.changes, 'a subscription runs with the change stream its start opened');
    return context.changes as AsyncIterable<unknown> as never;
  },
  resolve: (payload: unknown) => payload as ChangePayload,
};

const eventResolvers: EventResolvers = {
  action: (payload) => payload.event.action.toUpperCase() as 'CREATE' | 'UPDATE' | 'DELETE',
  id: (payload) => payload.event.id,
  versionId: (payload) => String(payload.event.versionId),
  cursor: (payload) => payload.event.cursor,
  resource: (payload) => payload.versions.resource as FhirObject | null,
};

/**
 * Gives the schema's subscription root and change event types their resolvers, in place (the
 * schema built from the FHIR SDL, before federation and the admin fields copy its roots).
 */
export function attachChangeResolvers(schema: GraphQLSchema, model: FhirModel): GraphQLSchema {
  const root = schema.getSubscriptionType();
  if (!root) return schema;
  const fields = root.getFields();
  for (const type of model.resourceTypes) {
    const field = fields[changedFieldName(type)];
    invariant(field, `the subscription root has ${changedFieldName(type)}`);
    field.subscribe = changedField.subscribe as never;
    field.resolve = changedField.resolve as never;
    const event = schema.getType(changeEventTypeName(type));
    invariant(event instanceof GraphQLObjectType, `${changeEventTypeName(type)} is an object type`);
    const eventFields = event.getFields();
    for (const [name, resolve] of Object.entries(eventResolvers)) eventFields[name].resolve = resolve as never;
  }
  return schema;
}
