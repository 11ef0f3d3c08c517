/**
 * The SMTP transport for mailcadence, on nodemailer: `createSmtpTransport({ resolve })` sends each
 * email through its mailbox's own server. A package of its own so that core (and a host that
 * brings its own transport) needs neither nodemailer nor its types.
 *
 * @packageDocumentation
 */

export {
  createSmtpTransport,
  type SmtpConnectionOptions,
  type SmtpPoolOptions,
  type SmtpTransportOptions,
} from './transport.js'
