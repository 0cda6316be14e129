// Reads sms.results from the beginning with kafkajs and prints, as JSON lines, the results of one user until one of
// them has the wanted status (or the time runs out). The values are in the Confluent wire format (the pipeline with
// schema_registry.write: confluent), decoded through the Schema Registry.
//
//   node results.js <bootstrap> <user_id> <status> <registry url> [timeout seconds]
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry');

async function main() {
  const [bootstrap, userId, wanted, registryUrl, timeout = '90'] = process.argv.slice(2);
  const registry = new SchemaRegistry({ host: registryUrl });
  const kafka = new Kafka({ clientId: 'streams-example', brokers: bootstrap.split(','), logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: `streams-example-${userId}-${process.pid}` });
  await consumer.connect();
  await consumer.subscribe({ topic: 'sms.results', fromBeginning: true });
  let done;
  const found = new Promise((resolve) => { done = resolve; });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.key?.toString() !== userId) return;
      if (message.value[0] !== 0) throw new Error('sms.results is not in the Confluent wire format (schema_registry.write: confluent)');
      const result = await registry.decode(message.value);
      console.log(JSON.stringify({ request_id: result.request_id, campaign_id: result.campaign_id, user_id: result.user_id, status: result.status, reason: result.reason }));
      if (result.status === wanted) done(true);
    },
  });
  let timer;
  const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve(false), Number(timeout) * 1000); });
  const ok = await Promise.race([found, timedOut]);
  clearTimeout(timer);
  await consumer.disconnect();
  if (!ok) { console.error(`results.js: no ${wanted} result for ${userId} within ${timeout} s`); process.exit(1); }
}

main().catch((e) => { console.error(`results.js: ${e.message}`); process.exit(1); });
