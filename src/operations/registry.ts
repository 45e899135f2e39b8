/**
 * The registry: every FHIR operation the server serves, built for one process's services. The
 * REST routes (operation-routes.ts) and, through them, the CapabilityStatement come from this
 * list; an operation not listed here is answered 501 `not-supported` (src/rest/unserved-operation.ts).
 * `$graphql` is the GraphQL facade's own route (src/http/graphql-routes.ts).
 */
import type { WebhookServices } from '../webhooks/index.ts';
import { documentOperation } from './document.ts';
import { everythingOperation } from './everything.ts';
import type { ExportServices } from './export/index.ts';
import { exportOperations } from './export/index.ts';
import type { Operation } from './operation.ts';
import { expandOperation } from './expand.ts';
import { findAppointmentsOperation } from './find-appointments.ts';
import { lookupOperation } from './lookup.ts';
import { replayOperation } from './replay.ts';
import { validateCodeOperation } from './validate-code.ts';
import { validateOperation } from './validate.ts';

/** The services operations run on, beyond the core service every route has. */
export interface OperationServices {
  /** Webhook delivery (`$replay`); absent, that operation is not served. */
  webhooks?: WebhookServices;
  /** Bulk Data export (`$export`); absent, those operations are not served. */
  exports?: ExportServices;
}

/** The operations served with `services`. */
export function operationRegistry(services: OperationServices): Operation[] {
  return [
    validateOperation,
    expandOperation,
    lookupOperation,
    validateCodeOperation,
    findAppointmentsOperation,
    everythingOperation,
    documentOperation,
    ...(services.webhooks ? [replayOperation(services.webhooks)] : []),
    ...(services.exports ? exportOperations(services.exports) : []),
  ];
}
