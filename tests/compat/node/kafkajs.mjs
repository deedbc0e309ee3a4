// KafkaJS 2.2.4 side by side: the admin client's topic calls, the producer (acks, GZIP, batches across
// topics, idempotence) and a consumer group that commits.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, test } from 'node:test'
import kafkajs from 'kafkajs'
import { T0, assertSame, both, unique, waitUntil } from './harness.mjs'

const { CompressionTypes, ConfigResourceTypes, Kafka, logLevel } = kafkajs
const CLIENT = 'kafkajs'
const require = createRequire(import.meta.url)

// Few retries: some scenarios expect errors (a missing topic), which KafkaJS retries before it reports them;
// what must wait for Kafka's broker polls with a deadline instead (known()).
function kafka (cluster) {
  return new Kafka({ clientId: `node-${CLIENT}`, brokers: [cluster.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } })
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

// What a KafkaJS call threw, as the error's type (the broker's error code name) rather than its text.
async function outcome (promise) {
  try {
    const value = await promise
    return { ok: value }
  } catch (e) {
    // (the message is kept out of the comparison, but shown when an expectation about Kafka fails)
    const result = { error: e.type ?? e.name, errors: e.errors?.map(x => x.type ?? x.name) }
    Object.defineProperty(result, 'message', { value: e.message, enumerable: false })
    return result
  }
}

async function createTopic (admin, topic, numPartitions) {
  assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }], waitForLeaders: false }), true)
  await known(admin, topic, numPartitions)
}

// Waits until every partition of the topic answers ListOffsets: Kafka's broker learns of a new topic (or new
// partitions) a moment after the controller answers, and leads them a moment after its metadata lists them.
// (createTopics' own waitForLeaders gives up when the metadata does not know the topic yet; a produce
// request refused meanwhile is sent again whole by KafkaJS, duplicating what was written.)
async function known (admin, topic, partitions) {
  const count = async () => (await admin.fetchTopicOffsets(topic).catch(() => null))?.length
  await waitUntil(async () => await count() === partitions, 30000, `${topic}'s ${partitions} partitions to answer`)
}

async function topicAdmin (cluster, topic) {
  return withAdmin(cluster, async admin => {
    const seen = {}
    seen.create = await outcome(admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
      waitForLeaders: false
    }))
    await known(admin, topic, 3)
    seen['create again'] = await outcome(admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: false }))
    seen['create with no partitions'] = await outcome(admin.createTopics({ topics: [{ topic: `${topic}-none`, numPartitions: 0 }], waitForLeaders: false }))
    seen['listed'] = (await admin.listTopics()).filter(t => t.startsWith(topic)).sort()
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    seen.metadata = metadata.topics.map(t => ({ name: t.name, partitions: t.partitions.map(p => ({ ...p })).sort((a, b) => a.partitionId - b.partitionId) }))
    const configs = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'cleanup.policy', 'max.message.bytes', 'segment.bytes'] }],
      includeSynonyms: false
    })
    seen.configs = configs.resources.map(r => ({
      error: r.errorCode,
      entries: Object.fromEntries(r.configEntries.map(c => [c.configName, `${c.configValue} (source ${c.configSource}, default ${c.isDefault}, read-only ${c.readOnly})`]))
    }))
    seen['add partitions'] = await outcome(admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] }))
    seen['shrink partitions'] = await outcome(admin.createPartitions({ topicPartitions: [{ topic, count: 2 }] }))
    await known(admin, topic, 4)
    seen['offsets of an empty topic'] = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition)
    const described = await admin.describeCluster()
    seen.cluster = { brokers: described.brokers.map(b => b.nodeId), controller: described.controller }
    seen.delete = await outcome(admin.deleteTopics({ topics: [topic] }))
    seen['delete a missing topic'] = await outcome(admin.deleteTopics({ topics: [`${topic}-missing`], timeout: 2000 }))
    return seen
  })
}

function sent (metadata) {
  return metadata.map(m => ({ topic: m.topicName.replace(/-[0-9a-f]{8}$/, ''), partition: m.partition, error: m.errorCode, baseOffset: m.baseOffset, logAppendTime: m.logAppendTime, logStartOffset: m.logStartOffset }))
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
}

async function producing (cluster, topic) {
  const client = kafka(cluster)
  await withAdmin(cluster, async admin => {
    await createTopic(admin, topic, 2)
    await createTopic(admin, `${topic}-other`, 1)
  })
  const seen = {}
  const producer = client.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  try {
    const messages = [0, 1, 2].map(j => ({ key: `k${j}`, value: `v${j}`, partition: j % 2, timestamp: String(T0 + j), headers: { n: String(j) } }))
    seen['acks=-1'] = sent(await producer.send({ topic, acks: -1, messages }))
    seen['acks=1, gzip'] = sent(await producer.send({ topic, acks: 1, compression: CompressionTypes.GZIP, messages }))
    seen.batch = sent(await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }, { topic: `${topic}-other`, messages: [{ value: 'x', partition: 0, timestamp: String(T0) }] }] }))
    seen['to a missing topic'] = await outcome(producer.send({ topic: `${topic}-missing`, acks: -1, messages: [{ value: 'x' }] }))
  } finally {
    await producer.disconnect()
  }
  const idempotent = client.producer({ idempotent: true, maxInFlightRequests: 1 })
  await idempotent.connect()
  try {
    seen.idempotent = sent(await idempotent.send({ topic, acks: -1, messages: [{ value: 'i1', partition: 1, timestamp: String(T0) }, { value: 'i2', partition: 1, timestamp: String(T0) }] }))
  } finally {
    await idempotent.disconnect()
  }
  await withAdmin(cluster, async admin => {
    seen.offsets = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition)
    seen['offsets by time'] = (await admin.fetchTopicOffsetsByTimestamp(topic, T0 + 1)).sort((a, b) => a.partition - b.partition)
  })
  return seen
}

async function group (cluster, topic, groupId) {
  const client = kafka(cluster)
  await withAdmin(cluster, admin => createTopic(admin, topic, 2))
  const producer = client.producer()
  await producer.connect()
  await producer.send({ topic, acks: -1, messages: [0, 1, 2, 3, 4, 5].map(j => ({ key: `k${j}`, value: `v${j}`, partition: j % 2, timestamp: String(T0 + j), headers: { n: String(j) } })) })
  await producer.disconnect()

  const seen = {}
  const consumer = client.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 300, maxWaitTimeInMs: 200, retry: { retries: 3, initialRetryTime: 100 } })
  const read = []
  let joined = null
  consumer.on(consumer.events.GROUP_JOIN, e => { joined = e.payload })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        read.push({ partition, offset: message.offset, key: message.key.toString(), value: message.value.toString(), timestamp: message.timestamp, headers: Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, v.toString()])) })
      }
    })
    await waitUntil(() => read.length >= 6, 30000, 'every record through the group')
    seen.joined = { leader: joined.isLeader, protocol: joined.groupProtocol, assignment: joined.memberAssignment }
    seen.read = read.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))
    await consumer.commitOffsets([{ topic, partition: 0, offset: '2' }, { topic, partition: 1, offset: '3' }])
    await withAdmin(cluster, async admin => {
      const described = await admin.describeGroups([groupId])
      seen['described while consuming'] = described.groups.map(g => ({ error: g.errorCode, state: g.state, protocol: g.protocol, protocolType: g.protocolType, members: g.members.map(m => m.clientId) }))
    })
  } finally {
    await consumer.disconnect()
  }
  await withAdmin(cluster, async admin => {
    seen.listed = (await admin.listGroups()).groups.filter(g => g.groupId === groupId)
    seen.offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
    seen['set offsets'] = await outcome(admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '1' }] }))
    seen['offsets after set'] = await admin.fetchOffsets({ groupId, topics: [topic] })
    const described = await admin.describeGroups([groupId])
    seen['described after leaving'] = described.groups.map(g => ({ error: g.errorCode, state: g.state, members: g.members.length }))
    seen.delete = await outcome(admin.deleteGroups([groupId]))
    seen['delete again'] = await outcome(admin.deleteGroups([groupId]))
  })
  return seen
}

// This client's tests, one after the other (suite.mjs runs the clients side by side).
export function tests () {
  describe('kafkajs', { concurrency: 1 }, () => {
    test('the pinned version', () => {
      assert.equal(require('kafkajs/package.json').version, '2.2.4')
    })

    test('admin: create, describe, configs, partitions, offsets, delete', async () => {
      const results = await both(topicAdmin, unique(CLIENT, 'admin'))
      assert.equal(results.kafka.create.ok, true, `${JSON.stringify(results.kafka.create)} ${results.kafka.create.message ?? ''}`)
      assert.equal(results.kafka['create again'].ok, false, `${JSON.stringify(results.kafka['create again'])} ${results.kafka['create again'].message ?? ''}`)
      assertSame(results, 'topic administration')
    })

    test('producer: acks, gzip, batches, idempotence', async () => {
      const results = await both(producing, unique(CLIENT, 'produce'))
      assert.equal(results.kafka.offsets.find(o => o.partition === 1).high, '5')
      assertSame(results, 'produce answers and offsets')
    })

    test('consumer group: join, consume, commit, describe, offsets, delete', async () => {
      const name = unique(CLIENT, 'group')
      const results = await both(group, name, name)
      assert.equal(results.kafka.read.length, 6)
      assertSame(results, 'consumer group')
    })
  })
}
