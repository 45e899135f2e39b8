/**
 * The three Bulk Data kick-offs as registry entries (Bulk Data Access IG v2,
 * https://hl7.org/fhir/uv/bulkdata/OperationDefinition-export.html and its patient- and group-
 * variants): `/fhir/$export`, `/fhir/Patient/$export` and `/fhir/Group/{id}/$export`, by GET or
 * POST (a `Parameters` body). They share the name `export`, so the CapabilityStatement lists each
 * with its own definition. The status, cancel and download routes come with the first,
 * and so do the admin routes over every client's exports (`export-admin-routes.ts`).
 */
import type { ExportLevel } from '../../store/export-repository.ts';
import type { Operation, OperationParam } from '../operation.ts';
import { kickOffExport } from './export-kickoff.ts';
import type { ExportServices } from './export-services.ts';
import { exportAdminRoutes } from './export-admin-routes.ts';
import { exportStatusRoutes } from './export-status-routes.ts';

const BULK = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition';

/** The parameters served (the IG's `_elements`, `patient` and `includeAssociatedData` are not: 400). */
const PARAMETERS: OperationParam[] = [
  { name: '_outputFormat', type: 'string' },
  { name: '_since', type: 'instant' },
  { name: '_type', type: 'string', max: '*' },
  { name: '_typeFilter', type: 'string', max: '*' },
];

function exportOperation(exports: ExportServices, level: ExportLevel): Operation {
  const common = {
    name: 'export',
    action: 'E' as const,
    methods: ['GET', 'POST'] as const,
    parameters: PARAMETERS,
    handle: (call: Parameters<Operation['handle']>[0]) => kickOffExport(exports, level, call),
  };
  switch (level) {
    case 'system':
      // Each exported type's read permission is checked by the kick-off itself.
      return { ...common, definition: `${BULK}/export`, levels: ['system'], permissions: [], routes: [...exportStatusRoutes, ...exportAdminRoutes] };
    case 'patient':
      return { ...common, definition: `${BULK}/patient-export`, levels: ['type'], resourceTypes: ['Patient'], permissions: [] };
    case 'group':
      return { ...common, definition: `${BULK}/group-export`, levels: ['instance'], resourceTypes: ['Group'], permissions: ['r'] };
  }
}

/** `$export` at system, Patient and Group level, served by `exports`. */
export function exportOperations(exports: ExportServices): Operation[] {
  return [exportOperation(exports, 'system'), exportOperation(exports, 'patient'), exportOperation(exports, 'group')];
}
