// The Node.js side-by-side suite: every client's scenarios in this one process (run.sh runs it), against
// one Brook started on first use and the Kafka broker of ctest's fixture.
import { after } from 'node:test'
import { stopBrook } from './harness.mjs'
import './kafkajs.mjs'
import './confluent.mjs'
import './platformatic.mjs'

after(stopBrook)
