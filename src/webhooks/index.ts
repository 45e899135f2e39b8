/**
 * Webhooks (README.md in this folder): FHIR R4 `Subscription`s with `channel.type = rest-hook`,
 * delivered from the change feed through the job queue.
 */
export { AuthorRights } from './author-rights.ts';
export { DeliveryWorker } from './delivery-worker.ts';
export { DISPATCHER_CURSOR, WebhookDispatcher } from './webhook-dispatcher.ts';
export { DELIVERY_QUEUE, REPLAY_QUEUE, type DeliveryJob, type ReplayJob } from './webhook-jobs.ts';
export { ReplayWorker, type ReplayRequest } from './webhook-replay.ts';
export { eventIdOf, signBody } from './webhook-request.ts';
export { createWebhookServices, type WebhookServiceDeps, type WebhookServices } from './webhook-services.ts';
