import { alertPaths } from './alerts.paths';
import { appPaths } from './app.paths';
import { approvalPaths } from './approvals.paths';
import { bulkOperationSchema, bulkRobotPaths } from './bulk-robots.paths';
import { documentPaths } from './documents.paths';
import { emailPaths } from './emails.paths';
import { mailboxPaths } from './mailboxes.paths';
import { modulePaths } from './modules.paths';
import { notificationPaths } from './notifications.paths';
import { problemSchema } from './parts';
import { reportPaths } from './reports.paths';
import { controlResultSchema, robotControlPaths } from './robot-control.paths';
import { robotTypePaths } from './robot-types.paths';
import { robotEventPaths, robotPaths, robotSchema } from './robots.paths';
import { schedulePaths } from './schedules.paths';
import { stepKindPaths } from './step-kinds.paths';

// Built from the same zod schemas the routes parse with, so the document cannot drift from validation.
// One paths file per routes file; the admin routes (keys, audit, secrets) come with withSecurity.

export function buildOpenApiDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'rpa-orchestrator API', version, description: 'Robots as durable Temporal workflows.' },
    // In the order the document has always listed them, so that a client diffing it sees no change.
    paths: {
      ...robotPaths(),
      ...modulePaths(),
      ...stepKindPaths(),
      ...robotEventPaths(),
      ...reportPaths(),
      ...alertPaths(),
      ...mailboxPaths(),
      ...emailPaths(),
      ...notificationPaths(),
      ...robotControlPaths(),
      ...bulkRobotPaths(),
      ...approvalPaths(),
      ...robotTypePaths(),
      ...documentPaths(),
      ...schedulePaths(),
      ...appPaths(),
    },
    components: {
      schemas: {
        Problem: problemSchema,
        ControlResult: controlResultSchema,
        Robot: robotSchema,
        BulkOperation: bulkOperationSchema,
      },
    },
  };
}
