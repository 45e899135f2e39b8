/**
 * `$operations` the server does not serve. An operation is a path segment starting with `$` at
 * system (`/fhir/$export`), type (`/fhir/Patient/$match`) or instance level
 * (`/fhir/Patient/1/$everything`); the served ones are static routes (`$validate`, `$graphql`), so
 * any other would be taken for a resource type, an id or a compartment by the parametric routes,
 * or fall through to 404. It answers 501 `not-supported` naming the operation instead, whatever
 * the method. https://hl7.org/fhir/R4/operations.html  https://hl7.org/fhir/R4/http.html#ops
 */
import { notFound, notImplemented } from '../fhir/outcomes.ts';

/**
 * Throws for a request naming an operation that its matched route (`routeUrl`, undefined when no
 * route matched) does not serve: 404 when the operation's type is not a resource type, else 501.
 */
export function assertOperationServed(path: string, routeUrl: string | undefined, isResourceType: (type: string) => boolean): void {
  if (!path.includes('$')) return;
  const segments = path.split('/').slice(2);
  const at = segments.findIndex((s) => s.startsWith('$'));
  if (at < 0) return;
  const name = segments[at].slice(0, 64);
  if (routeUrl?.split('/').includes(name)) return;
  if (at > 0 && !isResourceType(segments[0])) throw notFound(`Unknown resource type "${segments[0].slice(0, 64)}"`);
  throw notImplemented(`The operation ${name} is not supported by this server (GET /fhir/metadata lists the operations it serves)`);
}
