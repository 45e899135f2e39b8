/**
 * Client management over the API for `--admin` clients (DECISIONS.md §2): the same service calls
 * as the operator CLI. `GET /admin/clients`, `POST /admin/clients` (JSON `{name, scope, jwks?,
 * admin?, rate?}`), `PATCH /admin/clients/{id}` (JSON `{scope?, rate?}`), `POST /admin/clients/{id}/disable`.
 */
import { createClient, disableClientById, listClientSummaries, updateClientById, type CreateClientInput, type UpdateClientInput } from '../../auth/client-admin.ts';
import { badRequest, forbidden } from '../../fhir/outcomes.ts';
import { isJsonObject } from '../../service/resource-content.ts';
import type { RequestContext } from '../../service/request-context.ts';
import type { FhirRoute, Params } from '../fhir-route.ts';
import { readJsonBody } from '../request-body.ts';

function requireAdmin(ctx: RequestContext): void {
  ctx.audit.begin('E', 'client-admin');
  if (!ctx.auth.admin) throw forbidden('Only admin clients may manage clients');
}

export const adminRoutes: FhirRoute[] = [
  {
    method: 'GET',
    url: '/admin/clients',
    capabilities: [{ level: 'none' }],
    async handler(request, reply, deps) {
      requireAdmin(deps.context(request));
      return reply.type('application/json').send(JSON.stringify(await listClientSummaries(deps.service.db)));
    },
  },
  {
    method: 'POST',
    url: '/admin/clients',
    capabilities: [{ level: 'none' }],
    async handler(request, reply, deps) {
      const ctx = deps.context(request);
      requireAdmin(ctx);
      const body = readJsonBody(request);
      if (!isJsonObject(body)) throw badRequest('The body must be a JSON object: {"name", "scope", "jwks"?, "admin"?, "rate"?}');
      const created = await createClient(deps.service.db, body as unknown as CreateClientInput, { scope: ctx.auth.scopes.scope, rate: ctx.rateLimit });
      return reply.code(201).header('Cache-Control', 'no-store').type('application/json').send(JSON.stringify(created));
    },
  },
  {
    method: 'PATCH',
    url: '/admin/clients/:id',
    capabilities: [{ level: 'none' }],
    async handler(request, reply, deps) {
      const ctx = deps.context(request);
      requireAdmin(ctx);
      const { id } = request.params as Params;
      const body = readJsonBody(request);
      if (!isJsonObject(body)) throw badRequest('The body must be a JSON object: {"scope"?, "rate"?}');
      const updated = await updateClientById(deps.service.db, id, body as unknown as UpdateClientInput, { scope: ctx.auth.scopes.scope, rate: ctx.rateLimit });
      await deps.security.state.refresh();
      return reply.type('application/json').send(JSON.stringify(updated));
    },
  },
  {
    method: 'POST',
    url: '/admin/clients/:id/disable',
    capabilities: [{ level: 'none' }],
    async handler(request, reply, deps) {
      const ctx = deps.context(request);
      requireAdmin(ctx);
      const { id } = request.params as Params;
      const result = await disableClientById(deps.service.db, id);
      await deps.security.state.refresh();
      return reply.type('application/json').send(JSON.stringify(result));
    },
  },
];
