import type { Scheduler } from '@mailcadence/core'
import type pg from 'pg'

/** Adds a demo mailbox, campaign and leads, unless the schema already has a campaign. */
export async function seedDemo(
  scheduler: Scheduler,
  pool: pg.Pool,
  schema: string,
  options: { leads: number; delaySeconds: number },
): Promise<void> {
  const { rows } = await pool.query(`SELECT 1 FROM "${schema}".campaigns LIMIT 1`)
  if (rows.length > 0) return
  const mailbox = await scheduler.createMailbox({
    email: 'anna@acme.test',
    name: 'Anna',
    dailyEmailLimit: 200,
  })
  const campaign = await scheduler.createCampaign({
    name: 'Example outreach',
    timezone: 'UTC',
    startHour: 0,
    endHour: 24,
    allowedDays: 'MON,TUE,WED,THU,FRI,SAT,SUN',
    delayBetweenEmails: options.delaySeconds,
    maxEmailsPerDay: 500,
    mailboxIds: [mailbox.id],
    steps: [
      { subject: 'Hi {{firstName|there}}', text: 'Hello {{firstName|there}}, a quick note.' },
      { delayDays: 2, text: 'Following up on my note.' },
    ],
  })
  const leads = Array.from({ length: options.leads }, (_, i) => ({
    email: `lead${i}@example.com`,
    firstName: `Lead${i}`,
  }))
  await scheduler.addLeads(campaign.id, leads)
  await scheduler.startCampaign(campaign.id)
  console.log(`seeded campaign ${campaign.id} with ${options.leads} leads`)
}
