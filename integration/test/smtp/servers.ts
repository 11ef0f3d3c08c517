/**
 * Real SMTP peers on loopback for the tests: an `smtp-server` sink that can refuse at any stage,
 * and raw sockets for what a well-behaved server never does (drop mid-DATA, stall).
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server'

export interface Received {
  mail: ParsedMail
  raw: string
  envelope: { from: string; to: string[] }
}

export interface Sink {
  port: number
  received: Received[]
  /** TCP connections accepted so far (pooling keeps this low). */
  connections: number
  close(): Promise<void>
}

/** An SMTP error the way smtp-server sends it: `<code> <text>`. */
export function smtpError(responseCode: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode })
}

export interface SinkOptions {
  /** Require AUTH with these credentials. */
  credentials?: { user: string; pass: string }
  onConnect?: (session: SMTPServerSession) => Error | undefined
  onMailFrom?: (address: string) => Error | undefined
  onRcptTo?: (address: string) => Error | undefined
  /** Called after the whole message was received; an error rejects it after DATA. */
  afterData?: (raw: string) => Error | undefined
}

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const received: Received[] = []
  let connections = 0
  const serverOptions: SMTPServerOptions = {
    disabledCommands: options.credentials ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.credentials,
    allowInsecureAuth: true,
    logger: false,
    onConnect(session, callback) {
      connections++
      callback(options.onConnect?.(session) ?? undefined)
    },
    onAuth(auth, _session, callback) {
      const { user, pass } = options.credentials ?? { user: '', pass: '' }
      if (auth.username === user && auth.password === pass) return callback(null, { user })
      callback(smtpError(535, '5.7.8 Authentication credentials invalid'))
    },
    onMailFrom(address, _session, callback) {
      callback(options.onMailFrom?.(address.address) ?? undefined)
    },
    onRcptTo(address, _session, callback) {
      callback(options.onRcptTo?.(address.address) ?? undefined)
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        const refusal = options.afterData?.(raw)
        if (refusal) return callback(refusal)
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        }
        simpleParser(raw).then(
          (mail) => {
            received.push({ mail, raw, envelope })
            callback()
          },
          (error: Error) => callback(error),
        )
      })
    },
  }
  const server = new SMTPServer(serverOptions)
  const port = await listen(server.server as unknown as Server, () => server.listen(0, '127.0.0.1'))
  return {
    port,
    received,
    get connections() {
      return connections
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/**
 * A scripted SMTP server that accepts the envelope and then misbehaves at DATA: `drop` closes the
 * connection after the first chunk of the message, `stall` never answers the end of DATA, and
 * `{ dataReply }` answers the DATA command itself with that line (smtp-server has no hook there).
 */
export async function startMisbehavingServer(
  mode: 'drop' | 'stall' | { dataReply: string },
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let inData = false
    socket.write('220 misbehaving.test ESMTP\r\n')
    socket.on('data', (chunk) => {
      if (inData) {
        if (mode === 'drop') socket.destroy()
        return // stall: swallow the message, never answer
      }
      for (const line of chunk.toString('utf8').split('\r\n').filter(Boolean)) {
        const verb = line.slice(0, 4).toUpperCase()
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250-misbehaving.test\r\n250 8BITMIME\r\n')
        else if (verb === 'DATA' && typeof mode === 'object') socket.write(`${mode.dataReply}\r\n`)
        else if (verb === 'DATA') {
          inData = true
          socket.write('354 go ahead\r\n')
        } else if (verb === 'QUIT') socket.end('221 bye\r\n')
        else socket.write('250 2.1.0 OK\r\n')
      }
    })
  })
  const port = await listen(server, () => server.listen(0, '127.0.0.1'))
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  const port = await listen(server, () => server.listen(0, '127.0.0.1'))
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function listen(server: Server, start: () => void): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.once('listening', () => resolve((server.address() as AddressInfo).port))
    start()
  })
}
