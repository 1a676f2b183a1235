// The payload converter of every Temporal client of the service and of every worker that runs no workflows (handler
// workers, the service's attempt workers): Temporal's default, but JSON is encoded and decoded by Node's own UTF-8
// code. The default uses a JavaScript UTF-8 coder that must also run inside workflows; on a half-megabyte input it
// built a string of thousands of 32-character pieces and kept the API's collector busy (issue 21). Same bytes, same
// `json/plain` encoding, so the workflows' worker (which keeps the default: its converter is bundled into workflows,
// where Node's Buffer does not exist) and other SDKs read what it writes. CommonJS on purpose: Temporal require()s it
// by path (dataConverter.payloadConverterPath).
'use strict';
const {
  BinaryPayloadConverter,
  CompositePayloadConverter,
  METADATA_ENCODING_KEY,
  UndefinedPayloadConverter,
  ValueError,
  encodingKeys,
  encodingTypes,
} = require('@temporalio/common');

class NodeJsonPayloadConverter {
  encodingType = encodingTypes.METADATA_ENCODING_JSON;

  toPayload(value) {
    if (value === undefined) return undefined;
    let json;
    try {
      json = JSON.stringify(value);
    } catch {
      return undefined;
    }
    return {
      metadata: { [METADATA_ENCODING_KEY]: encodingKeys.METADATA_ENCODING_JSON },
      data: Buffer.from(json, 'utf8'),
    };
  }

  fromPayload(content) {
    const data = content.data;
    if (data === undefined || data === null) throw new ValueError('Got payload with no data');
    return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  }
}

exports.payloadConverter = new CompositePayloadConverter(
  new UndefinedPayloadConverter(),
  new BinaryPayloadConverter(),
  new NodeJsonPayloadConverter(),
);
