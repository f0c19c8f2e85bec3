// The built-in `invoice-intake` type. A function of configuration (INVOICE_APPROVAL_BELOW), so the
// type is built at process start; each robot snapshots the definition it started with.

export const DEFAULT_INVOICE_APPROVAL_BELOW = 0.8;

/** A document id as POST /v1/documents returns it (the ocr step checks the same). */
export const DOCUMENT_ID_SCHEMA = {
  type: 'string',
  pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  description: 'A document id from POST /v1/documents',
};

const FIELD = (name: string) => `{{previous.extract-fields.fields.${name}.value}}`;

/** Plain data: core/domain/robot-types.ts parses it with the robot-type schema. */
export function invoiceIntakeType(approvalBelow: number) {
  return {
    name: 'invoice-intake',
    version: 2,
    description:
      'Reads an uploaded invoice or receipt (input.documentId, from POST /v1/documents), extracts its fields, ' +
      `asks a person to review them when the completeness score is below ${approvalBelow}, checks the ` +
      'essential ones and tells the subscribers of robot.notified.',
    inputSchema: {
      type: 'object',
      required: ['documentId'],
      properties: { documentId: DOCUMENT_ID_SCHEMA },
    },
    steps: [
      { name: 'read-document', kind: 'ocr', timeoutSeconds: 600 },
      { name: 'extract-fields', kind: 'extract', params: { from: 'read-document' } },
      {
        name: 'review',
        kind: 'approval',
        // Approve with corrected fields ({"fields": {"total": 120.5}}): they replace the extracted ones.
        params: { when: { completenessBelow: approvalBelow }, corrects: 'extract-fields' },
      },
      {
        name: 'check-fields',
        kind: 'validate',
        params: {
          from: 'extract-fields',
          required: ['fields.vendor', 'fields.date', 'fields.total', 'fields.currency'],
        },
      },
      {
        name: 'notify',
        kind: 'notify',
        params: {
          message: `Invoice from ${FIELD('vendor')} dated ${FIELD('date')} over ${FIELD('total')} ${FIELD('currency')} read (robot {{robotId}}).`,
        },
      },
    ],
  };
}
