/**
 * A store wrapper that notes every invalid `Date` core hands to the store: validation must stop
 * them at the edge, and a database may store one silently (node-postgres sends `NaN` dates) or
 * refuse it later.
 */
import type { Store } from '../../../store.js'
import type { MakeStore } from '../harness.js'

const found = new WeakMap<Store, string[]>()

function findInvalidDate(value: unknown, path: string, depth = 0): string | null {
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? null : path
  if (depth > 6 || typeof value !== 'object' || value === null) return null
  for (const [key, v] of Object.entries(value)) {
    const hit = findInvalidDate(v, `${path}.${key}`, depth + 1)
    if (hit) return hit
  }
  return null
}

/** `makeStore` whose stores record the invalid dates they are given (read with `invalidDatesGiven`). */
export function guardedMakeStore(makeStore: MakeStore): MakeStore {
  return async () => {
    const store = await makeStore()
    const notes: string[] = []
    const guarded = new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver)
        if (typeof value !== 'function') return value
        return (...args: unknown[]) => {
          const hit = findInvalidDate(args, `store.${String(key)}(args)`)
          if (hit) notes.push(hit)
          return value.apply(target, args)
        }
      },
    })
    found.set(guarded, notes)
    return guarded
  }
}

/** The invalid dates handed to the store so far (emptied on read). */
export function invalidDatesGiven(store: Store): string[] {
  return found.get(store)?.splice(0) ?? []
}
