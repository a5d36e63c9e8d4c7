import type { Queryable } from '../../platform/db.ts'
import { newId } from '../../platform/ids.ts'
import type { Role } from '../tokens/permissions.ts'

export interface PartnerRow {
  id: string
  name: string
  created_at: Date
}

export interface TeamRow {
  id: string
  partner_id: string
  name: string
  created_at: Date
}

export interface UserRow {
  id: string
  partner_id: string
  email: string
  name: string
  role: Role
  created_at: Date
  team_ids: string[]
}

export async function insertPartner(db: Queryable, name: string, now: Date): Promise<PartnerRow> {
  const { rows } = await db.query<PartnerRow>('INSERT INTO partners (id, name, created_at) VALUES ($1, $2, $3) RETURNING *', [newId('partner'), name, now])
  return rows[0]!
}

export async function insertTeam(db: Queryable, partnerId: string, name: string, now: Date): Promise<TeamRow> {
  const { rows } = await db.query<TeamRow>('INSERT INTO teams (id, partner_id, name, created_at) VALUES ($1, $2, $3, $4) RETURNING *', [newId('team'), partnerId, name, now])
  return rows[0]!
}

export async function insertUser(
  db: Queryable,
  user: { partnerId: string; email: string; name: string; role: Role; teamIds: string[] },
  now: Date,
): Promise<UserRow> {
  const id = newId('user')
  await db.query('INSERT INTO users (id, partner_id, email, name, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [id, user.partnerId, user.email, user.name, user.role, now])
  for (const teamId of user.teamIds) {
    // the team must belong to the same partner: the INSERT … SELECT writes nothing otherwise
    const { rowCount } = await db.query('INSERT INTO user_teams (user_id, team_id) SELECT $1, id FROM teams WHERE id = $2 AND partner_id = $3', [id, teamId, user.partnerId])
    if (rowCount !== 1) throw new Error(`team ${teamId} does not belong to partner ${user.partnerId}`)
  }
  return (await findUser(db, id))!
}

export async function findPartner(db: Queryable, id: string): Promise<PartnerRow | undefined> {
  const { rows } = await db.query<PartnerRow>('SELECT * FROM partners WHERE id = $1', [id])
  return rows[0]
}

export async function findUser(db: Queryable, id: string): Promise<UserRow | undefined> {
  const { rows } = await db.query<UserRow>(
    `SELECT u.*, ARRAY(SELECT team_id FROM user_teams ut WHERE ut.user_id = u.id ORDER BY team_id) AS team_ids FROM users u WHERE u.id = $1`,
    [id],
  )
  return rows[0]
}

export async function countPartners(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM partners')
  return rows[0]?.n ?? 0
}

/** Teams visible to a token: only those in its team list. */
export async function listTeams(db: Queryable, partnerId: string, teamIds: readonly string[]): Promise<TeamRow[]> {
  const { rows } = await db.query<TeamRow>('SELECT * FROM teams WHERE partner_id = $1 AND id = ANY($2) ORDER BY created_at, id', [partnerId, teamIds])
  return rows
}

export async function findTeam(db: Queryable, partnerId: string, teamIds: readonly string[], id: string): Promise<TeamRow | undefined> {
  const { rows } = await db.query<TeamRow>('SELECT * FROM teams WHERE partner_id = $1 AND id = ANY($2) AND id = $3', [partnerId, teamIds, id])
  return rows[0]
}

/** Every team id of a partner, oldest first (the CLI's default for a new user). */
export async function listPartnerTeamIds(db: Queryable, partnerId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM teams WHERE partner_id = $1 ORDER BY created_at, id', [partnerId])
  return rows.map((r) => r.id)
}

/** The first OWNER of the database (the demo's), for the second-start banner. */
export async function findFirstOwner(db: Queryable): Promise<{ id: string; email: string } | undefined> {
  const { rows } = await db.query<{ id: string; email: string }>(`SELECT id, email FROM users WHERE role = 'OWNER' ORDER BY created_at, id LIMIT 1`)
  return rows[0]
}
