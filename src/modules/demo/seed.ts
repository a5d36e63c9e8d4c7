import type { Clock } from '../../platform/clock.ts'
import { systemClock } from '../../platform/clock.ts'
import type { Db } from '../../platform/db.ts'
import { insertPartner, insertTeam, insertUser } from '../partners/repository.ts'
import type { UserRow } from '../partners/repository.ts'
import { ROLES } from '../tokens/permissions.ts'
import type { Role } from '../tokens/permissions.ts'
import { TokenService } from '../tokens/service.ts'

export interface DemoSeed {
  partnerId: string
  teamIds: string[]
  users: Record<Role, UserRow>
  token: string
  tokenId: string
}

/** A demo partner with two teams, one user per role, and a test-mode token for the owner. */
export async function seedDemo(db: Db, clock: Clock = systemClock): Promise<DemoSeed> {
  const now = clock.now()
  const { partner, teams, users } = await db.transaction(async (tx) => {
    const partner = await insertPartner(tx, 'Demo Travel Co', now)
    const teams = [await insertTeam(tx, partner.id, 'Saigon Office', now), await insertTeam(tx, partner.id, 'Hanoi Office', now)]
    const users = {} as Record<Role, UserRow>
    for (const role of ROLES) {
      const slug = role.toLowerCase().replace('_', '-')
      // the owner and admin see both offices; the others work in Saigon
      const teamIds = role === 'OWNER' || role === 'ADMIN' ? teams.map((t) => t.id) : [teams[0]!.id]
      users[role] = await insertUser(tx, { partnerId: partner.id, email: `${slug}@demo.travobooks.test`, name: `Demo ${role.replace('_', ' ').toLowerCase()}`, role, teamIds }, now)
    }
    return { partner, teams, users }
  })
  const tokens = new TokenService({ db, clock, onTokenChanged: () => {} })
  const token = await tokens.create(users.OWNER.id, 'test', { name: 'Demo owner token (created on first run)' }, null)
  return { partnerId: partner.id, teamIds: teams.map((t) => t.id), users, token: token.secret, tokenId: token.id }
}
