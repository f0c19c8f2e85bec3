import { auditPaths } from './audit.paths';
import { apiKeySchema, keyPaths } from './keys.paths';
import { problem } from './parts';
import { secretPaths } from './secrets.paths';
import { triggerPaths } from './triggers.paths';

// The security part of the OpenAPI document: schemes, the admin routes, and `security` on every
// operation (none on the open routes: everything outside /v1, such as /hooks/{name}, signed instead).

const authProblems = { '401': problem, '403': problem, '429': problem };

type Operation = { security?: unknown; responses?: Record<string, unknown> };
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

/** Adds the admin routes, the schemes and each operation's `security` and auth problems. */
export function withSecurity<T extends Document>(document: T): T & { security: object[] } {
  const paths: Record<string, Record<string, Operation>> = {
    ...document.paths,
    ...secretPaths(),
    ...auditPaths(),
    ...keyPaths(),
    ...triggerPaths(),
  };
  for (const [path, operations] of Object.entries(paths)) {
    for (const operation of Object.values(operations)) {
      if (path.startsWith('/v1/')) {
        operation.responses = { ...authProblems, ...operation.responses };
      } else {
        operation.security = [];
      }
    }
  }
  return {
    ...document,
    paths,
    security: [{ bearerAuth: [] }, { apiKeyHeader: [] }],
    components: {
      ...document.components,
      schemas: { ...document.components.schemas, ApiKey: apiKeySchema },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer rpa_…' },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
  };
}
