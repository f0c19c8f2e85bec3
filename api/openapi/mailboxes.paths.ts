// OpenAPI paths of the mailboxes (api/routes/mailboxes.routes.ts).

export function mailboxPaths() {
  return {
    '/v1/mailboxes': {
      get: {
        summary:
          'Email-intake mailboxes (MAILBOXES, without passwords) with their monitor: status, UID checkpoint, last message, failures, alerts',
        responses: {
          '200': {
            description:
              '{items: [{name, host, port, secure, user, folder, robotType, processed, processedFolder, expectedHeartbeatSeconds, pollIntervalSeconds, failuresBeforeAlert, monitor: {workflowId, status, checkpoint: {uidValidity, lastUid}, watchingSince, lastMessageAt, lastCheckAt, messagesReceived, consecutiveFailures, lastError, alerts: {silent, unreachable}} | null, monitorError?}]}',
          },
        },
      },
    },
  };
}
