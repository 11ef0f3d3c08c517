/**
 * A throwaway Dovecot for the IMAP tests: its own config, run dir and maildirs in a temp dir,
 * plaintext users, listening on 127.0.0.1 on a free port. Started and stopped by each test file.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, Socket } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { ImapFlow, type ImapFlowOptions } from 'imapflow'

export const DOVECOT = '/usr/sbin/dovecot'
export const INSTALL_HINT =
  'Dovecot is not installed: the IMAP tests need it (`apt-get install dovecot-imapd`, as .ci/run does).'

/** True when the tests can run; under CI a missing Dovecot is a failure, not a skip. */
export function dovecotAvailable(): boolean {
  if (existsSync(DOVECOT)) return true
  if (process.env.CI) throw new Error(`${INSTALL_HINT} It is required under CI.`)
  console.warn(`skipping the IMAP tests. ${INSTALL_HINT}`)
  return false
}

export interface Dovecot {
  port: number
  /** imapflow options for a test user (its password included; the tests check it never leaks). */
  options(user: string, pass?: string): ImapFlowOptions
  /** Runs `fn` with a logged-in client of `user`. */
  withClient<T>(user: string, fn: (client: ImapFlow) => Promise<T>): Promise<T>
  stop(): Promise<void>
}

export async function startDovecot(users: Record<string, string>): Promise<Dovecot> {
  const dir = await mkdtemp(join(tmpdir(), 'inbox-imap-dovecot-'))
  // Dovecot's processes run as its own users when we are root: they need to reach the temp dir.
  await chmod(dir, 0o755)
  const mail = join(dir, 'mail')
  await mkdir(mail)
  const root = process.getuid?.() === 0
  const mailUser = root ? 'dovecot' : userInfo().username
  if (root) {
    const id = spawnSync('id', ['-u', 'dovecot'], { encoding: 'utf8' }).stdout.trim()
    const gid = spawnSync('id', ['-g', 'dovecot'], { encoding: 'utf8' }).stdout.trim()
    await chown(mail, Number(id), Number(gid))
  }
  const port = await freePort()
  const passwd = Object.entries(users).map(([u, p]) => `${u}:{PLAIN}${p}`)
  await writeFile(join(dir, 'users'), `${passwd.join('\n')}\n`)
  const config = join(dir, 'dovecot.conf')
  await writeFile(config, configText(dir, port, mailUser, root))
  // The master daemonizes and keeps the stdio it was given: no pipes, or spawnSync waits for it.
  const started = spawnSync(DOVECOT, ['-c', config], { stdio: 'ignore' })
  if (started.status !== 0) {
    const log = await readFile(join(dir, 'dovecot.log'), 'utf8').catch(() => '')
    await rm(dir, { recursive: true, force: true })
    throw new Error(`dovecot did not start (exit ${started.status}): ${log}`)
  }
  await waitForPort(port)

  const options = (user: string, pass = users[user]): ImapFlowOptions => ({
    host: '127.0.0.1',
    port,
    secure: false,
    auth: { user, pass },
    logger: false,
    // Plain IMAP on loopback: no STARTTLS (the throwaway server has no certificate).
    doSTARTTLS: false,
  })
  return {
    port,
    options,
    async withClient(user, fn) {
      const client = new ImapFlow(options(user))
      await client.connect()
      try {
        return await fn(client)
      } finally {
        await client.logout()
      }
    },
    async stop() {
      spawnSync(DOVECOT, ['-c', config, 'stop'], { stdio: 'ignore' })
      await rm(dir, { recursive: true, force: true })
    },
  }
}

function configText(dir: string, port: number, mailUser: string, root: boolean): string {
  const unprivileged = root
    ? ''
    : `default_internal_user = ${mailUser}\ndefault_login_user = ${mailUser}\ndefault_internal_group = ${mailUser}\n`
  return `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A refused login answers at once (default: 2 s later), so the back-off test does not wait.
auth_failure_delay = 0
mail_location = maildir:${dir}/mail/%u
first_valid_uid = 1
${unprivileged}passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=${mailUser} gid=${mailUser} home=${dir}/mail/%u
}
# No auth penalty: after failed logins Dovecot slows every login from the address (2 s, 4 s,
# 8 s… for every user); mode 0 removes the socket it goes through.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Waits for the listener (the master starts it right away; a few tries at most). */
async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket()
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
      socket.connect(port, '127.0.0.1')
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`dovecot did not listen on 127.0.0.1:${port}`)
}
