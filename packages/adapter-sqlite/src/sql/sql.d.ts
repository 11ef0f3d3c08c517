/** `.sql` files are bundled as text (tsup's `text` loader; a Vite plugin and a Node hook in tests). */
declare module '*.sql' {
  const text: string
  export default text
}
