import type { EventRenderer } from '../modules/webhooks/dispatcher.ts'
import { presentEvent } from './v1/presenters.ts'
import { presentEventV2 } from './v2/presenters.ts'

/**
 * A webhook's body in its endpoint's api_version: the event rendered by that version's presenter.
 * v2 renders bookings as /v2/bookings shows them and every other resource as v1 does (v2 changes
 * only bookings).
 */
export const renderEvent: EventRenderer = (apiVersion, event) => {
  switch (apiVersion) {
    case 'v1':
      return JSON.stringify(presentEvent(event))
    case 'v2':
      return JSON.stringify(presentEventV2(event))
    default:
      throw new Error(`no presenter for api_version ${apiVersion}`)
  }
}
