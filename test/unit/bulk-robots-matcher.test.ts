import type { Client } from '@temporalio/client';
import { BulkRobotMatcher, checkVisibilityQuery } from '../../api/bulk-robots.matcher';
import { ValidationError } from '../../core/domain/errors';

// The caller's visibility query is put in parentheses after our own conditions: it must not be able
// to close them (and so reach workflows that are not this deployment's robots) or reorder the list.

describe('checkVisibilityQuery', () => {
  it.each([
    "RobotPriority = 'low'",
    "RobotType = 'demo' AND (RobotStatus = 'pending' OR RobotStatus = 'paused')",
    "RobotType = 'a)b'",
    'RobotType = "x(" ',
  ])('accepts %s', (query) => {
    expect(() => checkVisibilityQuery(query)).not.toThrow();
  });

  it.each([
    ["RobotType = 'demo') OR (WorkflowType != ''", 'unbalanced'],
    ["RobotType = 'demo'))", 'unbalanced'],
    ["(RobotType = 'demo'", 'unbalanced'],
    ["RobotType = 'demo", 'unbalanced'],
    ["RobotType = 'demo' ORDER BY StartTime", 'ORDER BY'],
    ["RobotType = 'demo'; drop", 'ORDER BY, GROUP BY or ;'],
    ["RobotType = 'demo' group  by RobotType", 'GROUP BY'],
  ])('refuses %s', (query, message) => {
    expect(() => checkVisibilityQuery(query)).toThrow(ValidationError);
    expect(() => checkVisibilityQuery(query)).toThrow(message);
  });
});

describe('the visibility query of a filter', () => {
  const matcher = new BulkRobotMatcher({
    robots: { countMatching: async () => 0, pageMatching: async () => [] },
    temporal: {} as Client,
    namespace: 'default',
    controlTaskQueue: 'rpa-control',
  });

  it("is the robots' workflows on this control queue, created up to the operation's start, then the rest", () => {
    expect(
      matcher.visibilityQuery({
        status: 'pending',
        type: 'demo',
        module: 'ocr',
        createdFrom: '2026-01-01T00:00:00.000Z',
        createdTo: '2026-01-02T00:00:00.000Z',
        query: "RobotPriority = 'low' OR RobotPriority = 'normal'",
      }),
    ).toBe(
      "WorkflowType = 'robotWorkflow' AND TaskQueue = 'rpa-control' AND StartTime <= '2026-01-02T00:00:00.000Z'" +
        " AND StartTime >= '2026-01-01T00:00:00.000Z' AND RobotStatus = 'pending' AND RobotType = 'demo'" +
        " AND ModuleName = 'ocr' AND (RobotPriority = 'low' OR RobotPriority = 'normal')",
    );
  });
});
