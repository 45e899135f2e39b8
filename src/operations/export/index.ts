/** Bulk Data `$export` (README.md in this folder). */
export { exportOperations } from './export-operations.ts';
export { createExportServices, type ExportServiceDeps, type ExportServices } from './export-services.ts';
export { NDJSON_MEDIA_TYPE, statusUrl } from './export-status-routes.ts';
