/**
 * Free-mail domains: address domains anyone can sign up on, so two leads sharing one are not
 * colleagues. A reply stops the replier's colleagues only outside these (`stopOnReply: 'domain'`),
 * and per-domain limits (issue #14) treat each address on them as its own company. One list, here.
 *
 * The large consumer providers and their country variants; a host with others in its lists can
 * still use `stopOnReply: 'lead'`. Lower case, compared exactly with the part after the last `@`.
 */
export const FREE_MAIL_DOMAINS: ReadonlySet<string> = new Set([
  // Google, Microsoft, Apple, Yahoo, AOL, Proton, Zoho, GMX, Yandex, Mail.ru, Tutanota, Fastmail
  'gmail.com',
  'googlemail.com',
  'outlook.com',
  'hotmail.com',
  'hotmail.co.uk',
  'hotmail.de',
  'hotmail.fr',
  'hotmail.es',
  'hotmail.it',
  'live.com',
  'live.co.uk',
  'live.de',
  'live.fr',
  'msn.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'yahoo.com',
  'yahoo.co.uk',
  'yahoo.de',
  'yahoo.fr',
  'yahoo.es',
  'yahoo.it',
  'yahoo.co.jp',
  'ymail.com',
  'rocketmail.com',
  'aol.com',
  'proton.me',
  'protonmail.com',
  'pm.me',
  'zoho.com',
  'zohomail.com',
  'gmx.com',
  'gmx.net',
  'gmx.de',
  'web.de',
  't-online.de',
  'yandex.com',
  'yandex.ru',
  'mail.ru',
  'tutanota.com',
  'tuta.io',
  'fastmail.com',
  'hey.com',
  'mail.com',
  // Poland, France, Spain, Italy (the seed's users' countries and their neighbours)
  'wp.pl',
  'o2.pl',
  'onet.pl',
  'interia.pl',
  'op.pl',
  'gazeta.pl',
  'orange.fr',
  'free.fr',
  'laposte.net',
  'sfr.fr',
  'wanadoo.fr',
  'libero.it',
  'virgilio.it',
  'telefonica.net',
  'seznam.cz',
  'qq.com',
  '163.com',
  '126.com',
  'naver.com',
])

/** The domain of an address (after the last `@`), lower case; `''` when there is none. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@')
  return at < 0
    ? ''
    : address
        .slice(at + 1)
        .trim()
        .toLowerCase()
}

/** Whether an address domain is a free-mail provider's (see {@link FREE_MAIL_DOMAINS}). */
export function isFreeMailDomain(domain: string): boolean {
  return FREE_MAIL_DOMAINS.has(domain.toLowerCase())
}
