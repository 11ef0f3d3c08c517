import { prismaRaces } from './support/races.js'

// Two clients through @prisma/adapter-pg, each with its own pool, on one schema.
await prismaRaces('postgresql', 'postgres')
