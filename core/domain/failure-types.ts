// Every ApplicationFailure type the project raises or checks. Workflow-safe (no imports), so the
// workflows, activities and workers name the same catalogue. The values are in recorded histories,
// in docs/steps.md and in callers' error handling: add types, never change a value.

export const FAILURE_TYPES = {
  // A step's definition or a robot's input that no retry would fix.
  invalidStepDefinition: 'InvalidStepDefinition',
  invalidRobotInput: 'InvalidRobotInput',
  incompleteResult: 'IncompleteResult',
  templateError: 'TemplateError',
  missingStepOutput: 'MissingStepOutput',

  // Documents and OCR.
  documentNotFound: 'DocumentNotFound',
  documentContentMissing: 'DocumentContentMissing',
  documentTooLong: 'DocumentTooLong',
  unreadableDocument: 'UnreadableDocument',
  noDocumentStore: 'NoDocumentStore',
  /** A page declares more pixels than DOCUMENT_MAX_PIXELS (a PDF page at OCR_PDF_DPI, a TIFF page). */
  documentPageTooLarge: 'DocumentPageTooLarge',
  /** Rendering a PDF page ran past OCR_PAGE_TIMEOUT_SECONDS: the file's fault, not the module's. */
  documentPageTimedOut: 'DocumentPageTimedOut',
  /** The extract step's rules ran past their time budget (activities/extract.ts): the text is hostile or huge. */
  extractionTimedOut: 'ExtractionTimedOut',

  // The send-email step.
  invalidRecipient: 'InvalidRecipient',
  attachmentsTooLarge: 'AttachmentsTooLarge',
  smtpRejected: 'SmtpRejected',
  smtpUnavailable: 'SmtpUnavailable',
  smtpNotConfigured: 'SmtpNotConfigured',
  /** The relay may have taken the message, and no attempt knows: not sent again (docs/steps.md). */
  emailOutcomeUnknown: 'EmailOutcomeUnknown',
  noDatabase: 'NoDatabase',

  // The http-request step (docs/steps.md).
  httpTargetRefused: 'HttpTargetRefused',
  httpRedirectRefused: 'HttpRedirectRefused',
  httpResponseTooLarge: 'HttpResponseTooLarge',
  httpResponseNotJson: 'HttpResponseNotJson',
  httpTimeout: 'HttpTimeout',
  httpNetworkError: 'HttpNetworkError',
  httpStatusRefused: 'HttpStatusRefused',
  httpStatusRetryable: 'HttpStatusRetryable',

  // Notifications and alerts whose delivery is still under way (retryable).
  deliveryPending: 'DeliveryPending',

  // Secrets resolved in step params by the module worker.
  secretNotFound: 'SecretNotFound',
  secretUnavailable: 'SecretUnavailable',

  // Mailbox monitoring.
  mailboxNotConfigured: 'MailboxNotConfigured',

  // Robot schedules: a firing whose robot would be refused every time (its type gone, its input
  // no longer accepted). The schedule is paused with the reason (docs/schedules.md).
  scheduledRobotRefused: 'ScheduledRobotRefused',
  /** A scheduled workflow started without a schedule's nominal time (by hand). */
  notScheduled: 'NotScheduled',

  // The robot workflow's own verdicts.
  robotFailed: 'RobotFailed',
  parkTimedOut: 'ParkTimedOut',
  approvalTimedOut: 'ApprovalTimedOut',
  approvalRejected: 'ApprovalRejected',
  /** No live module took a step within the robot type's maxPendingSeconds. */
  noModule: 'NoModule',
  unsupported: 'Unsupported',
  /** The update validators' refusal: the API maps it to 409. */
  robotStateConflict: 'RobotStateConflict',
} as const;

export type FailureType = (typeof FAILURE_TYPES)[keyof typeof FAILURE_TYPES];
