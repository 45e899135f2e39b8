/**
 * The GraphQL explorer: GraphiQL 3 (bundled with the console, loaded only when this page is
 * opened), whose fetcher sends the signed-in token to `POST /graphql`.
 */
import { GraphiQL } from 'graphiql';
import 'graphiql/graphiql.css';
import { useMemo, type ReactNode } from 'react';
import type { Session } from '../api.ts';

const DEFAULT_QUERY = `# Runs with the console's token (its scopes apply).
query Patients {
  PatientList(_count: 5) {
    id
    name { family given }
  }
}
`;

/** The explorer page. */
export default function ExplorerPage({ session }: { session: Session }): ReactNode {
  const fetcher = useMemo(() => async (params: unknown) => {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${session.token}` },
      body: JSON.stringify(params),
    });
    return response.json();
  }, [session]);
  return (
    <div className="explorer" data-testid="explorer">
      <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} shouldPersistHeaders={false} storage={memoryStorage()} />
    </div>
  );
}

/** GraphiQL's storage kept in memory: nothing the operator types is left in localStorage. */
function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() { return items.size; },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (index) => [...items.keys()][index] ?? null,
    removeItem: (key) => { items.delete(key); },
    setItem: (key, value) => { items.set(key, String(value)); },
  };
}
