// Side by side: every scenario runs against Brook and against a real Apache Kafka broker, and the tests
// compare what the two answer.
//
// clusters() starts one `brook-server --ephemeral --exit-on-stdin-eof` for the whole process (the binary
// named by $BROOK_SERVER) and reads the Kafka broker's address from $BROOK_KAFKA_BOOTSTRAP_FILE, written by
// ctest's fixture (tests/client/kafka/kafka_broker.py). both(scenario, ...args) runs scenario(cluster,
// ...args) against the two at once and returns {brook, kafka}; assertSame() compares them and lists every
// path where they differ. Scenarios return only what must agree: ids, hosts, ports and timings are left out
// or normalised by the scenario itself.
//
// Topic and group names start with "node-<client>-" and end with this run's random suffix, as the Kafka
// broker is shared by every suite of a ctest run.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'

export const RUN = randomBytes(4).toString('hex')
// Record timestamps (CreateTime) the scenarios set, the same on both brokers: recent enough that no
// retention deletes them, old enough that Kafka's message.timestamp.after.max.ms does not refuse them.
export const T0 = (Math.floor(Date.now() / 1000) - 600) * 1000
const START_TIMEOUT_MS = 20000

export function unique (client, what) {
  return `node-${client}-${what}-${RUN}`
}

// Polls predicate() (sync or async) until it returns something truthy, which is returned.
export async function waitUntil (predicate, timeoutMs, what, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await predicate()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(intervalMs)
  }
}

function kafkaBootstrap () {
  const file = process.env.BROOK_KAFKA_BOOTSTRAP_FILE
  if (!file) throw new Error('BROOK_KAFKA_BOOTSTRAP_FILE is not set (ctest sets it)')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const why = existsSync(`${file}.unavailable`) ? readFileSync(`${file}.unavailable`, 'utf8').trim() : 'its fixture did not run'
  throw new Error(`no Kafka broker: ${why}`)
}

let brook = null
let started = null

async function startBrook () {
  const binary = process.env.BROOK_SERVER
  if (!binary) throw new Error('BROOK_SERVER is not set (path to brook-server)')
  const child = spawn(binary, ['--ephemeral', '--exit-on-stdin-eof'], { stdio: ['pipe', 'pipe', 'pipe'] })
  const stderr = []
  child.stderr.on('data', chunk => { stderr.push(chunk); if (stderr.length > 200) stderr.shift() })
  const lines = createInterface({ input: child.stdout })
  const first = await Promise.race([
    new Promise(resolve => lines.once('line', resolve)),
    new Promise(resolve => child.once('exit', () => resolve(''))),
    sleep(START_TIMEOUT_MS, '', { ref: false })
  ])
  if (!first.startsWith('bootstrap.servers=')) {
    child.kill()
    throw new Error(`brook-server did not print its address within ${START_TIMEOUT_MS} ms:\n${Buffer.concat(stderr).toString().slice(-3000)}`)
  }
  lines.on('line', () => {})
  const exited = new Promise(resolve => child.once('exit', code => resolve(code)))
  brook = { child, exited, bootstrap: first.split('=')[1] }
}

// [{name: 'brook', bootstrap}, {name: 'kafka', bootstrap}]; Brook is started once, on first use.
export async function clusters () {
  if (!started) started = startBrook()
  await started
  return [{ name: 'brook', bootstrap: brook.bootstrap }, { name: 'kafka', bootstrap: kafkaBootstrap() }]
}

// Stops Brook (closing its stdin) and checks that it exited cleanly.
export async function stopBrook () {
  if (!brook) return
  brook.child.stdin.end()
  const code = await Promise.race([brook.exited, sleep(20000, 'timeout', { ref: false })])
  if (code === 'timeout') brook.child.kill('SIGKILL')
  assert.equal(code, 0, 'brook-server exit code')
}

export async function both (scenario, ...args) {
  const list = await clusters()
  const settled = await Promise.allSettled(list.map(c => scenario(c, ...args)))
  const results = {}
  settled.forEach((s, i) => {
    if (s.status === 'rejected') {
      const e = s.reason
      const error = new Error(`the scenario failed against ${list[i].name}: ${e?.stack ?? e}`)
      error.cause = e
      throw error
    }
    results[list[i].name] = s.value
  })
  return results
}

// {path: leaf} of nested objects, arrays and Maps; bigints become strings.
export function flatten (value, path = '', out = {}) {
  if (value instanceof Map) value = Object.fromEntries(value)
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, Array.isArray(value) ? `${path}[${k}]` : `${path}/${k}`, out)
  } else {
    out[path || '/'] = typeof value === 'bigint' ? `${value}n` : Buffer.isBuffer(value) ? `<${value.toString()}>` : value
  }
  return out
}

export function differences (brook, kafka) {
  const b = flatten(brook)
  const k = flatten(kafka)
  const lines = []
  for (const path of [...new Set([...Object.keys(b), ...Object.keys(k)])].sort()) {
    const show = v => JSON.stringify(v)
    if (!(path in k)) lines.push(`  only Brook:  ${path} = ${show(b[path])}`)
    else if (!(path in b)) lines.push(`  only Kafka:  ${path} = ${show(k[path])}`)
    else if (show(b[path]) !== show(k[path])) lines.push(`  differ:      ${path}: Brook ${show(b[path])}, Kafka ${show(k[path])}`)
  }
  return lines
}

// Brook's answer equals Kafka's; otherwise fails listing every path where they differ.
export function assertSame (results, what) {
  const lines = differences(results.brook, results.kafka)
  if (lines.length > 0) assert.fail(`${what}: Brook and Kafka differ at ${lines.length} place(s):\n${lines.join('\n')}`)
}
