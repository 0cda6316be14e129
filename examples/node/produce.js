// Produces a user's profile and one event to the pipeline's input topics with kafkajs, keyed by the user id (the
// pipeline requires key = user_id), as JSON or in the Confluent wire format (Avro, the schema registered under the
// TopicNameStrategy subject <topic>-value).
//
//   node produce.js <bootstrap> <user_id> <phone> <event name> json
//   node produce.js <bootstrap> <user_id> <phone> <event name> avro <registry url> <schemas dir>
const fs = require('fs');
const path = require('path');
const { Kafka, logLevel } = require('kafkajs');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

async function main() {
  const [bootstrap, userId, phone, eventName, format, registryUrl, schemasDir] = process.argv.slice(2);
  const now = Date.now();
  const profile = { user_id: userId, ts: now, phone, timezone: null, sms_opt_in: null, props: {} };
  const event = { user_id: userId, name: eventName, ts: now, props: {} };

  let encode;
  if (format === 'json') {
    // JSON timestamps are ISO-8601 strings.
    encode = async (_topic, value) => JSON.stringify({ ...value, ts: new Date(value.ts).toISOString() });
  } else if (format === 'avro') {
    const registry = new SchemaRegistry({ host: registryUrl });
    const ids = {};
    for (const [topic, file] of [['sms.profiles', 'ProfileUpdate.avsc'], ['sms.events', 'UserEvent.avsc']]) {
      const schema = fs.readFileSync(path.join(schemasDir, file), 'utf8');
      ({ id: ids[topic] } = await registry.register({ type: SchemaType.AVRO, schema }, { subject: `${topic}-value` }));
    }
    encode = (topic, value) => registry.encode(ids[topic], value);
  } else {
    throw new Error(`format must be json or avro, not ${format}`);
  }

  const kafka = new Kafka({ clientId: 'streams-example', brokers: bootstrap.split(','), logLevel: logLevel.ERROR });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'sms.profiles', messages: [{ key: userId, value: await encode('sms.profiles', profile) }] });
  await producer.send({ topic: 'sms.events', messages: [{ key: userId, value: await encode('sms.events', event) }] });
  await producer.disconnect();
  console.log(`produced a profile and a ${eventName} event for ${userId} (${format})`);
}

main().catch((e) => { console.error(`produce.js: ${e.message}`); process.exit(1); });
