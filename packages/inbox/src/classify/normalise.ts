/**
 * Folds text for phrase matching across the five languages: lower case, accents removed (NFD then
 * combining marks dropped: `usuń` → `usun`, `réponse` → `reponse`), and the letters NFD does not
 * decompose spelled out (`ł` → `l`, `ß` → `ss`, `œ` → `oe`), typographic apostrophes made ASCII, white
 * space runs collapsed within a line.
 */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/ł/g, 'l')
    .replace(/ß/g, 'ss')
    .replace(/œ/g, 'oe')
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .replace(/[ \t\u00a0]+/g, ' ')
}
