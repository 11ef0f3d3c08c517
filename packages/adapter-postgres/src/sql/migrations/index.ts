/// <reference path="../sql.d.ts" />
/**
 * The numbered migrations, oldest first. A migration is applied once per schema and recorded in
 * its `mailcadence_migrations` table; released migrations are never edited, only added to.
 */
import init from './001_init.sql'
import importing from './002_import.sql'
import nextDue from './003_next_due.sql'
import settingsVersion from './004_settings_version.sql'
import windowKeys from './005_window_keys.sql'
import inbox from './006_inbox.sql'
import variants from './007_variants.sql'
import limits from './008_limits.sql'

export interface Migration {
  version: number
  name: string
  sql: string
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: '001_init', sql: init },
  { version: 2, name: '002_import', sql: importing },
  { version: 3, name: '003_next_due', sql: nextDue },
  { version: 4, name: '004_settings_version', sql: settingsVersion },
  { version: 5, name: '005_window_keys', sql: windowKeys },
  { version: 6, name: '006_inbox', sql: inbox },
  { version: 7, name: '007_variants', sql: variants },
  { version: 8, name: '008_limits', sql: limits },
]
