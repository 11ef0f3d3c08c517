import { runStoreConformance, runStoreContract } from '@mailcadence/core/testing'
import { createMemoryStore } from '../src/index.js'

runStoreConformance('memory', () => createMemoryStore())
runStoreContract('memory', () => createMemoryStore())
