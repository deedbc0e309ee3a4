// The Node.js side-by-side suite: every client's scenarios in this one process (run.sh runs it), against
// one Brook started on first use and the Kafka broker of ctest's fixture. The three clients run at the same
// time, each its own tests one after the other.
import { after, describe } from 'node:test'
import { stopBrook } from './harness.mjs'
import { tests as confluent } from './confluent.mjs'
import { tests as kafkajs } from './kafkajs.mjs'
import { tests as platformatic } from './platformatic.mjs'

describe('Node.js clients against Brook and Kafka', { concurrency: true }, () => {
  kafkajs()
  confluent()
  platformatic()
  after(stopBrook)
})
