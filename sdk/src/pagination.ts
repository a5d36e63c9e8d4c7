import { TravobooksError } from './errors.ts'

/** One page of a v1/v2 list. */
export interface CursorPage<T> {
  data: T[]
  pagination: { next_cursor: string | null; has_more: boolean }
}

/**
 * One page of an External API list. `page` is the number of the page (also when a cursor led to
 * it); `next_cursor` continues the walk, null on the last page.
 */
export interface NumberedPage<T> {
  items: T[]
  total: number
  page: number
  limit: number
  total_pages: number
  next_cursor: string | null
}

/** Where a page of an External API list starts: a page number for the first, the previous page's cursor after it. */
export type PagePosition = { page: number; cursor?: undefined } | { cursor: string; page?: undefined }

/**
 * A server that answers "more" with the very cursor it was sent would be walked forever: a
 * TravobooksError instead, so the caller sees a bug report rather than a hang.
 */
function paginationLoop(cursor: string): TravobooksError {
  return new TravobooksError({
    code: 'PAGINATION_LOOP',
    message: `The server answered the cursor ${cursor} with itself as the next cursor; stopping instead of requesting the same page forever.`,
    status: 0,
    retry_advice: 'non_retryable',
    details: { cursor },
  })
}

/**
 * Every item of a list, across as many requests as it takes: `for await (const b of list)`.
 * Nothing is requested until iteration starts, and each iteration starts over from the first page.
 */
abstract class PagedList<T, Page> implements AsyncIterable<T> {
  /** Each page in turn, for callers that want the page boundaries (or the page's totals). */
  abstract pages(): AsyncGenerator<Page, void, undefined>
  protected abstract itemsOf(page: Page): T[]

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* this.itemsOf(page)
  }

  /** The first page only. */
  async firstPage(): Promise<Page> {
    for await (const page of this.pages()) return page
    throw new Error('a list always answers a first page')
  }

  /** Every item in one array; mind the size of what you ask for. */
  async toArray(): Promise<T[]> {
    const all: T[] = []
    for await (const item of this) all.push(item)
    return all
  }
}

export class CursorList<T> extends PagedList<T, CursorPage<T>> {
  constructor(
    private readonly fetchPage: (cursor: string | undefined) => Promise<CursorPage<T>>,
    private readonly startCursor?: string,
  ) {
    super()
  }

  async *pages(): AsyncGenerator<CursorPage<T>, void, undefined> {
    let cursor = this.startCursor
    for (;;) {
      const page = await this.fetchPage(cursor)
      yield page
      const next = page.pagination.next_cursor
      if (!page.pagination.has_more || !next) return
      if (next === cursor) throw paginationLoop(next)
      cursor = next
    }
  }

  protected itemsOf(page: CursorPage<T>): T[] {
    return page.data
  }
}

/**
 * An External API list, walked the way docs/external-api.md recommends: the first page by number,
 * every later one by the previous page's signed next_cursor. Page numbers shift when items are
 * created or deleted meanwhile (an item repeated or skipped); a cursor continues right after the
 * last item seen.
 */
export class NumberedList<T> extends PagedList<T, NumberedPage<T>> {
  constructor(
    private readonly fetchPage: (position: PagePosition) => Promise<NumberedPage<T>>,
    private readonly startPage = 1,
  ) {
    super()
  }

  async *pages(): AsyncGenerator<NumberedPage<T>, void, undefined> {
    let position: PagePosition = { page: this.startPage }
    for (;;) {
      const page = await this.fetchPage(position)
      yield page
      const next = page.next_cursor
      if (page.items.length === 0 || !next) return
      if (next === position.cursor) throw paginationLoop(next)
      position = { cursor: next }
    }
  }

  protected itemsOf(page: NumberedPage<T>): T[] {
    return page.items
  }
}
