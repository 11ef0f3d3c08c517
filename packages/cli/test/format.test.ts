import { describe, expect, it } from 'vitest'
import { redact } from '../src/errors.js'
import { printable, table } from '../src/format.js'

describe('output', () => {
  it('keeps control characters of data (escape sequences, newlines) off the terminal', () => {
    expect(printable('Hi \u001b[31mred\u001b[0m\nnext')).toBe('Hi ?[31mred?[0m?next')
    expect(table(['A', 'B'], [['x\u001b', 'y']])).toBe('A   B\nx?  y')
  })

  it('redacts the connection string and its password, encoded or not', () => {
    const url = 'postgres://ops:p%40ss@db.internal:5432/prod'
    expect(redact(`failed for ${url}`, url)).toBe('failed for ***')
    expect(redact('password p@ss rejected', url)).toBe('password *** rejected')
    expect(redact('at postgres://x:hunter2@h/db', undefined)).toBe('at postgres://x:***@h/db')
  })
})
