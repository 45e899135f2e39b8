/** pino logging and request ids (README "Traces and logs"; this folder's README.md). */
export { createLogger, type LogDestination, type LogStream } from './create-logger.ts';
export { requestIdOf, REQUEST_ID_HEADER } from './request-id.ts';
export { backgroundErrorReporters, type ErrorReporter } from './background-errors.ts';
