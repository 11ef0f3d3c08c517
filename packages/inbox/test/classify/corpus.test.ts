import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type Classification, classifyMessage } from '../../src/index.js'
import { EXPECTATIONS, type Expectation } from '../fixtures/expectations.js'

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))
const files = readdirSync(fixtures)
  .filter((name) => name.endsWith('.eml'))
  .sort()

/** The fields an expectation names, read from a classification in the same shape. */
function observed(result: Classification, expected: Expectation): Expectation {
  const seen: Expectation = { kind: result.kind, linked: result.linkedMessageIds }
  if (expected.rule !== undefined) seen.rule = result.rule
  if (result.kind === 'bounce' && expected.severity !== undefined) seen.severity = result.severity
  if ((result.kind === 'bounce' || result.kind === 'delay') && expected.recipients !== undefined) {
    seen.recipients = result.recipients.map((r) => `${r.finalRecipient} ${r.status} ${r.severity}`)
  }
  if (result.kind === 'out-of-office' && expected.returnDate !== undefined)
    seen.returnDate = result.returnDate
  if (result.kind === 'complaint' && expected.complainer !== undefined)
    seen.complainer = result.originalRecipient
  return seen
}

describe('the fixture corpus', () => {
  it('has at least 40 messages, each with an expectation and each expectation with a file', () => {
    expect(files.length).toBeGreaterThanOrEqual(40)
    expect(files).toEqual(Object.keys(EXPECTATIONS).sort())
  })

  it.each(files)('%s', async (name) => {
    const expected = EXPECTATIONS[name]!
    const result = await classifyMessage(readFileSync(`${fixtures}${name}`))
    expect(observed(result, expected)).toEqual(expected)
  })

  it('reads the same message from a string, a Buffer and a Uint8Array', async () => {
    const bytes = readFileSync(`${fixtures}postfix-dsn-hard.eml`)
    const fromBuffer = await classifyMessage(bytes)
    expect(await classifyMessage(bytes.toString('utf8'))).toEqual(fromBuffer)
    expect(await classifyMessage(new Uint8Array(bytes))).toEqual(fromBuffer)
  })
})
