import type { EventRenderer } from '../modules/webhooks/dispatcher.ts'
import { presentEvent } from './v1/presenters.ts'

/**
 * A webhook's body in its endpoint's api_version: the event rendered by that version's presenter,
 * as GET /{version}/events/{id} shows it. v1 is the only version so far.
 */
export const renderEvent: EventRenderer = (apiVersion, event) => {
  switch (apiVersion) {
    case 'v1':
      return JSON.stringify(presentEvent(event))
    default:
      throw new Error(`no presenter for api_version ${apiVersion}`)
  }
}
