import { performanceReportFields } from '../schemas';
import { problem, queryParameters } from './parts';

// OpenAPI paths of the reports (api/routes/reports.routes.ts).

export function reportPaths() {
  return {
    '/v1/reports/performance': {
      get: {
        summary:
          'Per robot type and per module: throughput, latency percentiles, success rate of robots finished in [from, to)',
        parameters: queryParameters(performanceReportFields),
        responses: {
          '200': { description: '{from, to, robotTypes: {name: Summary}, modules: {name: Summary}}' },
          '400': problem,
        },
      },
    },
  };
}
