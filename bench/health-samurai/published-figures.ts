/**
 * The anchors printed beside the Health Samurai shapes: figures other FHIR servers reach on the
 * same shapes in Health Samurai's own runs. They are not comparable one to one: those servers run
 * with 8 vCPU each (Medplum as replicas) on a dedicated bare-metal host, with k6 and PostgreSQL on
 * other cores, while this bench shares 2 cores between fhirgraph, PostgreSQL and the load
 * generator. The goals for fhirgraph on 2 cores are the targets (`bench-results.ts`).
 */

export const PUBLISHED_FIGURES_URL = 'https://healthsamurai.github.io/fhir-server-performance-benchmark';

export interface PublishedFigure { server: string; crudPerSecond?: number; searchPerSecond?: number; bundleResourcesPerSecond?: number }

/** From their dashboard's 2026-06-29 snapshot, rounded as the issue quotes them; 8 vCPU per server. */
export const PUBLISHED_FIGURES: PublishedFigure[] = [
  { server: 'Aidbox', crudPerSecond: 5200, bundleResourcesPerSecond: 2680 },
  { server: 'HAPI FHIR', crudPerSecond: 3050, searchPerSecond: 1000, bundleResourcesPerSecond: 2210 },
  { server: 'Medplum', crudPerSecond: 1420, searchPerSecond: 1800, bundleResourcesPerSecond: 760 },
];
