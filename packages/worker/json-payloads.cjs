// The payload converter of every Temporal client and worker of the service, and of handler workers: Temporal's
// default, but JSON is encoded and decoded by the platform's TextEncoder and TextDecoder (Node's own UTF-8 code, which
// Temporal's workflow sandbox provides too). The default uses a JavaScript UTF-8 coder; on a half-megabyte input it
// built a string of thousands of 32-character pieces and kept the API's collector busy (issue 21). Same bytes, same
// `json/plain` encoding, so other SDKs, and workers with the default, read what it writes. CommonJS on purpose:
// Temporal require()s it by path (dataConverter.payloadConverterPath), and the workflow bundle builds it in
// (bundleWorkflowCode's payloadConverterPath).
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
const { jsonUtf8 } = require('./json-utf8.cjs');

const utf8Decoder = new TextDecoder();

class NativeJsonPayloadConverter {
  encodingType = encodingTypes.METADATA_ENCODING_JSON;

  toPayload(value) {
    if (value === undefined) return undefined;
    let data;
    try {
      data = jsonUtf8(value);
    } catch {
      return undefined;
    }
    return {
      metadata: { [METADATA_ENCODING_KEY]: encodingKeys.METADATA_ENCODING_JSON },
      // A value JSON.stringify writes as undefined (a function) was an empty payload, as TextEncoder makes it.
      data: data ?? new Uint8Array(0),
    };
  }

  fromPayload(content) {
    const data = content.data;
    if (data === undefined || data === null) throw new ValueError('Got payload with no data');
    return JSON.parse(utf8Decoder.decode(data));
  }
}

exports.payloadConverter = new CompositePayloadConverter(
  new UndefinedPayloadConverter(),
  new BinaryPayloadConverter(),
  new NativeJsonPayloadConverter(),
);
