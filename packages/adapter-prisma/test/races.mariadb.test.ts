import { prismaRaces } from './support/races.js'

// Two clients through @prisma/adapter-mariadb, each with its own pool, on one database.
await prismaRaces('mysql', 'mariadb')
