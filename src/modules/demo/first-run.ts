import type { Config } from '../../config.ts'
import type { Db } from '../../platform/db.ts'
import { countPartners, findFirstOwner } from '../partners/repository.ts'
import { withFixedIds } from '../../platform/ids.ts'
import { seedDemo } from './seed.ts'

/**
 * On an empty database, seeds the demo data and returns a banner with a ready test token;
 * on later starts, returns how to make a token instead.
 */
export async function firstRun(db: Db, config: Config): Promise<string> {
  const base = config.publicBaseUrl
  if ((await countPartners(db)) > 0) {
    const owner = await findFirstOwner(db)
    return (
      `\nExisting data found. To get a token (works while this server runs: the CLI goes through it):\n` +
      `  npx tvb tokens create --user ${owner ? owner.id : 'usr_…'} --mode test --name "my laptop"${owner ? `   (${owner.email})` : ''}\n` +
      `  npx tvb --help   for partners, users and tokens\n\n`
    )
  }
  // the first run's data has fixed ids, so the documentation's examples name records that exist;
  // when another process sharing this PostgreSQL seeded them a moment ago, ours get ordinary ids
  const demo = await withFixedIds(() => seedDemo(db)).catch((error: unknown) => {
    if ((error as { code?: string }).code === '23505') return seedDemo(db)
    throw error
  })
  return (
    `\nFirst run: seeded a demo partner (${demo.partnerId}) with two teams and a user for each role.\n` +
    `Test-mode token for the demo owner (shown once, keep it):\n\n` +
    `  ${demo.token}\n\n` +
    `Try it:\n` +
    `  curl -H "Authorization: Bearer ${demo.token}" ${base}/v1/me\n\n`
  )
}
