// @confluentinc/kafka-javascript 1.10.1 (librdkafka inside) side by side, through its KafkaJS-style API: a
// producer, and a consumer group of two members with group.protocol=classic and with group.protocol=
// consumer (KIP-848), then the admin calls that describe, list and delete the group and its offsets.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, test } from 'node:test'
import { T0, assertSame, both, unique, waitUntil } from './harness.mjs'

const CLIENT = 'confluent'
const require = createRequire(import.meta.url)
const confluent = require('@confluentinc/kafka-javascript')
const { Kafka, logLevel } = confluent.KafkaJS

function kafka (cluster) {
  return new Kafka({ kafkaJS: { clientId: `node-${CLIENT}`, brokers: [cluster.bootstrap], logLevel: logLevel.NOTHING } })
}

async function withAdmin (cluster, body) {
  const admin = kafka(cluster).admin()
  await admin.connect()
  try {
    return await body(admin)
  } finally {
    await admin.disconnect()
  }
}

const names = (enumeration, value) => Object.keys(enumeration).find(k => enumeration[k] === value) ?? value

function groupView (g) {
  return {
    error: g.error?.code ?? null,
    state: names(confluent.ConsumerGroupStates, g.state),
    type: names(confluent.ConsumerGroupTypes, g.type),
    protocolType: g.protocolType,
    assignor: g.partitionAssignor,
    simple: g.isSimpleConsumerGroup,
    members: g.members.map(m => ({ clientId: m.clientId, partitions: m.assignment.topicPartitions.length })).sort((a, b) => a.clientId.localeCompare(b.clientId))
  }
}

async function group (cluster, topic, groupId, protocol) {
  const client = kafka(cluster)
  await withAdmin(cluster, async admin => {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 4, replicationFactor: 1 }] }), true)
    // Kafka's broker learns of a new topic a moment after the controller answers, and leads its partitions a
    // moment after its metadata lists them: every partition answers ListOffsets once it does.
    await waitUntil(async () => (await admin.fetchTopicOffsets(topic).catch(() => null))?.length === 4, 30000, 'the topic\'s partitions to answer')
  })
  const seen = {}
  const producer = client.producer({ kafkaJS: { acks: -1 } })
  await producer.connect()
  try {
    const answer = await producer.send({ topic, messages: [...Array(8).keys()].map(j => ({ key: `k${j}`, value: `v${j}`, partition: j % 4, timestamp: String(T0 + j), headers: { n: String(j) } })) })
    seen.sent = answer.map(r => ({ partition: r.partition, error: r.errorCode, baseOffset: r.baseOffset })).sort((a, b) => a.partition - b.partition || Number(a.baseOffset) - Number(b.baseOffset))
  } finally {
    await producer.disconnect()
  }

  const read = new Map()
  const members = [0, 1].map(n => {
    const config = { kafkaJS: { groupId, fromBeginning: true, autoCommit: false }, 'client.id': `node-${CLIENT}-${n}`, 'group.protocol': protocol }
    if (protocol === 'classic') Object.assign(config.kafkaJS, { sessionTimeout: 10000, heartbeatInterval: 300 })
    return client.consumer(config)
  })
  try {
    for (const consumer of members) {
      await consumer.connect()
      await consumer.subscribe({ topics: [topic] })
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          read.set(`${partition}/${message.offset}`, { partition, offset: message.offset, key: message.key.toString(), value: message.value.toString(), timestamp: message.timestamp, headers: Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, v.toString()])) })
        }
      })
    }
    await waitUntil(() => {
      const [a, b] = members.map(c => c.assignment().map(tp => tp.partition))
      return a.length > 0 && b.length > 0 && a.length + b.length === 4 && !a.some(p => b.includes(p))
    }, 30000, 'both members to share the four partitions')
    seen['assignment sizes'] = members.map(c => c.assignment().length).sort()
    await waitUntil(() => read.size === 8, 20000, 'every record')
    seen.read = [...read.values()].sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))
    // Explicit offsets: which member read a partition first depends on when the assignment settled.
    for (const [n, consumer] of members.entries()) {
      await consumer.commitOffsets(consumer.assignment().map(tp => ({ topic, partition: tp.partition, offset: String(2 - n), metadata: `m${n}` })))
    }
    seen.committed = (await Promise.all(members.map(c => c.committed()))).flat().map(tp => `${tp.offset} ${tp.metadata}`).sort()
    await withAdmin(cluster, async admin => {
      seen.described = (await admin.describeGroups([groupId])).groups.map(groupView)
    })
  } finally {
    for (const consumer of members) await consumer.disconnect()
  }
  await withAdmin(cluster, async admin => {
    const listed = await admin.listGroups()
    seen.listed = listed.groups.filter(g => g.groupId === groupId).map(g => ({ ...g, state: names(confluent.ConsumerGroupStates, g.state), type: names(confluent.ConsumerGroupTypes, g.type) }))
    seen.offsets = (await admin.fetchOffsets({ groupId, topics: [topic] })).map(t => t.partitions.map(p => `${p.offset} ${p.metadata}`).sort())
    seen['described after leaving'] = (await admin.describeGroups([groupId])).groups.map(groupView)
    seen.delete = (await admin.deleteGroups([groupId])).map(r => ({ error: r.errorCode ?? r.error?.code ?? null }))
  })
  return seen
}

// This client's tests, one after the other (suite.mjs runs the clients side by side).
export function tests () {
  describe('@confluentinc/kafka-javascript', { concurrency: 1 }, () => {
    test('the pinned version', () => {
      assert.equal(require('@confluentinc/kafka-javascript/package.json').version, '1.10.1')
    })

    for (const protocol of ['classic', 'consumer']) {
      test(`consumer group with group.protocol=${protocol}`, async () => {
        const name = unique(CLIENT, `group-${protocol}`)
        const results = await both(group, name, name, protocol)
        assert.equal(results.kafka.read.length, 8)
        assert.deepEqual(results.kafka['assignment sizes'], [2, 2])
        assert.equal(results.kafka.described[0].type, protocol.toUpperCase())
        assertSame(results, `group.protocol=${protocol}`)
      })
    }
  })
}
