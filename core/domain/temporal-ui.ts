/** Link to a robot's workflow in the Temporal Web UI. */
export function temporalUiRobotUrl(uiUrl: string, namespace: string, robotId: string): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(robotId)}`;
}

/** Link to a schedule on the Temporal Web UI's Schedules page. */
export function temporalUiScheduleUrl(uiUrl: string, namespace: string, scheduleId: string): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/schedules/${encodeURIComponent(scheduleId)}`;
}
