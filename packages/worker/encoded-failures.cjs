// The failure converter of a handler worker whose payloads are encrypted: each failure's message and stack trace move
// into a payload (which the codec then encrypts), as the service's own workers do. CommonJS on purpose: Temporal
// loads it by path (dataConverter.failureConverterPath).
'use strict';
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
