// A JSON Schema shown readably: a table of its top-level properties and, folded away, the schema
// itself. Used for a step kind's params, input and output, and for a robot type's input.

import { h, jsonBlock } from './dom.mjs';
import { isOpenObject, schemaProperties } from './schema-summary.mjs';

/**
 * @param {string} heading e.g. "Params"
 * @param {unknown} schema
 * @param {{ key: string, secretParams?: readonly string[], openText: string }} options
 *   key: names the fold so a refresh keeps it open; openText: what a schema without constraints means
 */
export function schemaSection(heading, schema, { key, secretParams = [], openText }) {
  const rows = schemaProperties(schema);
  const secret = new Set(secretParams);
  const table =
    rows.length === 0
      ? null
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'compact schema-table' },
            h('caption', { class: 'visually-hidden' }, `${heading}: top-level properties`),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['Property', 'Type', 'Required', 'Details'].map((text) => h('th', { scope: 'col' }, text)),
              ),
            ),
            h(
              'tbody',
              {},
              ...rows.map((row) =>
                h(
                  'tr',
                  { 'data-property': row.name },
                  h(
                    'th',
                    { scope: 'row' },
                    h('code', {}, row.name),
                    secret.has(row.name) ? [' ', h('span', { class: 'badge badge-secret' }, 'secret')] : null,
                  ),
                  h('td', {}, row.type),
                  h('td', {}, row.required ? 'yes' : 'no'),
                  h('td', {}, row.details.join('; ')),
                ),
              ),
            ),
          ),
        );
  return h(
    'section',
    { class: 'schema', 'data-schema': heading.toLowerCase() },
    h('h4', {}, heading),
    isOpenObject(schema) ? h('p', { class: 'hint' }, openText) : table,
    isOpenObject(schema)
      ? null
      : h('details', { 'data-key': key }, h('summary', {}, `${heading} JSON Schema`), jsonBlock(schema)),
  );
}
