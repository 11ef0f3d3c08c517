import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BUILT_IN_VARIABLES,
  escapeHtml,
  parseTemplate,
  renderTemplate,
  templateVariables,
} from '../src/message/template.js'

describe('parseTemplate', () => {
  it('splits literal text and variables', () => {
    expect(parseTemplate('Hi {{firstName}}, how is {{company|your company}}?')).toEqual([
      'Hi ',
      { name: 'firstName', fallback: undefined },
      ', how is ',
      { name: 'company', fallback: 'your company' },
      '?',
    ])
  })

  it('returns no part for an empty template and one literal for plain text', () => {
    expect(parseTemplate('')).toEqual([])
    expect(parseTemplate('Just text, {single} braces }')).toEqual(['Just text, {single} braces }'])
  })

  it('parses adjacent variables without empty literals between them', () => {
    expect(parseTemplate('{{a}}{{b|x}}')).toEqual([
      { name: 'a', fallback: undefined },
      { name: 'b', fallback: 'x' },
    ])
  })

  it('trims whitespace around the name and the fallback', () => {
    expect(parseTemplate('{{  firstName  }}')).toEqual([{ name: 'firstName', fallback: undefined }])
    expect(parseTemplate('{{ firstName | there  }}')).toEqual([{ name: 'firstName', fallback: 'there' }])
    expect(parseTemplate('{{\tfirstName\n}}')).toEqual([{ name: 'firstName', fallback: undefined }])
  })

  it('keeps an empty fallback distinct from no fallback', () => {
    expect(parseTemplate('{{lastName|}}')).toEqual([{ name: 'lastName', fallback: '' }])
    expect(parseTemplate('{{lastName| }}')).toEqual([{ name: 'lastName', fallback: '' }])
  })

  it('keeps everything after the first bar in the fallback', () => {
    expect(parseTemplate('{{company|A|B}}')).toEqual([{ name: 'company', fallback: 'A|B' }])
  })

  it('accepts underscores and digits in names', () => {
    expect(parseTemplate('{{_plan_2}}')).toEqual([{ name: '_plan_2', fallback: undefined }])
  })

  it.each(['{{firstName', 'Hi {{firstName}} and {{company', '{{', 'a {{ b } c'])(
    'refuses an unterminated "{{" in %j',
    (template) => {
      expect(() => parseTemplate(template)).toThrow('has "{{" without a closing "}}"')
    },
  )

  it.each(['}}', 'Hi firstName}}', 'Hi }} {{firstName}}', '{{firstName}} }}', '{{a}}}}'])(
    'refuses a stray "}}" in %j',
    (template) => {
      expect(() => parseTemplate(template)).toThrow('has "}}" without a matching "{{"')
    },
  )

  it.each([
    '{{}}',
    '{{ }}',
    '{{first name}}',
    '{{1st}}',
    '{{my-var}}',
    '{{|fallback}}',
    '{{a.b}}',
    '{{{a}}}',
  ])('refuses the invalid variable name in %j', (template) => {
    expect(() => parseTemplate(template)).toThrow(/^has an invalid variable name "\{\{/)
  })

  it('throws a plain Error naming the offending reference', () => {
    expect(() => parseTemplate('x {{first name}}')).toThrow('has an invalid variable name "{{first name}}"')
  })

  it('rebuilds any brace-free text exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('{{') && !s.includes('}}')),
        (text) => {
          expect(parseTemplate(text).join('')).toBe(text)
        },
      ),
    )
  })
})

describe('templateVariables', () => {
  it('reports used variables and which of them have no fallback', () => {
    const { used, required } = templateVariables('{{firstName}} {{company|you}} {{plan}} {{lastName|}}')
    expect([...used].sort()).toEqual(['company', 'firstName', 'lastName', 'plan'])
    expect([...required].sort()).toEqual(['firstName', 'plan'])
  })

  it('counts a variable as required if any use lacks a fallback', () => {
    expect([...templateVariables('{{plan|basic}} then {{plan}}').required]).toEqual(['plan'])
    expect([...templateVariables('{{plan}} then {{plan|basic}}').required]).toEqual(['plan'])
  })

  it('is empty for plain text', () => {
    const { used, required } = templateVariables('No variables here')
    expect(used.size).toBe(0)
    expect(required.size).toBe(0)
  })

  it('throws for a malformed template', () => {
    expect(() => templateVariables('{{oops')).toThrow('without a closing')
  })

  it('lists the built-in variables', () => {
    expect(BUILT_IN_VARIABLES).toEqual(['email', 'firstName', 'lastName', 'company'])
  })
})

describe('renderTemplate', () => {
  it('fills variables with the values given', () => {
    expect(
      renderTemplate('Hi {{firstName}} from {{ company }}!', { firstName: 'Jan', company: 'Acme' }),
    ).toBe('Hi Jan from Acme!')
  })

  it('uses the fallback when the value is missing, null, empty or blank', () => {
    const template = 'Hi {{firstName|there}}'
    expect(renderTemplate(template, {})).toBe('Hi there')
    expect(renderTemplate(template, { firstName: null })).toBe('Hi there')
    expect(renderTemplate(template, { firstName: undefined })).toBe('Hi there')
    expect(renderTemplate(template, { firstName: '' })).toBe('Hi there')
    expect(renderTemplate(template, { firstName: '  \t' })).toBe('Hi there')
  })

  it('renders a missing value without a fallback as the empty string', () => {
    expect(renderTemplate('[{{plan}}]', {})).toBe('[]')
    expect(renderTemplate('[{{plan|}}]', { plan: ' ' })).toBe('[]')
  })

  it('keeps a value as given (not trimmed) when it is not blank', () => {
    expect(renderTemplate('[{{firstName|x}}]', { firstName: ' Jan ' })).toBe('[ Jan ]')
  })

  it('does not interpret template syntax inside values', () => {
    expect(renderTemplate('{{a}}', { a: '{{b}}', b: 'no' })).toBe('{{b}}')
  })

  it('does not escape in text mode', () => {
    expect(renderTemplate('{{company}}', { company: 'A & B <c> "d"' })).toBe('A & B <c> "d"')
    expect(renderTemplate('{{company|<none>}}', {})).toBe('<none>')
  })

  it('escapes values in html mode, but not the template markup', () => {
    expect(
      renderTemplate(
        '<p>Hi {{firstName}}</p>',
        { firstName: `<script>alert('x')</script> & "co"` },
        { html: true },
      ),
    ).toBe('<p>Hi &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;</p>')
  })

  it('escapes fallbacks in html mode too', () => {
    expect(renderTemplate('<b>{{company|Smith & <Sons>}}</b>', {}, { html: true })).toBe(
      '<b>Smith &amp; &lt;Sons&gt;</b>',
    )
  })

  it('throws for a malformed template', () => {
    expect(() => renderTemplate('Hi {{firstName', { firstName: 'Jan' })).toThrow('without a closing')
    expect(() => renderTemplate('Hi }}', {})).toThrow('without a matching')
  })

  it('never lets a value inject markup in html mode (property)', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        const out = renderTemplate('<i>{{v}}</i>', { v: value }, { html: true })
        const inner = out.slice(3, -4)
        expect(inner).not.toMatch(/[<>"']/)
        expect(inner.replace(/&(amp|lt|gt|quot|#39);/g, '')).not.toContain('&')
      }),
    )
  })
})

describe('escapeHtml', () => {
  it('escapes the five HTML-special characters', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;')
    expect(escapeHtml('plain text')).toBe('plain text')
    expect(escapeHtml('&amp;')).toBe('&amp;amp;')
  })
})

describe('parseTemplate nesting', () => {
  it('refuses "{{" inside a variable or its fallback', () => {
    expect(() => parseTemplate('{{a|{{b}}')).toThrow('has "{{" inside a variable')
  })
})
