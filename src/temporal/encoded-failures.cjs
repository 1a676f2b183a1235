// The failure converter of every client, worker and workflow of the service when payloads are encrypted: each
// failure's message and stack trace move into a payload (which the codecs then encrypt), its message reading
// "Encoded failure". Temporal's default converter leaves both in clear text, and a command's error message
// carries its stderr. CommonJS on purpose: a worker require()s it by path (dataConverter.failureConverterPath)
// and the workflow bundle builds it in (bundleWorkflowCode's failureConverterPath); nothing here may use Node.
'use strict';
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
