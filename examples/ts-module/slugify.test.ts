import { PermanentError, runStep } from '../../sdk';
import { slugify } from './slugify.step';

// The step alone, as the module runs it (schemas included), without Temporal or the API.
describe('text.slugify', () => {
  it('makes a slug with the default params', async () => {
    expect(await runStep(slugify, { input: { text: 'Crème brûlée: 2 portions!' } })).toEqual({
      slug: 'creme-brulee-2-portions',
    });
  });

  it('takes a separator and a maximum length', async () => {
    const output = await runStep(slugify, {
      params: { separator: '_', maxLength: 8 },
      input: { text: 'Quarterly report 2026' },
    });
    expect(output).toEqual({ slug: 'quarterl' });
  });

  it('refuses input without text, naming the field', async () => {
    await expect(runStep(slugify, { input: { title: 'x' } })).rejects.toThrow(/input\.text: /);
  });

  it('refuses bad params, naming the field', async () => {
    await expect(runStep(slugify, { params: { separator: '.' }, input: { text: 'a' } })).rejects.toThrow(
      /params\.separator: /,
    );
  });

  it('fails for good when there is nothing to slug', async () => {
    await expect(runStep(slugify, { input: { text: '!!!' } })).rejects.toBeInstanceOf(PermanentError);
  });
});
