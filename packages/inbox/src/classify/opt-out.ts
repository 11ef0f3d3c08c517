import { fold } from './normalise.js'

/**
 * Does a person's own text (quotes already removed, see `ownText`) ask to be removed from the
 * list? Phrases in English, Polish, German, French and Spanish, matched on folded text (no case,
 * no accents). Lines carrying a link are left out first: "Unsubscribe <https://…>" or
 * "Unsubscribe [https://…]" is a footer or a pasted newsletter, not the person asking (cold-cli
 * took any "unsubscribe" in a body as an opt-out).
 */
const PHRASES: readonly RegExp[] = [
  // English
  /\bun-?subscribe\b/,
  /\bremove (?:me|us|my (?:e-?mail|address|name|contact))\b/,
  /\btake (?:me|us|my (?:e-?mail|address|name)) off\b/,
  /\bopt(?:ing)? (?:me |us )?out\b/,
  /\bstop (?:e-?mailing|emailing|sending|contacting|writing|messaging)\b/,
  /\b(?:do not|don't|dont) (?:contact|e-?mail|write to|message|send) (?:me|us)\b/,
  /\bno (?:more|further) (?:e-?mails|emails|messages)\b/,
  /\bdelete (?:me|my (?:e-?mail|address|data|details))\b/,
  /\boff (?:your|the) (?:mailing |e-?mail )?list\b/,
  // Polish
  /\bwypisz(?:cie)? mnie\b/,
  /\bwypisa(?:c|nie)\b/,
  /\busun(?:cie)? (?:mnie|moj|moje|nas)\b/,
  /\busuniecie (?:mnie|mojego|moich|adresu|z listy)\b/,
  /\bnie (?:wysylaj|wysylajcie|przesylaj|przesylajcie|piszcie|pisz|kontaktuj|kontaktujcie)(?: sie)?\b/,
  /\brezygnuje z (?:subskrypcji|newslettera|otrzymywania|mailingu|wiadomosci)\b/,
  // German
  /\b(?:abmelden|abmeldung|abbestellen|austragen)\b/,
  /\btragen sie mich\b/,
  /\bentfernen sie (?:mich|meine)\b/,
  /\bloschen sie (?:mich|meine)\b/,
  /\bkeine (?:weiteren (?:e-?mails|mails|nachrichten|werbung)|(?:e-?mails|mails|nachrichten|werbung) mehr)\b/,
  /\bnicht mehr (?:kontaktieren|anschreiben|schreiben|zuschicken)\b/,
  /\baus (?:ihrem|dem|eurem|ihren) verteiler\b/,
  // French
  /\bdes(?:abonner|abonnez|abonnement|inscrire|inscrivez|inscription)\b/,
  /\bme (?:retirer|supprimer|desinscrire|desabonner|rayer)\b/,
  /\b(?:retirez|supprimez|rayez)[- ]moi\b/,
  /\bne (?:plus|pas) (?:me )?(?:contacter|m'ecrire|m'envoyer|recevoir)\b/,
  /\bne m'(?:envoyez|ecrivez|contactez) plus\b/,
  // Spanish
  /\bdar(?:me|se)? de baja\b/,
  /\bden(?:me)? de baja\b/,
  /\belimin(?:ar|adme|enme|ame)(?:me)? de\b/,
  /\beliminenme\b/,
  /\bquit(?:ar|enme|adme)(?:me)? de\b/,
  /\bno (?:me )?(?:envien|envies|manden|escriban|contacten)\b/,
  /\bno quiero recibir\b/,
  /\bcancelar (?:la |mi )?suscripcion\b/,
  /\bdesuscribir(?:me)?\b/,
]

/** A one-word answer that is itself the request ("STOP", "Remove", "Baja", "Wypisz"). */
const SOLE_WORD = /^(?:stop|remove|unsubscribe|baja|wypisz|abmelden|desabonner|stopp)[.!]*$/

const LINK = /https?:\/\/|mailto:|www\./i

export function asksToUnsubscribe(ownText: string): boolean {
  const text = fold(
    ownText
      .split(/\r\n|\r|\n/)
      .filter((line) => !LINK.test(line))
      .join('\n'),
  )
  if (SOLE_WORD.test(text.trim())) return true
  const flat = text.replace(/\s+/g, ' ')
  return PHRASES.some((phrase) => phrase.test(flat))
}
