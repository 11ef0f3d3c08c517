/**
 * Every TypeScript block of the READMEs compiles as written (see integration/docs/snippets.ts for
 * the `<!-- snippet: assume … -->` and `<!-- snippet: skip … -->` markers). Type-checks against the
 * packages' built declarations, as a host app would: `pnpm test` builds them first. A package a
 * snippet imports must be a dependency of integration/package.json.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { checkSnippets, extractSnippets } from '../../docs/snippets.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const scratch = fileURLToPath(new URL('../../.snippets', import.meta.url))

it('reads blocks, their markers and their indentation', () => {
  const markdown = [
    'text',
    '<!-- snippet: assume',
    'declare const x: number',
    '-->',
    '',
    '```ts',
    'x.toFixed()',
    '```',
    '- item',
    '',
    '  ```typescript',
    '  const y = 1',
    '  ```',
    '<!-- snippet: skip needs a generated client -->',
    '```ts',
    "import { PrismaClient } from './generated/client.js'",
    '```',
    '```sh',
    'pnpm demo',
    '```',
    '````md',
    '```ts',
    'shown, not checked',
    '```',
    '````',
  ].join('\n')
  expect(extractSnippets(markdown, 'X.md')).toEqual([
    { file: 'X.md', fence: 6, code: 'x.toFixed()', prelude: 'declare const x: number', skip: undefined },
    { file: 'X.md', fence: 11, code: 'const y = 1', prelude: '', skip: undefined },
    {
      file: 'X.md',
      fence: 15,
      code: "import { PrismaClient } from './generated/client.js'",
      prelude: '',
      skip: 'needs a generated client',
    },
  ])
})

it('type-checks every TypeScript block of the READMEs', { timeout: 120_000 }, async () => {
  const unbuilt = readdirSync(join(root, 'packages')).filter(
    (name) => !existsSync(join(root, 'packages', name, 'dist')),
  )
  if (unbuilt.length > 0)
    throw new Error(
      `the snippets are checked against the built packages: run pnpm build (not built: ${unbuilt.join(', ')})`,
    )
  const result = await checkSnippets(root, scratch)
  expect(result.checked).toBeGreaterThan(20)
  expect(result.errors.join('\n')).toBe('')
})
