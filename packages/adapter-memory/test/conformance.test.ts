import { runStoreConformance, runStoreContract } from '@mailcadence/core/conformance'
import { createMemoryStore } from '../src/index.js'

runStoreConformance('memory', () => createMemoryStore())
runStoreContract('memory', () => createMemoryStore())
