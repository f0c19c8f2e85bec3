import { defineQuery, defineSignal } from '@temporalio/workflow';
import {
  MAINTENANCE_SIGNALS,
  MAINTENANCE_STATUS_QUERY,
  type MaintenanceSettings,
  type MaintenanceStatus,
  type RunNowRequest,
} from '../core/domain/maintenance-workflow.contract';

/** New settings (the control worker sends its configuration at every start); applied at once. */
export const configureSignal = defineSignal<[MaintenanceSettings]>(MAINTENANCE_SIGNALS.configure);
/** Runs the job now instead of at the end of the current wait. */
export const runNowSignal = defineSignal<[RunNowRequest]>(MAINTENANCE_SIGNALS.runNow);
export const maintenanceStatusQuery = defineQuery<MaintenanceStatus>(MAINTENANCE_STATUS_QUERY);
