import { escapeHtml, renderTemplate, singleLine, TemplateError } from '../../core/domain/template';

describe('renderTemplate', () => {
  const data = { robotId: 'r1', input: { name: 'Ana', total: 12.5, tags: ['a'], empty: '' }, previous: {} };

  it('fills dotted paths, JSON for non-strings, and tolerates spaces', () => {
    expect(renderTemplate('Hi {{input.name}}, {{ input.total }} {{input.tags}} ({{robotId}})', data)).toBe(
      'Hi Ana, 12.5 ["a"] (r1)',
    );
    expect(renderTemplate('[{{input.empty}}]', data)).toBe('[]');
  });

  it('names every missing placeholder instead of leaving holes', () => {
    expect(() => renderTemplate('{{input.nope}} and {{other.x}}', data)).toThrow(TemplateError);
    expect(() => renderTemplate('{{input.nope}} and {{other.x}}', data)).toThrow(
      '{{input.nope}}, {{other.x}}',
    );
  });

  it('never walks the prototype chain', () => {
    expect(() => renderTemplate('{{input.constructor}}', data)).toThrow('no value for {{input.constructor}}');
    expect(() => renderTemplate('{{input.__proto__}}', data)).toThrow(TemplateError);
  });

  it('escapes values (not the template) for HTML', () => {
    const html = renderTemplate(
      '<p>{{input.name}}</p>',
      { input: { name: '<script>x</script>&"' } },
      escapeHtml,
    );
    expect(html).toBe('<p>&lt;script&gt;x&lt;/script&gt;&amp;&quot;</p>');
  });

  it('keeps header values on one line', () => {
    expect(singleLine('Re: hi\r\nBcc: all@example.com\u0000')).toBe('Re: hi Bcc: all@example.com');
  });
});
