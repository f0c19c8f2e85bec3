// The workflow bundle's entry: every workflow the control worker runs.

export { bulkRobotsWorkflow } from './bulk-robots.workflow';
export { mailboxMonitorWorkflow } from './mailbox-monitor.workflow';
export {
  cleanupWorkflow,
  healthMonitorWorkflow,
  maintenanceWorkflow,
  performanceUpdateWorkflow,
} from './maintenance.workflow';
export { robotWorkflow } from './robot/robot.workflow';
