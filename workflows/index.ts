// The workflow bundle's entry: every workflow the control worker runs.
export { robotWorkflow } from './robot.workflow';
