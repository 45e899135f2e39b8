/**
 * What a change event's fields (`T_ChangeEvent`) are resolved from: the delivery of the service's
 * change stream, which is the root value each event is executed with (graphql-js maps a
 * subscription's source events over `execute` the same way,
 * https://spec.graphql.org/October2021/#MapSourceToResponseEvent()).
 */
import type { ChangeDelivery } from '../../service/change-streams/change-stream.ts';

/** The root value of one event's execution, and the parent of its `T_ChangeEvent` fields. */
export type ChangePayload = ChangeDelivery;
