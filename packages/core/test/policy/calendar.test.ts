import { describe, expect, it } from 'vitest'
import { isMailcadenceError } from '../../src/errors.js'
import {
  DAY_NAMES,
  dayKey,
  isInWindow,
  isValidTimeZone,
  localTime,
  nextLocalMidnight,
  nextWindowDayOpen,
  nextWindowOpen,
  parseAllowedDays,
  type WindowSpec,
  windowCloseAt,
  windowDayKey,
  windowLengthMinutes,
} from '../../src/policy/calendar.js'

const WEEKDAYS = 'MON,TUE,WED,THU,FRI'
const EVERY_DAY = 'MON,TUE,WED,THU,FRI,SAT,SUN'

/** A window spec from `HH:MM` strings. */
function win(timezone: string, start: string, end: string, allowedDays = WEEKDAYS): WindowSpec {
  const [startHour = 0, startMinute = 0] = start.split(':').map(Number)
  const [endHour = 0, endMinute = 0] = end.split(':').map(Number)
  return { timezone, startHour, startMinute, endHour, endMinute, allowedDays }
}

const at = (iso: string) => new Date(iso)

function expectInvalid(fn: () => unknown, field: string, message: string) {
  try {
    fn()
  } catch (error) {
    expect(isMailcadenceError(error, 'invalid-input')).toBe(true)
    expect((error as { field?: string }).field).toBe(field)
    expect((error as Error).message).toBe(message)
    return
  }
  throw new Error('expected an invalid-input error')
}

describe('parseAllowedDays', () => {
  it('maps names to weekday numbers, Monday = 0', () => {
    expect([...parseAllowedDays('MON,TUE,WED,THU,FRI')].sort()).toEqual([0, 1, 2, 3, 4])
    expect([...parseAllowedDays('SAT,SUN')].sort()).toEqual([5, 6])
    expect(DAY_NAMES).toEqual(['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'])
  })

  it('is case-insensitive, accepts spaces around commas and duplicates', () => {
    expect([...parseAllowedDays(' mon , Sun,MON ')].sort()).toEqual([0, 6])
    expect([...parseAllowedDays('tue')]).toEqual([1])
  })

  it('refuses an unknown day, naming the field', () => {
    expectInvalid(
      () => parseAllowedDays('MON,FOO'),
      'allowedDays',
      'allowedDays: unknown day "FOO" (use MON,TUE,WED,THU,FRI,SAT,SUN)',
    )
    expectInvalid(
      () => parseAllowedDays('Monday'),
      'allowedDays',
      'allowedDays: unknown day "Monday" (use MON,TUE,WED,THU,FRI,SAT,SUN)',
    )
  })

  it('refuses a spec naming no day', () => {
    expectInvalid(() => parseAllowedDays(''), 'allowedDays', 'allowedDays: must name at least one day')
    expectInvalid(() => parseAllowedDays(' , '), 'allowedDays', 'allowedDays: must name at least one day')
  })

  it('returns a fresh set each time', () => {
    const first = parseAllowedDays('MON') as Set<number>
    first.add(3)
    expect([...parseAllowedDays('MON')]).toEqual([0])
  })
})

describe('isValidTimeZone', () => {
  it('accepts IANA names and UTC', () => {
    for (const tz of ['Europe/Warsaw', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'UTC']) {
      expect(isValidTimeZone(tz)).toBe(true)
    }
  })

  it('refuses empty strings and junk', () => {
    for (const tz of ['', ' ', 'junk', 'Mars/Olympus_Mons', 'Europe/Warsaw '])
      expect(isValidTimeZone(tz)).toBe(false)
  })

  it('makes the window functions refuse an unknown zone with field timezone', () => {
    expectInvalid(
      () => isInWindow(win('Mars/Olympus_Mons', '09:00', '17:00'), at('2026-01-05T10:00:00Z')),
      'timezone',
      'timezone: unknown time zone "Mars/Olympus_Mons"',
    )
  })
})

describe('windowLengthMinutes', () => {
  it('measures plain, overnight, end-of-day and zero-length windows', () => {
    expect(windowLengthMinutes(win('UTC', '09:00', '17:00'))).toBe(480)
    expect(windowLengthMinutes(win('UTC', '22:00', '02:00'))).toBe(240)
    expect(windowLengthMinutes(win('UTC', '00:00', '24:00'))).toBe(1440)
    expect(windowLengthMinutes(win('UTC', '09:30', '09:30'))).toBe(0)
    expect(windowLengthMinutes(win('UTC', '23:59', '00:00'))).toBe(1)
  })
})

describe('offsets, dayKey and localTime', () => {
  it('reads the offset of the instant, also right after a transition', () => {
    // date-fns-tz's getTimezoneOffset answers +1 h here: it reads its argument as wall-clock time.
    const minute = (iso: string, zone: string) => localTime(at(iso), zone).minuteOfDay
    expect(minute('2026-03-29T01:30:00Z', 'Europe/Warsaw')).toBe(3 * 60 + 30)
    expect(minute('2026-03-29T00:59:59.999Z', 'Europe/Warsaw')).toBe(60 + 59)
    expect(minute('2026-10-25T01:30:00Z', 'Europe/Warsaw')).toBe(2 * 60 + 30)
    expect(minute('2026-06-01T00:00:00Z', 'Asia/Kathmandu')).toBe(5 * 60 + 45)
  })

  it('uses the 45-minute offset of Kathmandu for the local date', () => {
    expect(dayKey(at('2026-01-05T18:14:59.999Z'), 'Asia/Kathmandu')).toBe('2026-01-05')
    expect(dayKey(at('2026-01-05T18:15:00Z'), 'Asia/Kathmandu')).toBe('2026-01-06')
    expect(localTime(at('2026-01-05T03:15:00Z'), 'Asia/Kathmandu')).toEqual({
      dayKey: '2026-01-05',
      weekday: 0,
      minuteOfDay: 9 * 60,
    })
  })

  it('gives the local date west and east of Greenwich', () => {
    expect(dayKey(at('2026-01-06T04:59:59Z'), 'America/New_York')).toBe('2026-01-05')
    expect(dayKey(at('2026-01-06T05:00:00Z'), 'America/New_York')).toBe('2026-01-06')
    expect(dayKey(at('2026-01-05T22:59:59Z'), 'Europe/Warsaw')).toBe('2026-01-05')
    expect(dayKey(at('2026-01-05T23:00:00Z'), 'Europe/Warsaw')).toBe('2026-01-06')
    expect(localTime(at('2026-01-11T12:00:00Z'), 'UTC')).toEqual({
      dayKey: '2026-01-11',
      weekday: 6,
      minuteOfDay: 720,
    })
  })

  it('follows the 30-minute shifts of Lord Howe', () => {
    // 2026-10-04 02:00 +10:30 → 02:30 +11:00, at 2026-10-03T15:30Z
    expect(localTime(at('2026-10-03T15:29:59Z'), 'Australia/Lord_Howe').minuteOfDay).toBe(119)
    expect(localTime(at('2026-10-03T15:30:00Z'), 'Australia/Lord_Howe').minuteOfDay).toBe(150)
    // 2026-04-05 02:00 +11:00 → 01:30 +10:30, at 2026-04-04T15:00Z
    expect(localTime(at('2026-04-04T14:59:59Z'), 'Australia/Lord_Howe').minuteOfDay).toBe(119)
    expect(localTime(at('2026-04-04T15:00:00Z'), 'Australia/Lord_Howe').minuteOfDay).toBe(90)
  })
})

describe('a 09:00–17:00 window on weekdays', () => {
  const warsaw = win('Europe/Warsaw', '09:00', '17:00')

  it('is open from 09:00 to just before 17:00 local, seconds included', () => {
    expect(isInWindow(warsaw, at('2026-01-05T07:59:59.999Z'))).toBe(false) // Monday 08:59:59.999 CET
    expect(isInWindow(warsaw, at('2026-01-05T08:00:00Z'))).toBe(true)
    expect(isInWindow(warsaw, at('2026-01-05T15:59:30Z'))).toBe(true) // 16:59:30
    expect(isInWindow(warsaw, at('2026-01-05T16:00:00Z'))).toBe(false)
    expect(windowDayKey(warsaw, at('2026-01-05T12:00:00Z'))).toBe('2026-01-05')
    expect(windowDayKey(warsaw, at('2026-01-05T16:00:00Z'))).toBeNull()
  })

  it('follows summer time', () => {
    expect(isInWindow(warsaw, at('2026-07-06T06:59:00Z'))).toBe(false) // 08:59 CEST
    expect(isInWindow(warsaw, at('2026-07-06T07:00:00Z'))).toBe(true)
  })

  it('is closed at the weekend and opens on Monday', () => {
    expect(isInWindow(warsaw, at('2026-01-10T10:00:00Z'))).toBe(false) // Saturday 11:00
    expect(isInWindow(warsaw, at('2026-01-11T10:00:00Z'))).toBe(false) // Sunday
    expect(nextWindowOpen(warsaw, at('2026-01-09T16:00:00Z'))).toEqual(at('2026-01-12T08:00:00Z')) // Friday 17:00
    expect(nextWindowOpen(warsaw, at('2026-01-10T10:00:00Z'))).toEqual(at('2026-01-12T08:00:00Z'))
  })

  it('opens later the same day, or now when already open', () => {
    expect(nextWindowOpen(warsaw, at('2026-01-05T05:00:00Z'))).toEqual(at('2026-01-05T08:00:00Z'))
    expect(nextWindowOpen(warsaw, at('2026-01-05T10:00:00.123Z'))).toEqual(at('2026-01-05T10:00:00.123Z'))
  })

  it('closes at 17:00 local', () => {
    expect(windowCloseAt(warsaw, at('2026-01-05T10:00:00Z'))).toEqual(at('2026-01-05T16:00:00Z'))
    expect(windowCloseAt(warsaw, at('2026-01-10T10:00:00Z'))).toEqual(at('2026-01-10T10:00:00Z')) // outside
  })

  it('works the same in New York, Lord Howe and Kathmandu', () => {
    const ny = win('America/New_York', '09:00', '17:00')
    expect(isInWindow(ny, at('2026-01-05T14:00:00Z'))).toBe(true) // Monday 09:00 EST
    expect(isInWindow(ny, at('2026-01-05T22:00:00Z'))).toBe(false) // 17:00
    expect(nextWindowOpen(ny, at('2026-01-09T22:00:00Z'))).toEqual(at('2026-01-12T14:00:00Z'))

    const lordHowe = win('Australia/Lord_Howe', '09:00', '17:00')
    // Monday 2026-01-05 09:00 +11:00 is Sunday 22:00 UTC
    expect(isInWindow(lordHowe, at('2026-01-04T22:00:00Z'))).toBe(true)
    expect(windowDayKey(lordHowe, at('2026-01-04T22:00:00Z'))).toBe('2026-01-05')
    expect(isInWindow(lordHowe, at('2026-01-04T21:59:59Z'))).toBe(false)
    expect(nextWindowOpen(lordHowe, at('2026-01-09T06:00:00Z'))).toEqual(at('2026-01-11T22:00:00Z'))

    const kathmandu = win('Asia/Kathmandu', '09:00', '17:00')
    expect(isInWindow(kathmandu, at('2026-01-05T03:15:00Z'))).toBe(true)
    expect(isInWindow(kathmandu, at('2026-01-05T03:14:59Z'))).toBe(false)
    expect(windowCloseAt(kathmandu, at('2026-01-05T03:15:00Z'))).toEqual(at('2026-01-05T11:15:00Z'))
    expect(nextWindowOpen(kathmandu, at('2026-01-10T00:00:00Z'))).toEqual(at('2026-01-12T03:15:00Z'))
  })
})

describe('an overnight window 22:00–02:00 on weekdays', () => {
  const overnight = win('Europe/Warsaw', '22:00', '02:00')

  it('belongs to the day it starts on', () => {
    expect(isInWindow(overnight, at('2026-01-09T22:00:00Z'))).toBe(true) // Friday 23:00
    expect(windowDayKey(overnight, at('2026-01-09T22:00:00Z'))).toBe('2026-01-09')
    expect(isInWindow(overnight, at('2026-01-10T00:00:00Z'))).toBe(true) // Saturday 01:00: Friday's window
    expect(windowDayKey(overnight, at('2026-01-10T00:00:00Z'))).toBe('2026-01-09')
    expect(isInWindow(overnight, at('2026-01-10T01:00:00Z'))).toBe(false) // Saturday 02:00
    expect(isInWindow(overnight, at('2026-01-10T21:30:00Z'))).toBe(false) // Saturday 22:30
  })

  it('is closed early on Monday, which is Sunday night', () => {
    expect(isInWindow(overnight, at('2026-01-12T00:00:00Z'))).toBe(false) // Monday 01:00
    expect(windowDayKey(overnight, at('2026-01-12T00:00:00Z'))).toBeNull()
    expect(nextWindowOpen(overnight, at('2026-01-12T00:00:00Z'))).toEqual(at('2026-01-12T21:00:00Z'))
  })

  it('closes at 02:00 the next morning', () => {
    expect(windowCloseAt(overnight, at('2026-01-09T22:00:00Z'))).toEqual(at('2026-01-10T01:00:00Z'))
    expect(nextWindowOpen(overnight, at('2026-01-10T01:00:00Z'))).toEqual(at('2026-01-12T21:00:00Z'))
  })
})

describe('a window ending at 24:00', () => {
  const evening = win('America/New_York', '20:00', '24:00', 'MON')

  it('runs to the end of the day', () => {
    expect(isInWindow(evening, at('2026-01-06T04:59:59.999Z'))).toBe(true) // Monday 23:59:59.999 EST
    expect(windowDayKey(evening, at('2026-01-06T04:59:59.999Z'))).toBe('2026-01-05')
    expect(isInWindow(evening, at('2026-01-06T05:00:00Z'))).toBe(false) // Tuesday 00:00
    expect(windowCloseAt(evening, at('2026-01-06T02:00:00Z'))).toEqual(at('2026-01-06T05:00:00Z'))
  })

  it('treats touching all-day windows as one but tells the days apart', () => {
    const allDay = win('UTC', '00:00', '24:00', 'MON,TUE')
    expect(windowCloseAt(allDay, at('2026-01-05T10:00:00Z'))).toEqual(at('2026-01-07T00:00:00Z'))
    expect(nextWindowDayOpen(allDay, at('2026-01-05T10:00:00Z'))).toEqual(at('2026-01-06T00:00:00Z'))
    expect(nextWindowDayOpen(allDay, at('2026-01-06T10:00:00Z'))).toEqual(at('2026-01-12T00:00:00Z'))
    expect(nextWindowDayOpen(allDay, at('2026-01-08T10:00:00Z'))).toEqual(at('2026-01-12T00:00:00Z'))
  })

  it('never closes when open all day every day', () => {
    const always = win('Europe/Warsaw', '00:00', '24:00', EVERY_DAY)
    expect(isInWindow(always, at('2026-03-29T01:00:00Z'))).toBe(true)
    expect(windowCloseAt(always, at('2026-03-29T01:00:00Z')).getTime()).toBe(8.64e15)
    expect(nextWindowDayOpen(always, at('2026-03-29T10:00:00Z'))).toEqual(at('2026-03-29T22:00:00Z'))
  })
})

describe('nextWindowDayOpen', () => {
  it('waits for the next window day of an overnight window', () => {
    const overnight = win('Europe/Warsaw', '22:00', '02:00')
    expect(nextWindowDayOpen(overnight, at('2026-01-06T00:00:00Z'))).toEqual(at('2026-01-06T21:00:00Z'))
    expect(nextWindowDayOpen(overnight, at('2026-01-06T12:00:00Z'))).toEqual(at('2026-01-06T21:00:00Z'))
  })

  it('does not stop where a fall-back reopens the same or an earlier window day', () => {
    // Saturday's 03:00–02:01 window ends at 02:01 CEST on Sunday, then 02:00–02:01 CET comes round again.
    const long = win('Europe/Warsaw', '03:00', '02:01', 'SAT,MON')
    expect(windowDayKey(long, at('2026-10-25T01:00:30Z'))).toBe('2026-10-24')
    expect(nextWindowDayOpen(long, at('2026-10-25T00:00:00Z'))).toEqual(at('2026-10-26T02:00:00Z'))
    // Sunday's 01:15–01:01 window: at 02:00 EDT the clock reads 01:00 EST, inside Saturday's window.
    const nearlyAllDay = win('America/New_York', '01:15', '01:01', 'SAT,SUN,MON')
    const before = at('2027-11-07T05:59:59.999Z')
    expect(windowDayKey(nearlyAllDay, before)).toBe('2027-11-07')
    expect(windowDayKey(nearlyAllDay, at('2027-11-07T06:00:00Z'))).toBe('2027-11-06')
    expect(windowCloseAt(nearlyAllDay, before)).toEqual(at('2027-11-07T06:01:00Z'))
    expect(nextWindowDayOpen(nearlyAllDay, before)).toEqual(at('2027-11-08T06:15:00Z'))
  })
})

describe('DST: spring forward', () => {
  it('opens at the transition when the start time is skipped (Warsaw 2026-03-29 02:00 → 03:00)', () => {
    const gap = win('Europe/Warsaw', '02:30', '04:00', 'SUN')
    expect(nextWindowOpen(gap, at('2026-03-28T12:00:00Z'))).toEqual(at('2026-03-29T01:00:00Z')) // 03:00 CEST
    expect(isInWindow(gap, at('2026-03-29T00:59:59.999Z'))).toBe(false) // 01:59:59.999 CET
    expect(isInWindow(gap, at('2026-03-29T01:00:00Z'))).toBe(true)
    expect(windowCloseAt(gap, at('2026-03-29T01:00:00Z'))).toEqual(at('2026-03-29T02:00:00Z')) // 04:00 CEST
  })

  it('skips a window that lies wholly in the gap', () => {
    const lost = win('Europe/Warsaw', '02:00', '02:30', 'SUN')
    expect(nextWindowOpen(lost, at('2026-03-28T12:00:00Z'))).toEqual(at('2026-04-05T00:00:00Z'))
  })

  it('closes at the transition when the end time is skipped', () => {
    const short = win('Europe/Warsaw', '01:30', '02:30', 'SUN')
    expect(windowCloseAt(short, at('2026-03-29T00:40:00Z'))).toEqual(at('2026-03-29T01:00:00Z'))
  })

  it('opens at the transition in New York (2026-03-08 02:00 → 03:00)', () => {
    const gap = win('America/New_York', '02:30', '04:00', 'SUN')
    expect(nextWindowOpen(gap, at('2026-03-07T12:00:00Z'))).toEqual(at('2026-03-08T07:00:00Z'))
    expect(windowCloseAt(gap, at('2026-03-08T07:00:00Z'))).toEqual(at('2026-03-08T08:00:00Z'))
  })

  it('handles the 30-minute shift of Lord Howe (2026-10-04 02:00 → 02:30)', () => {
    const gap = win('Australia/Lord_Howe', '02:00', '03:00', 'SUN')
    expect(nextWindowOpen(gap, at('2026-10-03T00:00:00Z'))).toEqual(at('2026-10-03T15:30:00Z')) // 02:30
    expect(isInWindow(gap, at('2026-10-03T15:29:59Z'))).toBe(false)
    expect(windowCloseAt(gap, at('2026-10-03T15:30:00Z'))).toEqual(at('2026-10-03T16:00:00Z'))
  })
})

describe('DST: the repeated autumn hour', () => {
  it('counts both occurrences of 02:20 (Warsaw 2026-10-25 03:00 → 02:00)', () => {
    const repeated = win('Europe/Warsaw', '02:15', '02:45', 'SUN')
    expect(isInWindow(repeated, at('2026-10-25T00:20:00Z'))).toBe(true) // 02:20 CEST
    expect(isInWindow(repeated, at('2026-10-25T01:20:00Z'))).toBe(true) // 02:20 CET
    expect(windowDayKey(repeated, at('2026-10-25T01:20:00Z'))).toBe('2026-10-25')
    expect(isInWindow(repeated, at('2026-10-25T00:50:00Z'))).toBe(false) // 02:50 CEST
    expect(nextWindowOpen(repeated, at('2026-10-24T12:00:00Z'))).toEqual(at('2026-10-25T00:15:00Z'))
    expect(windowCloseAt(repeated, at('2026-10-25T00:15:00Z'))).toEqual(at('2026-10-25T00:45:00Z'))
    expect(nextWindowOpen(repeated, at('2026-10-25T00:45:00Z'))).toEqual(at('2026-10-25T01:15:00Z'))
    expect(windowCloseAt(repeated, at('2026-10-25T01:15:00Z'))).toEqual(at('2026-10-25T01:45:00Z'))
  })

  it('reopens when the clock falls back into the window', () => {
    const window = win('Europe/Warsaw', '01:30', '02:30', 'SUN')
    // 02:40 CEST is past the end; at 03:00 CEST the clock reads 02:00 CET, inside again.
    expect(nextWindowOpen(window, at('2026-10-25T00:40:00Z'))).toEqual(at('2026-10-25T01:00:00Z'))
  })

  it('closes when the clock falls back to before the start', () => {
    const window = win('Europe/Warsaw', '02:15', '04:00', 'SUN')
    expect(windowCloseAt(window, at('2026-10-25T00:30:00Z'))).toEqual(at('2026-10-25T01:00:00Z'))
    expect(nextWindowOpen(window, at('2026-10-25T01:00:00Z'))).toEqual(at('2026-10-25T01:15:00Z'))
  })

  it('handles the 30-minute fall-back of Lord Howe (2026-04-05 02:00 → 01:30)', () => {
    // 01:30–02:00 happens twice back to back: one hour of sending.
    const twice = win('Australia/Lord_Howe', '01:30', '02:00', 'SUN')
    expect(nextWindowOpen(twice, at('2026-04-04T00:00:00Z'))).toEqual(at('2026-04-04T14:30:00Z'))
    expect(windowCloseAt(twice, at('2026-04-04T14:30:00Z'))).toEqual(at('2026-04-04T15:30:00Z'))

    const split = win('Australia/Lord_Howe', '01:45', '02:00', 'SUN')
    expect(windowCloseAt(split, at('2026-04-04T14:45:00Z'))).toEqual(at('2026-04-04T15:00:00Z'))
    expect(nextWindowOpen(split, at('2026-04-04T15:00:00Z'))).toEqual(at('2026-04-04T15:15:00Z'))
  })
})

describe('nextLocalMidnight', () => {
  it('finds the next local midnight, strictly after the instant', () => {
    expect(nextLocalMidnight(at('2026-01-05T12:00:00Z'), 'Europe/Warsaw')).toEqual(at('2026-01-05T23:00:00Z'))
    expect(nextLocalMidnight(at('2026-01-05T23:00:00Z'), 'Europe/Warsaw')).toEqual(at('2026-01-06T23:00:00Z'))
    expect(nextLocalMidnight(at('2026-01-05T12:00:00Z'), 'Asia/Kathmandu')).toEqual(
      at('2026-01-05T18:15:00Z'),
    )
    expect(nextLocalMidnight(at('2026-01-05T12:00:00Z'), 'UTC')).toEqual(at('2026-01-06T00:00:00Z'))
  })

  it('spans the short and the long day of DST', () => {
    expect(nextLocalMidnight(at('2026-03-28T12:00:00Z'), 'Europe/Warsaw')).toEqual(at('2026-03-28T23:00:00Z'))
    expect(nextLocalMidnight(at('2026-03-29T12:00:00Z'), 'Europe/Warsaw')).toEqual(at('2026-03-29T22:00:00Z'))
    expect(nextLocalMidnight(at('2026-10-25T05:00:00Z'), 'Europe/Warsaw')).toEqual(at('2026-10-25T23:00:00Z'))
    expect(nextLocalMidnight(at('2026-11-01T12:00:00Z'), 'America/New_York')).toEqual(
      at('2026-11-02T05:00:00Z'),
    )
    expect(nextLocalMidnight(at('2026-10-03T05:00:00Z'), 'Australia/Lord_Howe')).toEqual(
      at('2026-10-03T13:30:00Z'),
    )
  })

  it('returns the end of the gap where DST skips midnight', () => {
    // Santiago 2026-09-06: 24:00 → 01:00; Beirut 2026-03-29: 00:00 → 01:00
    const santiago = nextLocalMidnight(at('2026-09-05T12:00:00Z'), 'America/Santiago')
    expect(santiago).toEqual(at('2026-09-06T04:00:00Z'))
    expect(localTime(santiago, 'America/Santiago')).toEqual({
      dayKey: '2026-09-06',
      weekday: 6,
      minuteOfDay: 60,
    })
    const beirut = nextLocalMidnight(at('2026-03-28T12:00:00Z'), 'Asia/Beirut')
    expect(beirut).toEqual(at('2026-03-28T22:00:00Z'))
    expect(dayKey(new Date(beirut.getTime() - 1), 'Asia/Beirut')).toBe('2026-03-28')
  })

  it('waits out an hour repeated across midnight', () => {
    // Santiago 2026-04-05: 24:00 → 23:00 on the 4th, so the 4th lasts until 04:00 UTC.
    expect(nextLocalMidnight(at('2026-04-04T12:00:00Z'), 'America/Santiago')).toEqual(
      at('2026-04-05T04:00:00Z'),
    )
    expect(dayKey(at('2026-04-05T03:30:00Z'), 'America/Santiago')).toBe('2026-04-04')
  })
})

describe('degenerate input', () => {
  it('does not loop forever on a zero-length window', () => {
    const empty = win('UTC', '09:00', '09:00')
    expect(isInWindow(empty, at('2026-01-05T09:00:00Z'))).toBe(false)
    expect(() => nextWindowOpen(empty, at('2026-01-05T09:00:00Z'))).toThrow(/does not open within 15 days/)
    expect(windowCloseAt(empty, at('2026-01-05T09:00:00Z'))).toEqual(at('2026-01-05T09:00:00Z'))
  })

  it('refuses an invalid Date', () => {
    expect(() => isInWindow(win('UTC', '09:00', '17:00'), new Date(Number.NaN))).toThrow(RangeError)
  })
})

describe('skip dates', () => {
  const skipping = (spec: WindowSpec, ...skipDates: string[]): WindowSpec => ({ ...spec, skipDates })

  it('does not open on a skip date, and opens on the next allowed day', () => {
    const spec = skipping(win('Europe/Warsaw', '09:00', '17:00'), '2026-12-24', '2026-12-25')
    expect(isInWindow(spec, at('2026-12-24T10:00:00Z'))).toBe(false)
    expect(windowDayKey(spec, at('2026-12-24T10:00:00Z'))).toBeNull()
    expect(isInWindow(spec, at('2026-12-23T10:00:00Z'))).toBe(true)
    // Thursday 24 and Friday 25 skipped, then the weekend: Monday 28 at 09:00 Warsaw (08:00 UTC).
    expect(nextWindowOpen(spec, at('2026-12-23T17:00:00Z'))).toEqual(at('2026-12-28T08:00:00Z'))
    expect(nextWindowDayOpen(spec, at('2026-12-23T10:00:00Z'))).toEqual(at('2026-12-28T08:00:00Z'))
  })

  it('skips an overnight window by the date it opens on', () => {
    const spec = skipping(win('UTC', '22:00', '02:00', EVERY_DAY), '2026-06-10')
    // The window of the 9th runs into the 10th: not skipped.
    expect(isInWindow(spec, at('2026-06-10T01:00:00Z'))).toBe(true)
    expect(windowDayKey(spec, at('2026-06-10T01:00:00Z'))).toBe('2026-06-09')
    // The window of the 10th is skipped, also its part on the 11th.
    expect(isInWindow(spec, at('2026-06-10T23:00:00Z'))).toBe(false)
    expect(isInWindow(spec, at('2026-06-11T01:00:00Z'))).toBe(false)
    expect(windowCloseAt(spec, at('2026-06-10T01:00:00Z'))).toEqual(at('2026-06-10T02:00:00Z'))
    expect(nextWindowOpen(spec, at('2026-06-10T02:00:00Z'))).toEqual(at('2026-06-11T22:00:00Z'))
  })

  it('closes an all-day, every-day window at its next skip date', () => {
    const spec = skipping(win('Asia/Tokyo', '00:00', '24:00', EVERY_DAY), '2025-01-01', '2026-05-05')
    // Midnight of 2026-05-05 in Tokyo (+09:00), then it reopens the next midnight.
    expect(windowCloseAt(spec, at('2026-04-01T00:00:00Z'))).toEqual(at('2026-05-04T15:00:00Z'))
    expect(nextWindowOpen(spec, at('2026-05-04T15:00:00Z'))).toEqual(at('2026-05-05T15:00:00Z'))
    expect(windowCloseAt(spec, at('2026-05-06T00:00:00Z')).getTime()).toBe(8.64e15)
  })

  it('finds the next opening past a long blackout of a one-day-a-week window', () => {
    // Thirty Mondays skipped in a row: the next opening is 30 weeks on, past any fixed horizon.
    const mondays = Array.from({ length: 30 }, (_, i) =>
      new Date(Date.UTC(2026, 0, 5) + i * 7 * 86_400_000).toISOString().slice(0, 10),
    )
    const spec = skipping(win('Europe/Warsaw', '09:00', '17:00', 'MON'), ...mondays)
    expect(nextWindowOpen(spec, at('2026-01-01T00:00:00Z'))).toEqual(at('2026-08-03T07:00:00Z'))
    expect(nextWindowDayOpen(spec, at('2026-01-01T00:00:00Z'))).toEqual(at('2026-08-03T07:00:00Z'))
  })

  it('reads skip dates in the window zone: a date there, whatever the UTC date', () => {
    // 2026-03-10 09:30 in Kolkata is 04:00 UTC; in New York 09:30 that day is 13:30 UTC.
    expect(
      isInWindow(skipping(win('Asia/Kolkata', '09:00', '17:00'), '2026-03-10'), at('2026-03-10T04:00:00Z')),
    ).toBe(false)
    expect(
      isInWindow(skipping(win('Asia/Kolkata', '09:00', '17:00'), '2026-03-09'), at('2026-03-10T04:00:00Z')),
    ).toBe(true)
    // Tokyo's 2026-03-10 09:00 is 2026-03-10T00:00Z, New York's 2026-03-09 evening: the skip is Tokyo's date.
    expect(
      isInWindow(skipping(win('Asia/Tokyo', '09:00', '17:00'), '2026-03-10'), at('2026-03-10T00:00:00Z')),
    ).toBe(false)
  })

  it('refuses a skip date that is not a date', () => {
    expectInvalid(
      () => isInWindow(skipping(win('UTC', '09:00', '17:00'), '2026-02-30'), at('2026-02-02T10:00:00Z')),
      'skipDates',
      'skipDates: "2026-02-30" is not a date (YYYY-MM-DD)',
    )
  })
})
