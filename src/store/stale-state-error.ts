/**
 * Thrown by a write that planned its versions from states read without locks (`writeVersions`
 * with `lockFirst`) when another writer stored one of those versions first: the statement failed
 * as a whole, so nothing of it is stored, and the caller plans the write again under locks.
 * Never reaches a client (it is not a {@link FhirError}; the service always catches it).
 */
export class StaleStateError extends Error {
  constructor() {
    super('A resource changed between reading its state and writing its next version');
    this.name = 'StaleStateError';
  }
}
