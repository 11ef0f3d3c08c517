import { run } from './index.js'

// The exit code is set, not forced: pending output is flushed before the process ends.
run(process.argv.slice(2)).then((code) => {
  process.exitCode = code
})
