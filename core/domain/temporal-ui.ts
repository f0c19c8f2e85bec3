/** Link to a robot's workflow in the Temporal Web UI. */
export function temporalUiRobotUrl(uiUrl: string, namespace: string, robotId: string): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(robotId)}`;
}
