import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FAILURE_TYPES } from '../../core/domain/failure-types';

const root = path.join(__dirname, '..', '..');
const PRODUCTION = ['activities', 'api', 'cli', 'core', 'db', 'workers', 'workflows'];

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' ? [] : sources(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

describe('the failure-type catalogue', () => {
  it('gives every type one name', () => {
    const values = Object.values(FAILURE_TYPES);
    expect(new Set(values).size).toBe(values.length);
  });

  it('is the only production source that spells a failure type', () => {
    const catalogue = path.join('core', 'domain', 'failure-types.ts');
    const spelled = PRODUCTION.flatMap(sources)
      .filter((file) => file !== catalogue)
      .flatMap((file) => {
        const text = readFileSync(path.join(root, file), 'utf8');
        return Object.values(FAILURE_TYPES)
          .filter((type) => text.includes(`'${type}'`) || text.includes(`"${type}"`))
          .map((type) => `${file}: '${type}'`);
      });
    expect(spelled).toEqual([]);
  });
});
