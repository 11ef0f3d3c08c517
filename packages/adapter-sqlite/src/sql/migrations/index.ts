/// <reference path="../sql.d.ts" />
/**
 * The numbered migrations, oldest first. A migration is applied once per file and recorded in its
 * `mailcadence_migrations` table; released migrations are never edited, only added to.
 */
import init from './001_init.sql'
import inbox from './002_inbox.sql'
import variants from './003_variants.sql'
import limits from './004_limits.sql'

export interface Migration {
  version: number
  name: string
  sql: string
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: '001_init', sql: init },
  { version: 2, name: '002_inbox', sql: inbox },
  { version: 3, name: '003_variants', sql: variants },
  { version: 4, name: '004_limits', sql: limits },
]
