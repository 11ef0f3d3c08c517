import { describe, expect, it } from 'vitest'
import { asksToUnsubscribe } from '../../src/classify/opt-out.js'

describe('asksToUnsubscribe', () => {
  it.each([
    'Please unsubscribe me.',
    'Remove me from your list',
    'Take me off this list please',
    'Please stop emailing me.',
    "Don't contact me again",
    'I want to opt out',
    'STOP',
    'remove.',
    'Proszę mnie wypisać z listy.',
    'Usuńcie mnie z bazy.',
    'Nie wysyłajcie mi więcej wiadomości.',
    'Rezygnuję z subskrypcji',
    'Bitte abmelden.',
    'Bitte tragen Sie mich aus dem Verteiler aus.',
    'Keine weiteren E-Mails bitte.',
    'Löschen Sie meine Adresse.',
    'Merci de me désinscrire.',
    'Désabonnez-moi svp',
    'Retirez-moi de votre liste',
    'Je ne veux plus recevoir vos messages, ne plus me contacter.',
    'Por favor, darme de baja.',
    'Quitadme de la lista',
    'No me envíen más correos',
    'Quiero cancelar la suscripción',
  ])('%s', (text) => {
    expect(asksToUnsubscribe(text)).toBe(true)
  })

  it.each([
    'Sounds good, talk Tuesday.',
    'Not interested right now, maybe next quarter.',
    'Newsletter: Unsubscribe <https://example.com/u/1>',
    'Unsubscribe [https://example.com/u/1]',
    'Manage preferences or unsubscribe at www.example.com/prefs',
    'Ich habe keine Mails bekommen.',
    'Stop by our booth at the fair!',
    'El precio está muy baja.',
    '',
  ])('not: %s', (text) => {
    expect(asksToUnsubscribe(text)).toBe(false)
  })
})
