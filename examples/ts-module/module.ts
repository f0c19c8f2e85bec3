import { startModule } from '../../sdk';
import { slugify } from './slugify.step';

// RPA_API_KEY=<a key with modules:write> npx rpa modules start examples/ts-module/module.ts
startModule({ name: 'text', version: '1.0.0', capacity: 4, steps: [slugify] }).catch((err: unknown) => {
  process.stderr.write(`module text did not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
