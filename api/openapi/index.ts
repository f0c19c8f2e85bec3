// The OpenAPI document served at /openapi.json: buildOpenApiDocument, then withSecurity.

export { buildOpenApiDocument } from './document';
export { withSecurity } from './security';
