/**
 * A worker killed (SIGKILL) with sends in flight: once the lease ends, another process's recovery
 * fails those items as `interrupted`, sends everything else once, and leaves nothing `sending`.
 * The killed process held no transaction while its transport stalled, and SQLite drops a dead
 * process's locks with it, so the survivor never waits for it.
 */
import { join } from 'node:path'
import { createScheduler } from '@mailcadence/core'
import { createRecordingTransport } from '@mailcadence/core/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { createSqliteStore, type SqliteStore } from '../src/index.js'
import { tempFiles } from './support/files.js'
import { readRecords, startWorker, waitFor } from './support/workers.js'

describe('a worker that dies mid-send', () => {
  const files = tempFiles('crash')
  const stores: SqliteStore[] = []
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
  })

  it('recovers after SIGKILL with sends in flight: nothing left sending, nothing sent twice', {
    timeout: 90_000,
  }, async () => {
    const filename = files.next('kill')
    const store = createSqliteStore({ filename })
    stores.push(store)
    const scheduler = createScheduler({ store, transport: createRecordingTransport() })
    const boxes = [
      await scheduler.createMailbox({ email: 'a@sender.test', dailyEmailLimit: 1000 }),
      await scheduler.createMailbox({ email: 'b@sender.test', dailyEmailLimit: 1000 }),
    ]
    // A campaign sends one email at a time, so the sends in flight at once come from ten campaigns.
    const ids: string[] = []
    for (let c = 0; c < 10; c++) {
      const campaign = await scheduler.createCampaign({
        name: `kill ${c}`,
        startHour: 0,
        endHour: 24,
        allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
        delayBetweenEmails: 0,
        jitter: 0,
        maxEmailsPerDay: 1000,
        mailboxIds: boxes.map((b) => b.id),
        steps: [{ subject: 'Hi', text: 'Hello' }],
      })
      await scheduler.addLeads(
        campaign.id,
        Array.from({ length: 3 }, (_, i) => ({ email: `kill${c}-${i}@example.com` })),
      )
      await scheduler.startCampaign(campaign.id)
      ids.push(campaign.id)
    }
    const statuses = async () => {
      const counts: Record<string, number> = {}
      for (const id of ids) {
        for (const [status, n] of Object.entries(await store.queueStats(id))) {
          if (typeof n === 'number' && n > 0) counts[status] = (counts[status] ?? 0) + n
        }
      }
      return counts
    }

    const lease = 2_000
    const killedRecord = join(files.dir, 'killed.jsonl')
    const killed = startWorker({
      name: 'killed',
      filename,
      record: killedRecord,
      transport: 'stall',
      lease,
      maxSendsPerCampaignPerTick: 10,
      concurrency: 10,
    })
    await waitFor('10 stalled sends', () => readRecords(killedRecord).length >= 10)
    expect((await statuses()).sending).toBe(10)
    killed.child.kill('SIGKILL')
    await new Promise((resolve) => killed.child.once('exit', resolve))
    const reservedAt = Date.now()

    // Before the lease ends nothing is recovered; after it, a survivor fails the ten as interrupted.
    expect(await store.recoverExpiredLeases(new Date(reservedAt - lease), 'fail')).toEqual([])
    const survivorRecord = join(files.dir, 'survivor.jsonl')
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, reservedAt + lease + 200 - Date.now())))
    const survivor = startWorker({
      name: 'survivor',
      filename,
      record: survivorRecord,
      transport: 'record',
      lease,
      leaseRecovery: 'fail',
      maxSendsPerCampaignPerTick: 10,
    })
    const summary = await survivor.done
    expect(summary.recovered).toBe(10)

    const stalled = readRecords(killedRecord)
    const resent = readRecords(survivorRecord)
    const keys = [...stalled, ...resent].map((r) => `${r.leadId}|${r.step}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(resent).toHaveLength(20)
    expect(await statuses()).toEqual({ sent: 20, failed: 10 })
    const failed = (await Promise.all(ids.map((id) => store.listQueueItems(id))))
      .flat()
      .filter((item) => item.status === 'failed')
    expect(new Set(failed.map((i) => i.id))).toEqual(new Set(stalled.map((r) => r.itemId)))
    expect(failed.every((i) => i.lastError === 'interrupted')).toBe(true)
    const logged = (await Promise.all(ids.map((id) => store.listSendLog(id)))).flat()
    expect(logged).toHaveLength(20)
    for (const id of ids) expect((await scheduler.getCampaign(id)).status).toBe('COMPLETED')
  })
})
