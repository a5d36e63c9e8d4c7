import { PGlite } from '@electric-sql/pglite'
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist'
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto'
const t0 = Date.now()
const db = new PGlite('/tmp/pgl-probe', { extensions: { btree_gist, pgcrypto } })
await db.waitReady
console.log('reopen ms', Date.now() - t0)
