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

  allowedMethods(path: string): string[] {
    const allowed = METHODS.filter((method) => this.#router.find(method, path) !== null)
    return allowed.length === 0 ? [] : [...allowed, 'OPTIONS']
  }
}
