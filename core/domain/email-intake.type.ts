// The built-in `email-intake` type: what the mailbox monitor starts for each new message
// (docs/email-intake.md). Its input: documentId (the first accepted attachment), documentIds,
// rejectedAttachments and email { from, to, subject, text, messageId, mailbox }.

const FIELD = (name: string) => `{{previous.extract-fields.fields.${name}.value}}`;

/** Plain data: core/domain/robot-types.ts parses it with the robot-type schema. */
export const emailIntakeType = {
  name: 'email-intake',
  version: 1,
  description:
    'Takes in an emailed invoice (started by the mailbox monitor): reads its first attachment, extracts ' +
    'the fields, checks the essential ones and answers the sender with what was read.',
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
