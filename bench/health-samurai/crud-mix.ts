/**
 * The Health Samurai CRUD mix (their `k6/crud.js`): each virtual user, in a loop, creates one
 * resource of each of nine types (Patient, Location, Organization, Practitioner, Encounter,
 * Observation, MedicationRequest, Claim, ExplanationOfBenefit; later ones referencing earlier
 * ones), reads each back, updates each (the change of `changeResource`), and deletes them in
 * reverse order: 36 requests an iteration. A failed create ends the iteration, as their check
 * does. The figure is requests per second over all four kinds.
 */
import type { Scenario } from '../lib/scenario-load.ts';
import { changeResource, CRUD_TYPES, crudResource, type CreatedRefs } from './crud-resources.ts';

/** The CRUD mix's scenario with a bearer `token`. */
export function crudMixScenario(token: string): Scenario {
  return {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
    async iteration(client, user, n) {
      const refs: CreatedRefs = {};
      const created: Record<string, unknown>[] = [];
      try {
        for (const type of CRUD_TYPES) {
          const answer = await client.request('POST', `/fhir/${type}`, JSON.stringify(crudResource(type, refs, user * 1_000_000 + n)));
          if (answer.status !== 201) return;
          const resource = JSON.parse(answer.body) as Record<string, unknown>;
          refs[type] = `${type}/${String(resource.id)}`;
          created.push(resource);
        }
        for (const resource of created) await client.request('GET', `/fhir/${String(resource.resourceType)}/${String(resource.id)}`);
        for (const resource of created) {
          await client.request('PUT', `/fhir/${String(resource.resourceType)}/${String(resource.id)}`, JSON.stringify(changeResource(resource)));
        }
      } finally {
        // Whatever was created is deleted, last first (later resources reference earlier ones).
        for (const resource of created.reverse()) await client.request('DELETE', `/fhir/${String(resource.resourceType)}/${String(resource.id)}`);
      }
    },
  };
}
