import { defineQuery } from '@temporalio/workflow';
import type { MailboxMonitorState } from '../core/mailbox-workflow';

// The mailbox monitor's query handle; its contract (name, state, activity shapes) is
// core/mailbox-workflow.ts.

export const mailboxStateQuery = defineQuery<MailboxMonitorState>('mailboxState');
