import { z } from 'zod';
import { defineStep, PermanentError } from '../../sdk';

// A custom step kind in full: `text.slugify` turns the robot's `text` into a URL slug. The schemas
// are the contract: the catalog checks robot types' params against `params`, the module checks
// each attempt's params, input and output, and `run` gets them parsed and typed.
export const slugify = defineStep({
  kind: 'text.slugify',
  version: '1.0.0',
  description: 'Turns the text of the robot data into a URL slug',
  params: z.object({
    separator: z.enum(['-', '_']).default('-'),
    maxLength: z.number().int().min(8).max(200).default(80),
  }),
  input: z.object({ text: z.string().min(1) }),
  output: z.object({ slug: z.string().min(1) }),
  async run({ params, input, log }) {
    const slug = input.text
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '') // accents off: é → e
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, params.separator)
      .slice(0, params.maxLength)
      .replace(/^[-_]+|[-_]+$/g, '');
    // No retry can make a slug of "!!!": the step's verdict, not a transient error.
    if (!slug) throw new PermanentError('the text has no letters or digits to make a slug of');
    log.debug({ length: slug.length }, 'slug made');
    return { slug };
  },
});
