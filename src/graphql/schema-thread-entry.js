// The schema worker's thread (`schema-worker.ts` starts it): loads the TypeScript sources through
// tsx, as bin/fhirgraph.js does, whether or not the parent thread was started with tsx.
import { register } from 'tsx/esm/api';

register();
await import('./schema-thread.ts');
