// The built-in `email-intake` type: what the mailbox monitor starts for each new message
// (docs/email-intake.md). Its input: documentId (the first accepted attachment), documentIds,
// rejectedAttachments and email { from, to, subject, text, messageId, mailbox }.

import { DOCUMENT_ID_SCHEMA } from './invoice-intake.type';

const FIELD = (name: string) => `{{previous.extract-fields.fields.${name}.value}}`;

/** Plain data: core/domain/robot-types.ts parses it with the robot-type schema. */
export const emailIntakeType = {
  name: 'email-intake',
  version: 1,
  description:
    'Takes in an emailed invoice (started by the mailbox monitor): reads its first attachment, extracts ' +
    'the fields, checks the essential ones and answers the sender with what was read.',
  // What the mailbox monitor makes of every message. documentId is absent when no attachment was
  // accepted: that robot is still made, and fails at its first step with the reason (docs/email-intake.md).
  inputSchema: {
    type: 'object',
    required: ['documentIds', 'rejectedAttachments', 'email'],
    properties: {
      documentId: DOCUMENT_ID_SCHEMA,
      documentIds: { type: 'array', items: DOCUMENT_ID_SCHEMA },
      rejectedAttachments: {
        type: 'array',
        items: {
          type: 'object',
          required: ['reason'],
          properties: { fileName: { type: ['string', 'null'] }, reason: { type: 'string' } },
        },
      },
      email: {
        type: 'object',
        required: ['from', 'subject'],
        properties: {
          from: { type: 'string' },
          to: { type: 'array', items: { type: 'string' } },
          subject: { type: 'string' },
          text: { type: 'string' },
          messageId: { type: ['string', 'null'] },
          mailbox: { type: 'string' },
        },
      },
    },
  },
  steps: [
    { name: 'read-document', kind: 'ocr', timeoutSeconds: 600 },
    { name: 'extract-fields', kind: 'extract', params: { from: 'read-document' } },
    {
      name: 'check-fields',
      kind: 'validate',
      params: {
        from: 'extract-fields',
        required: ['fields.vendor', 'fields.date', 'fields.total', 'fields.currency'],
      },
    },
    {
      name: 'acknowledge',
      kind: 'send-email',
      params: {
        to: '{{input.email.from}}',
        subject: 'Re: {{input.email.subject}}',
        text:
          'Hello,\n\nwe received your invoice from ' +
          `${FIELD('vendor')} dated ${FIELD('date')} over ${FIELD('total')} ${FIELD('currency')}.\n\n` +
          'Reference: robot {{robotId}}',
      },
    },
  ],
};
