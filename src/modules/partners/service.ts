import type { Db } from '../../platform/db.ts'
import { notFound } from '../../platform/errors.ts'
import type { Scope } from '../../platform/keyset.ts'
import { findTeam, listTeams } from './repository.ts'
import type { TeamRow } from './repository.ts'

export interface Team {
  id: string
  name: string
  created_at: string
}

export function toTeam(row: TeamRow): Team {
  return { id: row.id, name: row.name, created_at: row.created_at.toISOString() }
}

/** The teams a token covers (and only those: another team is the same 404 as an unknown id). */
export class TeamService {
  readonly #db: Db
  constructor(deps: { db: Db }) {
    this.#db = deps.db
  }

  async list(scope: Scope): Promise<Team[]> {
    return (await listTeams(this.#db, scope.partnerId, scope.teamIds)).map(toTeam)
  }

  async get(scope: Scope, id: string): Promise<Team> {
    const row = await findTeam(this.#db, scope.partnerId, scope.teamIds, id)
    if (!row) throw notFound('team')
    return toTeam(row)
  }
}
