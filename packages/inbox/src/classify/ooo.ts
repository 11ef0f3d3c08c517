import { fold } from './normalise.js'

/**
 * Is an automatic answer an out-of-office notice? Decided on the folded subject and text, in
 * English, Polish, German, French and Spanish.
 */

/**
 * Subjects responders put on absence notices: Exchange/Outlook "Automatic reply:" (its OOF
 * assistant; localised "Automatische Antwort:", "Réponse automatique :", "Respuesta automática:",
 * "Automatyczna odpowiedź:"), "Out of Office:", Lotus/HCL "is out of the office", Gmail and Zoho
 * vacation subjects the user typed ("Vacation", "Urlaub", "Abwesend", "Absence", …).
 */
const SUBJECT =
  /\bout of (?:the )?office\b|\bout-of-office\b|\booo\b|\bon (?:vacation|holiday|leave)\b|\bvacation\b|\babwesen|\burlaub\b|\bnicht im buro\b|\babsen(?:t|te|ce)\b|\ben conges?\b|\bvacances\b|\bfuera de (?:la )?oficina\b|\bvacaciones\b|\bausente\b|\bnieobecn|\bpoza biurem\b|\burlop/

/** Absence wording in the body. */
const BODY: readonly RegExp[] = [
  // English
  /\bout of (?:the )?office\b|\bout-of-office\b/,
  /\b(?:on|taking) (?:vacation|holiday|holidays|annual leave|leave|parental leave|maternity leave|paternity leave|sick leave|a break)\b/,
  /\baway from (?:the |my )?(?:office|desk|e-?mail)\b/,
  /\b(?:i am|i'm|im|currently) (?:away|travell?ing|out)\b/,
  /\blimited (?:access to (?:my )?e-?mail|e-?mail access)\b/,
  /\b(?:will|shall|i'll) be back\b|\bback in the office\b|\buntil i return\b|\bupon my return\b/,
  // Polish
  /\bpoza biurem\b|\bnieobecn|\bna urlopie\b|\burlop|\bwracam\b|\bwroce\b|\bbede z powrotem\b|\bograniczony dostep\b/,
  // German
  /\babwesen|\bnicht im buro\b|\bausser haus\b|\burlaub\b|\bwieder (?:im buro|erreichbar|da|zuruck)\b|\bnur eingeschrankt erreichbar\b/,
  // French
  /\babsente?\b|\babsence\b|\ben conges?\b|\ben vacances\b|\bhors du bureau\b|\bde retour\b|\bacces limite\b/,
  // Spanish
  /\bfuera de (?:la )?oficina\b|\bde vacaciones\b|\bausente\b|\bregresare\b|\bvolvere\b|\bestare de vuelta\b|\bde regreso\b|\bacceso limitado\b|\bestare fuera\b/,
]

/**
 * Subject prefixes only responders write: "Automatic reply:" (Exchange's OOF assistant, and its
 * translations), "Auto-Reply:", "[Auto-Response]", "Out of Office:", "Abwesend:", "Absence :",
 * "Fuera de la oficina:", "Nieobecność:". A person's reply starts with "Re:" instead.
 */
const AUTOMATIC_REPLY_SUBJECT =
  /^\s*\[?\s*(?:automatic reply|auto(?:matic)?[- ]?(?:reply|response|responder)|autoreply|automatische antwort|reponse automatique|respuesta automatica|automatyczna odpowiedz|out of (?:the )?office|ooo|abwesend|abwesenheit(?:snotiz)?|absence|absente?|fuera de (?:la )?oficina|nieobecnosc|poza biurem)\b/

/** True when the subject or the text says the person is away. */
export function isOutOfOffice(subject: string, text: string): boolean {
  const foldedSubject = fold(subject)
  if (SUBJECT.test(foldedSubject)) return true
  const body = fold(text).replace(/\s+/g, ' ')
  return BODY.some((pattern) => pattern.test(body))
}

/** True for a subject only an automatic responder writes. */
export function hasAutomaticReplySubject(subject: string): boolean {
  return AUTOMATIC_REPLY_SUBJECT.test(fold(subject))
}
