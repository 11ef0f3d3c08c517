import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { buildMessage, headerSafe, makeMessageId, stepSubject } from '../src/message/build.js'
import type { Campaign, Lead, Mailbox, QueueItem, Step } from '../src/model/types.js'
import {
  CAMPAIGN_DEFAULTS,
  leadValues,
  prepareLead,
  requiredVariables,
  validateCampaign,
} from '../src/model/validate.js'
import type { OutgoingMessage } from '../src/transport.js'

const T0 = new Date('2026-03-02T10:00:00Z')

function makeCampaign(steps: Step[], overrides: Partial<Campaign> = {}): Campaign {
  return {
    id: 'c-1',
    name: 'Q4 outreach',
    status: 'IN_PROGRESS',
    ...CAMPAIGN_DEFAULTS,
    mailboxIds: ['mb-1'],
    steps,
    variables: ['plan'],
    createdAt: T0,
    updatedAt: T0,
    settingsVersion: 1,
    nextSlotAt: null,
    lastMailboxId: null,
    externalId: null,
    ...overrides,
  }
}

function makeMailbox(overrides: Partial<Mailbox> = {}): Mailbox {
  return {
    id: 'mb-1',
    email: 'anna@acme.test',
    name: 'Anna Smith',
    dailyEmailLimit: 50,
    hourlyLimit: null,
    rampUp: null,
    rampLevel: 0,
    rampDayKey: null,
    provider: null,
    timezone: 'UTC',
    pausedUntil: null,
    pauseReason: null,
    skipDates: [],
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  }
}

function makeLead(overrides: Partial<Lead> = {}): Lead {
  return {
    id: 'l-1',
    campaignId: 'c-1',
    email: 'jan@example.com',
    firstName: 'Jan',
    lastName: 'Kowalski',
    company: 'Example Sp. z o.o.',
    variables: { plan: 'Pro' },
    timezone: null,
    country: null,
    status: 'active',
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  }
}

function makeItem(overrides: Partial<QueueItem> = {}): QueueItem & { messageId: string } {
  return {
    id: 'q-1',
    campaignId: 'c-1',
    leadId: 'l-1',
    step: 0,
    status: 'sending',
    scheduledAt: T0,
    attempts: 0,
    mailboxId: null,
    references: [],
    threadSubject: null,
    windowKey: '',
    leaseToken: 'lease',
    leaseUntil: T0,
    lastError: null,
    sentAt: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
    messageId: overrides.messageId ?? '<m-1@acme.test>',
  }
}

const STEPS: Step[] = [
  {
    subject: 'Hi {{firstName|there}}, about {{company}}',
    text: 'Hello {{firstName}}',
    html: '<p>{{company}}</p>',
  },
  { delayDays: 3, text: 'Following up, {{firstName|friend}}' },
  { delayDays: 5, subject: 'Last try for {{company}}', text: 'Bye' },
]

/** Every header value the transport will write, as strings. */
function headerValues(message: OutgoingMessage): string[] {
  return [
    message.subject,
    message.from.name ?? '',
    message.from.address,
    message.to.name ?? '',
    message.to.address,
    message.messageId,
    message.inReplyTo ?? '',
    ...message.references,
    ...Object.keys(message.headers),
    ...Object.values(message.headers),
  ]
}

describe('buildMessage', () => {
  it('builds the first email: From with display name, To, rendered subject and bodies', () => {
    const message = buildMessage({
      campaign: makeCampaign(STEPS),
      mailbox: makeMailbox(),
      lead: makeLead({ company: 'A&B <Co>' }),
      item: makeItem(),
    })
    expect(message).toEqual({
      from: { name: 'Anna Smith', address: 'anna@acme.test' },
      to: { name: 'Jan Kowalski', address: 'jan@example.com' },
      subject: 'Hi Jan, about A&B <Co>',
      text: 'Hello Jan',
      html: '<p>A&amp;B &lt;Co&gt;</p>',
      messageId: '<m-1@acme.test>',
      references: [],
      headers: {},
    })
    expect(message).not.toHaveProperty('inReplyTo')
  })

  it('uses null display names when the mailbox or the lead has none', () => {
    const message = buildMessage({
      campaign: makeCampaign(STEPS),
      mailbox: makeMailbox({ name: null }),
      lead: makeLead({ firstName: null, lastName: null }),
      item: makeItem(),
    })
    expect(message.from).toEqual({ name: null, address: 'anna@acme.test' })
    expect(message.to).toEqual({ name: null, address: 'jan@example.com' })
    expect(message.subject).toBe('Hi there, about Example Sp. z o.o.')
  })

  it('names the lead by whichever of first and last name it has', () => {
    const build = (lead: Partial<Lead>) =>
      buildMessage({
        campaign: makeCampaign(STEPS),
        mailbox: makeMailbox(),
        lead: makeLead(lead),
        item: makeItem(),
      })
    expect(build({ lastName: null }).to.name).toBe('Jan')
    expect(build({ firstName: null }).to.name).toBe('Kowalski')
  })

  it('leaves out a body the step does not have', () => {
    const message = buildMessage({
      campaign: makeCampaign([{ subject: 'S', html: '<p>only html</p>' }]),
      mailbox: makeMailbox(),
      lead: makeLead(),
      item: makeItem(),
    })
    expect(message.html).toBe('<p>only html</p>')
    expect(message).not.toHaveProperty('text')
  })

  it('fills custom variables, and built-ins win over a custom variable of the same name', () => {
    const message = buildMessage({
      campaign: makeCampaign([{ subject: '{{plan}} for {{firstName}}', text: '{{plan}}' }]),
      mailbox: makeMailbox(),
      lead: makeLead({ variables: { plan: 'Gold', firstName: 'Impostor' } }),
      item: makeItem(),
    })
    expect(message.subject).toBe('Gold for Jan')
    expect(message.text).toBe('Gold')
  })

  it('replies as "Re: <thread subject>" on a follow-up without its own subject, threaded', () => {
    const message = buildMessage({
      campaign: makeCampaign(STEPS),
      mailbox: makeMailbox(),
      lead: makeLead(),
      item: makeItem({
        step: 1,
        messageId: '<m-2@acme.test>',
        references: ['<m-1@acme.test>'],
        threadSubject: 'Hi Jan, about Example',
      }),
    })
    expect(message.subject).toBe('Re: Hi Jan, about Example')
    expect(message.text).toBe('Following up, Jan')
    expect(message.messageId).toBe('<m-2@acme.test>')
    expect(message.inReplyTo).toBe('<m-1@acme.test>')
    expect(message.references).toEqual(['<m-1@acme.test>'])
  })

  it('renders the first step subject for "Re:" when the item has no thread subject', () => {
    const message = buildMessage({
      campaign: makeCampaign(STEPS),
      mailbox: makeMailbox(),
      lead: makeLead({ firstName: null }),
      item: makeItem({ step: 1, references: ['<m-1@acme.test>'] }),
    })
    expect(message.subject).toBe('Re: Hi there, about Example Sp. z o.o.')
  })

  it.each(['Re: Hello', 'RE: Hello', 're:Hello'])(
    'does not double "Re:" on the thread subject %j',
    (threadSubject) => {
      const message = buildMessage({
        campaign: makeCampaign(STEPS),
        mailbox: makeMailbox(),
        lead: makeLead(),
        item: makeItem({ step: 1, threadSubject, references: ['<m-1@acme.test>'] }),
      })
      expect(message.subject).toBe(threadSubject)
    },
  )

  it('prefixes a subject that only starts with the letters "re"', () => {
    const message = buildMessage({
      campaign: makeCampaign(STEPS),
      mailbox: makeMailbox(),
      lead: makeLead(),
      item: makeItem({ step: 1, threadSubject: 'Report for you', references: ['<m-1@acme.test>'] }),
    })
    expect(message.subject).toBe('Re: Report for you')
  })

  it('uses the own subject of a follow-up step, without "Re:"', () => {
    const message = buildMessage({
      campaign: makeCampaign(STEPS),
      mailbox: makeMailbox(),
      lead: makeLead(),
      item: makeItem({
        step: 2,
        threadSubject: 'Hi Jan',
        references: ['<m-1@acme.test>', '<m-2@acme.test>'],
      }),
    })
    expect(message.subject).toBe('Last try for Example Sp. z o.o.')
  })

  it('sets In-Reply-To to the last reference and copies References in order', () => {
    const item = makeItem({ step: 2, references: ['<a@acme.test>', '<b@acme.test>', '<c@acme.test>'] })
    const message = buildMessage({
      campaign: makeCampaign(STEPS),
      mailbox: makeMailbox(),
      lead: makeLead(),
      item,
    })
    expect(message.inReplyTo).toBe('<c@acme.test>')
    expect(message.references).toEqual(['<a@acme.test>', '<b@acme.test>', '<c@acme.test>'])
    expect(message.references).not.toBe(item.references)
    message.references.push('<d@acme.test>')
    expect(item.references).toHaveLength(3)
  })

  it('adds List-Unsubscribe and List-Unsubscribe-Post when the hook gives a URL', () => {
    const campaign = makeCampaign(STEPS)
    const lead = makeLead()
    const unsubscribeUrl = vi.fn(() => 'https://acme.test/u?l=l-1')
    const message = buildMessage({ campaign, mailbox: makeMailbox(), lead, item: makeItem(), unsubscribeUrl })
    expect(unsubscribeUrl).toHaveBeenCalledWith(lead, campaign)
    expect(message.headers).toEqual({
      'List-Unsubscribe': '<https://acme.test/u?l=l-1>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    })
  })

  it.each([null, undefined, ''])('adds no unsubscribe header when the hook returns %j', (url) => {
    const message = buildMessage({
      campaign: makeCampaign(STEPS),
      mailbox: makeMailbox(),
      lead: makeLead(),
      item: makeItem(),
      unsubscribeUrl: () => url,
    })
    expect(message.headers).toEqual({})
  })

  it('adds no unsubscribe header without a hook', () => {
    const message = buildMessage({
      campaign: makeCampaign(STEPS),
      mailbox: makeMailbox(),
      lead: makeLead(),
      item: makeItem(),
      unsubscribeUrl: undefined,
    })
    expect(message.headers).toEqual({})
  })

  it('throws for a step the campaign does not have', () => {
    expect(() =>
      buildMessage({
        campaign: makeCampaign(STEPS),
        mailbox: makeMailbox(),
        lead: makeLead(),
        item: makeItem({ step: 3 }),
      }),
    ).toThrow('campaign c-1 has no step 3')
  })

  describe('header injection', () => {
    const injection = 'Pro\r\nBcc: victim@example.com'

    it('folds CR/LF from a custom variable in the subject into a space', () => {
      const message = buildMessage({
        campaign: makeCampaign([{ subject: 'Your {{plan}} plan', text: 'Body: {{plan}}' }]),
        mailbox: makeMailbox(),
        lead: makeLead({ variables: { plan: injection } }),
        item: makeItem(),
      })
      expect(message.subject).toBe('Your Pro Bcc: victim@example.com plan')
      // Bodies may carry line breaks.
      expect(message.text).toBe(`Body: ${injection}`)
      for (const value of headerValues(message)) expect(value).not.toMatch(/[\r\n\0]/)
    })

    it('folds CR/LF in the "Re:" subject of a follow-up and in the thread subject', () => {
      const campaign = makeCampaign([{ subject: '{{plan}}', text: 'a' }, { text: 'b' }])
      const lead = makeLead({ variables: { plan: injection } })
      const fromFirstStep = buildMessage({
        campaign,
        mailbox: makeMailbox(),
        lead,
        item: makeItem({ step: 1, references: ['<m-1@acme.test>'] }),
      })
      expect(fromFirstStep.subject).toBe('Re: Pro Bcc: victim@example.com')
      const fromThread = buildMessage({
        campaign,
        mailbox: makeMailbox(),
        lead,
        item: makeItem({
          step: 1,
          threadSubject: `Hi\r\nBcc: victim@example.com`,
          references: ['<m-1@acme.test>'],
        }),
      })
      expect(fromThread.subject).toBe('Re: Hi Bcc: victim@example.com')
    })

    it('folds CR/LF/NUL in display names', () => {
      const message = buildMessage({
        campaign: makeCampaign(STEPS),
        mailbox: makeMailbox({ name: 'Anna\r\nBcc: victim@example.com' }),
        lead: makeLead({ firstName: 'Jan\n', lastName: 'K\0' }),
        item: makeItem(),
      })
      expect(message.from.name).toBe('Anna Bcc: victim@example.com')
      expect(message.to.name).toBe('Jan  K')
      for (const value of headerValues(message)) expect(value).not.toMatch(/[\r\n\0]/)
    })

    it('refuses an unsubscribe URL with CR/LF rather than folding it into the header', () => {
      const build = () =>
        buildMessage({
          campaign: makeCampaign(STEPS),
          mailbox: makeMailbox(),
          lead: makeLead(),
          item: makeItem(),
          unsubscribeUrl: () => 'https://acme.test/u\r\nBcc: victim@example.com',
        })
      expect(build).toThrow(expect.objectContaining({ code: 'invalid-input', field: 'unsubscribeUrl' }))
    })

    it('never lets a variable value put CR, LF or NUL in a header (property)', () => {
      const campaign = makeCampaign([
        { subject: '{{plan}} / {{company|x}}', text: 'a' },
        { text: 'b' },
        { subject: '{{firstName}}', text: 'c' },
      ])
      fc.assert(
        fc.property(
          fc.string(),
          fc.string(),
          fc.string(),
          fc.integer({ min: 0, max: 2 }),
          (plan, company, name, step) => {
            const message = buildMessage({
              campaign,
              mailbox: makeMailbox({ name }),
              lead: makeLead({ firstName: name, company, variables: { plan } }),
              item: makeItem({ step, references: step ? ['<m-1@acme.test>'] : [] }),
              unsubscribeUrl: () => `https://acme.test/${encodeURIComponent(plan)}`,
            })
            for (const value of headerValues(message)) expect(value).not.toMatch(/[\r\n\0]/)
          },
        ),
        { numRuns: 200 },
      )
    })
  })
})

describe('unsubscribeUrl checks', () => {
  const build = (answer: unknown) =>
    buildMessage({
      campaign: makeCampaign(STEPS),
      mailbox: makeMailbox(),
      lead: makeLead(),
      item: makeItem(),
      unsubscribeUrl: () => answer as string,
    })
  const refusal = (problem: RegExp, field = 'unsubscribeUrl') =>
    expect.objectContaining({ code: 'invalid-input', field, message: expect.stringMatching(problem) })

  it('puts a mailto: beside the https: URL when the hook gives both', () => {
    const message = build({ url: 'https://acme.test/u/t1', mailto: 'mailto:unsub@acme.test?subject=t1' })
    expect(message.headers['List-Unsubscribe']).toBe(
      '<https://acme.test/u/t1>, <mailto:unsub@acme.test?subject=t1>',
    )
    expect(message.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click')
  })

  it('keeps a percent-encoded URL as it is', () => {
    const url = 'https://acme.test/u?n=%C5%81ukasz&x=a%20b'
    expect(build(url).headers['List-Unsubscribe']).toBe(`<${url}>`)
  })

  it.each([
    ['http://acme.test/u', /absolute https: URL, got a "http:"/],
    ['mailto:unsub@acme.test', /absolute https: URL, got a "mailto:"/],
    ['/u/relative', /absolute https: URL/],
    ['https://acme.test/Łukasz', /outside ASCII URL characters at position 18/],
    ['https://acme.test/a b', /outside ASCII URL characters/],
    ['https://acme.test/<x>', /outside ASCII URL characters/],
    ['https://acme.test/%zz', /"%" not followed by two hex digits/],
    ['https://user:pw@acme.test/u', /user name or password/],
  ])('refuses %j with invalid-input naming unsubscribeUrl', (url, problem) => {
    expect(() => build(url)).toThrow(refusal(problem))
  })

  it('refuses a URL that makes the header line longer than 998 characters, not at 998', () => {
    const base = 'https://acme.test/u/'
    // "List-Unsubscribe: <" + url + ">" is 20 characters besides the URL.
    const fits = base + 'a'.repeat(998 - 20 - base.length)
    expect(`List-Unsubscribe: ${build(fits).headers['List-Unsubscribe']}`).toHaveLength(998)
    expect(() => build(`${fits}a`)).toThrow(refusal(/header line of 999 characters, more than 998/))
  })

  it('refuses a bad mailto: and a hook answer of the wrong type', () => {
    expect(() => build({ url: 'https://acme.test/u', mailto: 'https://acme.test/m' })).toThrow(
      refusal(/absolute mailto: URL/, 'unsubscribeUrl.mailto'),
    )
    expect(() => build({ url: 'https://acme.test/u', mailto: 'mailto:nobody' })).toThrow(
      refusal(/must name an address/, 'unsubscribeUrl.mailto'),
    )
    expect(() => build(42)).toThrow(refusal(/got number/))
    expect(() => build({ mailto: 'mailto:a@acme.test' })).toThrow(refusal(/must be a string/))
  })

  it("never repeats the URL (it carries the lead's token) in the error", () => {
    const url = 'http://acme.test/u/SECRET-TOKEN'
    expect(() => build(url)).toThrow(
      expect.not.objectContaining({ message: expect.stringContaining('SECRET') }),
    )
  })
})

describe('{{unsubscribeUrl}} in a body', () => {
  const input = {
    name: 'Unsub',
    mailboxIds: ['mb-1'],
    steps: [
      {
        subject: 'Hi',
        text: 'Stop: {{unsubscribeUrl}}',
        html: '<a href="{{unsubscribeUrl|https://acme.test/none}}">unsubscribe</a>',
      },
    ],
  }

  it('is accepted in text and html, and never required of a lead', () => {
    const campaign = validateCampaign(input)
    expect(requiredVariables(campaign).has('unsubscribeUrl')).toBe(false)
    expect(prepareLead({ email: 'jan@example.com' }, requiredVariables(campaign))).not.toHaveProperty(
      'reason',
    )
  })

  it('is refused in a subject', () => {
    expect(() =>
      validateCampaign({ ...input, steps: [{ subject: '{{unsubscribeUrl}}', text: 'x' }] }),
    ).toThrow(
      expect.objectContaining({
        field: 'steps[0].subject',
        message: expect.stringContaining("only a step's text or html may use"),
      }),
    )
  })

  it("renders the hook's URL (HTML-escaped in html), and the fallback without one", () => {
    const campaign = makeCampaign(input.steps)
    const url = 'https://acme.test/u?c=1&l=2'
    const message = buildMessage({
      campaign,
      mailbox: makeMailbox(),
      lead: makeLead(),
      item: makeItem(),
      unsubscribeUrl: () => url,
    })
    expect(message.text).toBe(`Stop: ${url}`)
    expect(message.html).toBe('<a href="https://acme.test/u?c=1&amp;l=2">unsubscribe</a>')
    const none = buildMessage({ campaign, mailbox: makeMailbox(), lead: makeLead(), item: makeItem() })
    expect(none.text).toBe('Stop: ')
    expect(none.html).toBe('<a href="https://acme.test/none">unsubscribe</a>')
  })

  it("is the message's own: a lead variable of that name does not replace it", () => {
    const message = buildMessage({
      campaign: makeCampaign(input.steps, { variables: ['unsubscribeUrl'] }),
      mailbox: makeMailbox(),
      lead: makeLead({ variables: { unsubscribeUrl: 'https://evil.test/' } }),
      item: makeItem(),
      unsubscribeUrl: () => 'https://acme.test/u',
    })
    expect(message.text).toBe('Stop: https://acme.test/u')
  })
})

describe('stepSubject', () => {
  it('matches what buildMessage puts in the subject', () => {
    const campaign = makeCampaign(STEPS)
    const item = makeItem({ step: 1, threadSubject: 'Hello' })
    expect(stepSubject(campaign.steps, leadValues(makeLead()), item.step, item.threadSubject)).toBe(
      'Re: Hello',
    )
  })
})

describe('makeMessageId', () => {
  it('puts the id on the mailbox domain, in angle brackets', () => {
    expect(makeMessageId('anna@acme.test', 'abc123')).toBe('<abc123@acme.test>')
  })

  it('lower-cases the domain only', () => {
    expect(makeMessageId('Anna@Mail.ACME.Test', 'AbC')).toBe('<AbC@mail.acme.test>')
  })

  it('uses the part after the last @', () => {
    expect(makeMessageId('a@b@relay.example.org', 'x')).toBe('<x@relay.example.org>')
  })
})

describe('headerSafe', () => {
  it('folds runs of CR, LF and NUL into one space and trims', () => {
    expect(headerSafe('a\r\nb')).toBe('a b')
    expect(headerSafe('a\r\n\r\nb\0c\rd\ne')).toBe('a b c d e')
    expect(headerSafe('\r\n  Hello  \n')).toBe('Hello')
  })

  it('leaves safe text alone', () => {
    expect(headerSafe('Hi Jan: re your "offer" – ok?')).toBe('Hi Jan: re your "offer" – ok?')
  })

  it('never returns CR, LF or NUL (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '\r', '\n', '\0', ':') }), (value) => {
        const safe = headerSafe(value)
        expect(safe).not.toMatch(/[\r\n\0]/)
        expect(safe).toBe(safe.trim())
      }),
    )
  })
})

describe('headerSafe with other line breakers', () => {
  it('folds vertical tabs, form feeds, DEL and Unicode line separators too', () => {
    expect(headerSafe('a\vb\fc\u007fd\u2028e\u2029f')).toBe('a b c d e f')
  })
})
