import FindMyWay from 'find-my-way'
import type { HTTPMethod } from 'find-my-way'

const METHODS: HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']

/**
 * A second router holding every registered path, asked only when Fastify's own router found no
 * route: it tells a 405 (path exists, method does not; Allow lists the methods) from a 404, and
 * answers OPTIONS. The hot path never touches it.
 */
export class RouteTable {
  readonly #router = FindMyWay({ ignoreTrailingSlash: false })
  readonly routes: { method: string; url: string }[] = []

  add(method: string, url: string): void {
    this.routes.push({ method, url })
    this.#router.on(method as HTTPMethod, url, () => {})
  }

  /**
   * The route a refused request probably meant, as "METHOD /path": the same path with the last '/'
   * and ':' swapped (bookings/bkg_…/confirm for bookings/bkg_…:confirm, and back), or the one
   * write method the path takes when the request used another (PATCH where only PUT exists).
   */
  suggestion(method: string, path: string): string | null {
    const swaps = [path.replace(/\/([^/:]+)$/, ':$1'), path.replace(/:([^/:]+)$/, '/$1')].filter((p) => p !== path)
    for (const candidate of swaps) {
      if (this.#router.find(method as HTTPMethod, candidate)) return `${method} ${candidate}`
      const writes = METHODS.filter((m) => m !== 'GET' && m !== 'HEAD' && this.#router.find(m, candidate))
      if (writes.length === 1) return `${writes[0]} ${candidate}`
    }
    const writes = METHODS.filter((m) => m !== 'GET' && m !== 'HEAD' && m !== method && this.#router.find(m, path))
    // there are no partial updates: a PATCH means the PUT that replaces
    if (method === 'PATCH' && writes.includes('PUT')) return `PUT ${path}`
    if (method !== 'GET' && method !== 'HEAD' && writes.length === 1) return `${writes[0]} ${path}`
    return null
  }

  allowedMethods(path: string): string[] {
    const allowed = METHODS.filter((method) => this.#router.find(method, path) !== null)
    return allowed.length === 0 ? [] : [...allowed, 'OPTIONS']
  }
}
