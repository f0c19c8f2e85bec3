// The workflow bundle's entry: every workflow the control worker runs.

export { mailboxMonitorWorkflow } from './mailbox-monitor.workflow';
export { cleanupWorkflow, healthMonitorWorkflow, performanceUpdateWorkflow } from './maintenance.workflow';
export { robotWorkflow } from './robot/robot.workflow';
export { scheduledRobotWorkflow } from './scheduled-robot.workflow';
