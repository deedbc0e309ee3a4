// @platformatic/kafka 2.12.1 side by side: the producer with each codec, a consumer in a group (classic and
// KIP-848's consumer protocol) that commits, and the admin client (topics, configs, offsets, records, groups,
// log dirs).
//
// The package asks for Node 22.22+. Of what Node 20 lacks it uses only ES2024's Promise.withResolvers(),
// which is defined below as the standard defines it when the running Node has none, so that the suite
// runs on the Node 20 the machines have.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import zlib from 'node:zlib'
import { describe, test } from 'node:test'
import { T0, assertSame, both, unique, waitUntil } from './harness.mjs'

if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}
const {
  Admin, ConfigResourceTypes, Consumer, GroupProtocols, MessagesStreamModes, Producer, stringDeserializers, stringSerializers
} = await import('@platformatic/kafka')

const CLIENT = 'platformatic'
const base = cluster => ({ clientId: `node-${CLIENT}`, bootstrapBrokers: [cluster.bootstrap], retries: 20, retryDelay: 250 })

async function withAdmin (cluster, body) {
  const admin = new Admin(base(cluster))
  try {
    return await body(admin)
  } finally {
    await admin.close()
  }
}

// What a call threw, as the error's class and the broker's error codes rather than its text.
async function outcome (promise) {
  try {
    return { ok: await promise }
  } catch (e) {
    const codes = new Set()
    const visit = x => { if (x?.apiCode !== undefined) codes.add(x.apiCode); for (const c of x?.errors ?? []) visit(c); if (x?.response?.errorCode) codes.add(x.response.errorCode) }
    visit(e)
    return { error: e.code ?? e.name, codes: [...codes].sort() }
  }
}

async function createTopic (admin, topic, partitions) {
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 })
  await known(admin, topic, partitions)
}

// Waits until every partition of the topic answers ListOffsets: Kafka's broker learns of a new topic a
// moment after the controller answers, and leads its partitions a moment after its metadata lists them (a
// produce request refused meanwhile is sent again whole by this client, duplicating what was written).
async function known (admin, topic, partitions) {
  const request = { topics: [{ name: topic, partitions: [...Array(partitions).keys()].map(partitionIndex => ({ partitionIndex, timestamp: -1n })) }] }
  await waitUntil(async () => (await admin.listOffsets(request).catch(() => null))?.[0]?.partitions.length === partitions, 30000, `${topic}'s partitions to answer`)
}

// The client compresses zstd with node:zlib's zstd functions, which Node 20 lacks (22.15 has them).
const CODECS = ['none', 'gzip', 'snappy', 'lz4', ...(zlib.zstdCompressSync ? ['zstd'] : [])]

async function produceConsume (cluster, topic) {
  await withAdmin(cluster, admin => createTopic(admin, topic, 2))
  const seen = { sent: {} }
  const producer = new Producer({ ...base(cluster), serializers: stringSerializers, acks: -1, autocreateTopics: false })
  try {
    for (const [i, compression] of CODECS.entries()) {
      const answer = await producer.send({
        compression,
        messages: [0, 1, 2].map(j => ({ topic, key: `k${j}`, value: `${compression}-${j}`.repeat(10), partition: i % 2, timestamp: BigInt(T0 + 10 * i + j), headers: { codec: compression } }))
      })
      seen.sent[compression] = answer.offsets.map(o => ({ partition: o.partition, offset: o.offset }))
    }
    seen['to a missing topic'] = await outcome(producer.send({ messages: [{ topic: `${topic}-missing`, value: 'x', partition: 0 }] }))
  } finally {
    await producer.close()
  }
  await withAdmin(cluster, async admin => {
    const listed = async timestamp => (await admin.listOffsets({ topics: [{ name: topic, partitions: [0, 1].map(partitionIndex => ({ partitionIndex, timestamp })) }] }))
      .flatMap(t => t.partitions.map(p => ({ partition: p.partitionIndex, offset: p.offset, timestamp: p.timestamp }))).sort((a, b) => a.partition - b.partition)
    seen.earliest = await listed(-2n)
    seen.latest = await listed(-1n)
    seen['max timestamp'] = await listed(-3n)
    seen['at T0+11'] = await listed(BigInt(T0 + 11))
    const deleted = await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 2n }] }] })
    seen['delete records'] = deleted.map(t => t.partitions.map(p => ({ partition: p.partition, lowWatermark: p.lowWatermark })))
  })
  return seen
}

async function groupScenario (cluster, topic, groupId, protocol) {
  await withAdmin(cluster, admin => createTopic(admin, topic, 2))
  const producer = new Producer({ ...base(cluster), serializers: stringSerializers })
  await producer.send({ messages: [0, 1, 2, 3].map(j => ({ topic, key: `k${j}`, value: `v${j}`, partition: j % 2, timestamp: BigInt(T0 + j) })) })
  await producer.close()

  const seen = {}
  const groupOptions = protocol === GroupProtocols.CLASSIC
    ? { groupProtocol: protocol, sessionTimeout: 10000, heartbeatInterval: 300 }
    : { groupProtocol: protocol }
  const consumer = new Consumer({ ...base(cluster), groupId, deserializers: stringDeserializers, maxWaitTime: 200, ...groupOptions })
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false, maxWaitTime: 200 })
    // Keyed by partition and offset: a record may come twice when the assignment settles in steps.
    const read = new Map()
    stream.on('data', m => read.set(`${m.partition}/${m.offset}`, m))
    await waitUntil(() => read.size >= 4, 30000, 'every record through the group')
    seen.read = [...read.values()].map(m => ({ partition: m.partition, offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp })).sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset))
    await consumer.commit({ offsets: [{ topic, partition: 0, offset: 1n, leaderEpoch: -1 }, { topic, partition: 1, offset: 2n, leaderEpoch: -1 }] })
    const committed = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: [0, 1] }] })
    seen.committed = Object.fromEntries([...committed].map(([t, offsets]) => [t, offsets]))
    await withAdmin(cluster, async admin => {
      const described = await admin.describeGroups({ groups: [groupId] })
      seen.described = [...described.values()].map(g => ({ state: g.state, protocolType: g.protocolType, protocol: g.protocol, members: g.members.size }))
    })
    await stream.close()
  } finally {
    await consumer.close(true)
  }
  await withAdmin(cluster, async admin => {
    const listed = await admin.listGroups()
    seen.listed = [...listed.values()].filter(g => g.id === groupId).map(g => ({ state: g.state, type: g.groupType, protocolType: g.protocolType }))
    const offsets = await admin.listConsumerGroupOffsets({ groups: [groupId] })
    seen.offsets = offsets.map(g => g.topics.map(t => ({ name: t.name, partitions: t.partitions.map(p => ({ partition: p.partitionIndex, offset: p.committedOffset, metadata: p.metadata })).sort((a, b) => a.partition - b.partition) })))
    seen.delete = await outcome(admin.deleteGroups({ groups: [groupId] }))
    seen['delete again'] = await outcome(admin.deleteGroups({ groups: [groupId] }))
  })
  return seen
}

async function adminScenario (cluster, topic) {
  return withAdmin(cluster, async admin => {
    const seen = {}
    const created = await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 })
    seen.created = created.map(t => ({ name: t.name, partitions: t.partitions, replicas: t.replicas, retention: t.configuration['retention.ms'] }))
    seen['create again'] = await outcome(admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 }))
    await known(admin, topic, 2)
    seen.listed = (await admin.listTopics()).filter(t => t.startsWith(topic))
    seen['add partitions'] = await outcome(admin.createPartitions({ topics: [{ name: topic, count: 3 }] }))
    const configs = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ['cleanup.policy', 'retention.ms', 'segment.bytes'] }] })
    seen.configs = configs.map(r => r.configs.map(c => ({ name: c.name, value: c.value, source: c.configSource, readOnly: c.readOnly, type: c.configType })).sort((a, b) => a.name.localeCompare(b.name)))
    seen['alter configs'] = await outcome(admin.incrementalAlterConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs: [{ name: 'retention.ms', value: '60000', configOperation: 0 }] }] }))
    // Kafka's broker applies the change a moment after the controller answers.
    const retention = async () => (await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ['retention.ms'] }] }))
      .map(r => r.configs.map(c => ({ name: c.name, value: c.value, source: c.configSource })))
    seen['configs after alter'] = await waitUntil(async () => { const r = await retention(); return r[0]?.[0]?.value === '60000' && r }, 30000, 'the altered retention.ms')
    seen.delete = await outcome(admin.deleteTopics({ topics: [topic] }))
    seen['delete again'] = await outcome(admin.deleteTopics({ topics: [topic] }))
    return seen
  })
}

async function logDirs (cluster, topic) {
  return withAdmin(cluster, async admin => {
    await createTopic(admin, topic, 2)
    const answer = await admin.describeLogDirs({ topics: [{ name: topic, partitions: [0, 1] }] })
    return answer.map(b => b.results.map(d => ({
      topics: d.topics.filter(t => t.name === topic).map(t => ({ name: t.name, partitions: t.partitions.map(p => ({ partition: p.partitionIndex, size: p.partitionSize, lag: p.offsetLag, future: p.isFutureKey })).sort((a, b) => a.partition - b.partition) })),
      hasSizes: d.totalBytes > 0n && d.usableBytes > 0n
    })))
  })
}

// This client's tests, one after the other (suite.mjs runs the clients side by side).
export function tests () {
  describe('@platformatic/kafka', { concurrency: 1 }, () => {
    test('the pinned version', () => {
      // (its package.json is not among the package's exports)
      const manifest = JSON.parse(readFileSync(new URL('./node_modules/@platformatic/kafka/package.json', import.meta.url)))
      assert.equal(manifest.version, '2.12.1')
    })

    test('producer with every codec, ListOffsets, DeleteRecords', async () => {
      const results = await both(produceConsume, unique(CLIENT, 'codecs'))
      assert.equal(results.kafka.latest[0].offset, BigInt(3 * Math.ceil(CODECS.length / 2)))
      assertSame(results, 'produce answers and offsets')
    })

    for (const protocol of [GroupProtocols.CLASSIC, GroupProtocols.CONSUMER]) {
      test(`consumer with group protocol ${protocol}: consume, commit, describe, delete`, async () => {
        const name = unique(CLIENT, `group-${protocol}`)
        const results = await both(groupScenario, name, name, protocol)
        assert.equal(results.kafka.read.length, 4)
        assertSame(results, `group protocol ${protocol}`)
      })
    }

    test('admin: topics, partitions, configs', async () => {
      const results = await both(adminScenario, unique(CLIENT, 'admin'))
      assert.ok(results.kafka['create again'].error)
      assertSame(results, 'topic administration')
    })

    test('admin: DescribeLogDirs', async () => {
      assertSame(await both(logDirs, unique(CLIENT, 'logdirs')), 'DescribeLogDirs')
    })
  })
}
