// Types only: the one activities file that workflows may import (see biome.json).
import type { createBasicStepActivities } from './basic-steps';
import type { createBulkActivities } from './bulk-robots';
import type { createEmailStepActivities } from './email-steps';
import type { createExtractActivities } from './extract';
import type { createHttpRequestActivities } from './http-request';
import type { createMailboxAlertActivities } from './mailbox-alerts';
import type { MailboxActivities } from './mailbox-monitor';
import type { createMaintenanceActivities } from './maintenance';
import type { createNotifyActivities } from './notify';
import type { createOcrActivities } from './ocr';
import type { createProgressActivities } from './progress';
import type { createRetentionActivities } from './retention';
import type { createSelectionActivities } from './selection';
import type { createStepAdvanceActivities } from './step-advance';

export type { NotifyOutcome, NotifyRequest } from '../core/domain/notification-delivery';
export type { StepInput, StepOutput } from '../core/domain/step-activity.contract';
export type { ProgressRecord, StepOutcome } from './progress';
export type { ModuleChoice, SelectionRequest } from './selection';
export type { AdvanceRequest, AdvanceResult } from './step-advance';

/** Activities on the control queue (`rpa-control`). */
export type ControlActivities = ReturnType<typeof createProgressActivities> &
  ReturnType<typeof createSelectionActivities> &
  ReturnType<typeof createStepAdvanceActivities> &
  ReturnType<typeof createMaintenanceActivities> &
  ReturnType<typeof createRetentionActivities> &
  ReturnType<typeof createNotifyActivities> &
  MailboxActivities &
  ReturnType<typeof createMailboxAlertActivities> &
  ReturnType<typeof createBulkActivities>;

/** Step activities on a module queue (`module-<name>`), one per step kind. */
export type StepActivities = ReturnType<typeof createBasicStepActivities> &
  ReturnType<typeof createEmailStepActivities> &
  ReturnType<typeof createOcrActivities> &
  ReturnType<typeof createExtractActivities> &
  ReturnType<typeof createHttpRequestActivities>;
