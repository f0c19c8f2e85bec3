import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Registered on the namespace by the launcher and the test setup (`--search-attribute Name=Keyword`).
export const RobotTypeKey = defineSearchAttributeKey('RobotType', SearchAttributeType.KEYWORD);
export const RobotStatusKey = defineSearchAttributeKey('RobotStatus', SearchAttributeType.KEYWORD);
export const ModuleNameKey = defineSearchAttributeKey('ModuleName', SearchAttributeType.KEYWORD);
export const RobotPriorityKey = defineSearchAttributeKey('RobotPriority', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTE_NAMES = ['RobotType', 'RobotStatus', 'ModuleName', 'RobotPriority'] as const;

/** Temporal's own (not registered by us): set on every workflow a schedule starts, its nominal time. */
export const ScheduledStartTimeKey = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);
