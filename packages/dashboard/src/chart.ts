/** The week's sends as a server-rendered SVG bar chart: no script, no client framework. */
import type { DaySends } from '@mailcadence/core'
import { type Html, html } from './html.js'

const WIDTH = 560
const HEIGHT = 200
const TOP = 22
const BOTTOM = 28

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']

export function sendsChart(days: readonly DaySends[]): Html {
  const max = Math.max(1, ...days.map((d) => d.sent))
  const slot = WIDTH / Math.max(1, days.length)
  const plot = HEIGHT - TOP - BOTTOM
  const bars = days.map((d, i) => {
    const h = Math.round((d.sent / max) * plot)
    const x = Math.round(i * slot + slot * 0.15)
    const w = Math.round(slot * 0.7)
    const y = TOP + plot - h
    const weekday = WEEKDAYS[new Date(`${d.day}T12:00:00Z`).getUTCDay()]
    return html`<g><rect class="day" x="${x}" y="${y}" width="${w}" height="${h}" data-day="${d.day}" data-sent="${d.sent}"><title>${d.day}: ${d.sent} sent</title></rect>
<text x="${x + w / 2}" y="${y - 6}" text-anchor="middle">${d.sent}</text>
<text x="${x + w / 2}" y="${HEIGHT - 10}" text-anchor="middle">${weekday} ${d.day.slice(5)}</text></g>`
  })
  return html`<svg class="chart" role="img" aria-label="Sends per day" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" preserveAspectRatio="xMidYMid meet">
<line x1="0" x2="${WIDTH}" y1="${TOP + plot}" y2="${TOP + plot}" stroke="#e3e7ee"/>${bars}</svg>`
}
