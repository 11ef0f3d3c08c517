/**
 * @mailcadence/inbox: what comes back from the inbox (replies, auto-replies, bounces, complaints,
 * unsubscribes) read into a mailcadence scheduler.
 *
 * @packageDocumentation
 */
export * from './classify/index.js'
