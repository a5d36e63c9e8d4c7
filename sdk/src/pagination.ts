/** One page of a v1/v2 list. */
export interface CursorPage<T> {
  data: T[]
  pagination: { next_cursor: string | null; has_more: boolean }
}

/** One page of an External API list (page numbers; next_cursor is additive). */
export interface NumberedPage<T> {
  items: T[]
  total: number
  page: number
  limit: number
  total_pages: number
  next_cursor?: string | null
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
      cursor = next
    }
  }

  protected itemsOf(page: CursorPage<T>): T[] {
    return page.data
  }
}

export class NumberedList<T> extends PagedList<T, NumberedPage<T>> {
  constructor(
    private readonly fetchPage: (page: number) => Promise<NumberedPage<T>>,
    private readonly startPage = 1,
  ) {
    super()
  }

  async *pages(): AsyncGenerator<NumberedPage<T>, void, undefined> {
    for (let number = this.startPage; ; number++) {
      const page = await this.fetchPage(number)
      yield page
      if (page.items.length === 0 || page.page >= page.total_pages) return
    }
  }

  protected itemsOf(page: NumberedPage<T>): T[] {
    return page.items
  }
}
