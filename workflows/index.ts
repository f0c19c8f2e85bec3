// The workflow bundle's entry: every workflow the control worker runs.
export { cleanupWorkflow, healthMonitorWorkflow, performanceUpdateWorkflow } from './maintenance.workflow';
export { robotWorkflow } from './robot.workflow';
