import { UnavailableError } from '../../core/domain/errors';
import { DatabaseGuard, isDatabaseUnavailable } from '../../db/database-guard';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const wrapped = new Error('Failed query: insert into robots …', { cause: refused });
const uniqueViolation = Object.assign(new Error('duplicate key value'), { code: '23505' });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', refused, true],
    ['the same wrapped by Drizzle', wrapped, true],
    ['admin shutdown (57P01)', Object.assign(new Error('terminating connection'), { code: '57P01' }), true],
    ['too many connections (53300)', Object.assign(new Error('too many clients'), { code: '53300' }), true],
    ['a unique violation (23505)', uniqueViolation, false],
    ['a bad value (22P02)', Object.assign(new Error('invalid input syntax'), { code: '22P02' }), false],
    ['not an error', 'oops', false],
  ])('%s -> %s', (_name, err, expected) => {
    expect(isDatabaseUnavailable(err)).toBe(expected);
  });
});

describe('DatabaseGuard', () => {
  it('opens after consecutive unavailability errors and then fails fast with Retry-After', async () => {
    const guard = new DatabaseGuard({ threshold: 2, halfOpenAfterMs: 60_000 });
    let calls = 0;
    const failing = async () => {
      calls++;
      throw wrapped;
    };
    await expect(guard.run(failing)).rejects.toBeInstanceOf(UnavailableError);
    await expect(guard.run(failing)).rejects.toBeInstanceOf(UnavailableError);
    expect(guard.open).toBe(true);
    const rejected = await guard.run(failing).catch((err: unknown) => err);
    expect(rejected).toBeInstanceOf(UnavailableError);
    expect((rejected as UnavailableError).retryAfterSeconds).toBe(60);
    expect(calls).toBe(2); // the open circuit did not call the database
  });

  it('passes data errors through unchanged and does not count them', async () => {
    const guard = new DatabaseGuard({ threshold: 1, halfOpenAfterMs: 1000 });
    await expect(guard.run(async () => Promise.reject(uniqueViolation))).rejects.toBe(uniqueViolation);
    expect(guard.open).toBe(false);
    await expect(guard.run(async () => 'ok')).resolves.toBe('ok');
  });
});
