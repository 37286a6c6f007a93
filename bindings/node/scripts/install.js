// Builds the native addon from source when no prebuilt binary for this platform is
// present, so `npm install ./bindings/node` works on any machine with cargo.
'use strict'
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
const abi = process.platform === 'linux' ? (process.report?.getReport?.().header?.glibcVersionRuntime ? '-gnu' : '-musl') : ''
const target = `ticketgate.${process.platform}-${process.arch}${process.platform === 'linux' ? abi : ''}.node`

if (fs.existsSync(path.join(root, target)) && !process.env.TICKETGATE_BUILD_FROM_SOURCE) {
  process.exit(0)
}
const profile = process.env.TICKETGATE_DEBUG_BUILD ? 'debug' : 'release'
const manifest = path.join(root, 'Cargo.toml')
const cargo = process.env.CARGO || 'cargo'
console.error(`ticketgate: building the native addon from source (${profile}); this takes a few minutes`)
const args = ['build', '--manifest-path', manifest, '--lib']
if (profile === 'release') args.push('--release')
try {
  execFileSync(cargo, args, { stdio: 'inherit' })
} catch (e) {
  console.error('ticketgate: cargo build failed; install Rust (https://rustup.rs) and retry')
  process.exit(1)
}
const meta = JSON.parse(
  execFileSync(cargo, ['metadata', '--format-version', '1', '--no-deps', '--manifest-path', manifest], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  }),
)
const lib = { linux: 'libticketgate_node.so', darwin: 'libticketgate_node.dylib', win32: 'ticketgate_node.dll' }[
  process.platform
]
fs.copyFileSync(path.join(meta.target_directory, profile, lib), path.join(root, target))
console.error(`ticketgate: built ${target}`)
