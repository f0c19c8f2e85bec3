// Types of schema-summary.mjs for the TypeScript tests (the browser module itself is plain JS).

export interface PropertyRow {
  name: string;
  type: string;
  required: boolean;
  details: string[];
}
export function isOpenObject(schema: unknown): boolean;
export function schemaProperties(schema: unknown): PropertyRow[];
export function describeType(schema: unknown): string;
export function describeConstraints(schema: unknown): string[];
