// JSON Schemas in words: the top-level properties of an object schema as rows (name, type,
// required, constraints), so a person reads a kind's params or a robot type's input without
// parsing JSON. The full schema stays one click away; nested schemas are summed up in the type.

/** A schema that says nothing beyond "an object" (or nothing at all). @param {unknown} schema */
export function isOpenObject(schema) {
  if (!isRecord(schema)) return true;
  const keys = Object.keys(schema).filter((key) => key !== '$schema' && key !== 'additionalProperties');
  return keys.length === 0 || (keys.length === 1 && schema.type === 'object');
}

/**
 * @param {unknown} schema
 * @returns {{ name: string, type: string, required: boolean, details: string[] }[]}
 */
export function schemaProperties(schema) {
  if (!isRecord(schema) || !isRecord(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  return Object.entries(schema.properties).map(([name, property]) => ({
    name,
    type: describeType(property),
    required: required.has(name),
    details: describeConstraints(property),
  }));
}

/** A short type expression: `string`, `array of string`, `map of number`, `string | secret ref`. */
export function describeType(schema) {
  if (!isRecord(schema)) return schema === false ? 'nothing' : 'any';
  if (typeof schema.$ref === 'string') return schema.$ref.split('/').pop() || schema.$ref;
  if ('const' in schema) return JSON.stringify(schema.const);
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union)) return unique(union.map(describeType)).join(' | ');
  if (isSecretRef(schema)) return 'secret ref';
  const types = Array.isArray(schema.type)
    ? schema.type.map(String)
    : schema.type
      ? [String(schema.type)]
      : [];
  if (types.length === 0) {
    if (Array.isArray(schema.enum)) return unique(schema.enum.map((value) => typeof value)).join(' | ');
    return 'any';
  }
  if (types.length > 1) return types.join(' | ');
  if (types[0] === 'array')
    return isRecord(schema.items) ? `array of ${describeType(schema.items)}` : 'array';
  if (types[0] === 'object' && !isRecord(schema.properties) && isRecord(schema.additionalProperties)) {
    return `map of ${describeType(schema.additionalProperties)}`;
  }
  return /** @type {string} */ (types[0]);
}

/** Constraints worth reading, in the order a person asks about them. @param {unknown} schema */
export function describeConstraints(schema) {
  if (!isRecord(schema)) return [];
  /** @type {string[]} */
  const details = [];
  if (typeof schema.description === 'string') details.push(schema.description);
  if (Array.isArray(schema.enum)) details.push(`one of ${schema.enum.map(format).join(', ')}`);
  if ('default' in schema) details.push(`default ${format(schema.default)}`);
  bounds(details, '', schema.minimum, schema.maximum, schema.exclusiveMinimum, schema.exclusiveMaximum);
  bounds(details, 'length ', schema.minLength, schema.maxLength);
  bounds(details, 'items ', schema.minItems, schema.maxItems);
  if (typeof schema.format === 'string') details.push(`format ${schema.format}`);
  if (typeof schema.pattern === 'string') details.push(`pattern ${schema.pattern}`);
  return details;
}

/**
 * `1–300` when both ends are inclusive, else each end on its own (`> 0, ≤ 1`).
 * @param {string[]} details @param {string} label
 */
function bounds(details, label, min, max, exclusiveMin, exclusiveMax) {
  if (typeof min === 'number' && typeof max === 'number') {
    details.push(`${label}${min}–${max}`);
    return;
  }
  const ends = [];
  if (typeof min === 'number') ends.push(`≥ ${min}`);
  else if (typeof exclusiveMin === 'number') ends.push(`> ${exclusiveMin}`);
  if (typeof max === 'number') ends.push(`≤ ${max}`);
  else if (typeof exclusiveMax === 'number') ends.push(`< ${exclusiveMax}`);
  if (ends.length > 0) details.push(`${label}${ends.join(', ')}`);
}

/** The `{"$secret": name}` reference a secret param may hold (ADR 0014). */
function isSecretRef(schema) {
  return (
    schema.type === 'object' &&
    isRecord(schema.properties) &&
    Object.keys(schema.properties).length === 1 &&
    '$secret' in schema.properties
  );
}

/** @param {unknown} value */
const format = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

/** @param {string[]} values */
const unique = (values) => [...new Set(values)];

/** @param {unknown} value @returns {value is Record<string, any>} */
function isRecord(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
