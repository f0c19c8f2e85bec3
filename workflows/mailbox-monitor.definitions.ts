import { defineQuery } from '@temporalio/workflow';
import type { MailboxMonitorState } from '../core/domain/mailbox-workflow.contract';

// The mailbox monitor's query handle; its contract (name, state, activity shapes) is
// core/domain/mailbox-workflow.contract.ts.

export const mailboxStateQuery = defineQuery<MailboxMonitorState>('mailboxState');
