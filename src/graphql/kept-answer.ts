/**
 * The shape of an introspection or `_service` answer as the schema worker's cache keeps it, in a
 * module of its own so a request's context can carry one without importing the worker (and,
 * through it, the schema the resolvers' types come from).
 */

/** An answer as it is kept and sent: gzipped bytes, or plain ones (a tiny answer, or the first requester's). */
export interface KeptAnswer {
  json?: Buffer;
  gzip?: Buffer;
  failed: boolean;
}
