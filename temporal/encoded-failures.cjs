// The failure converter of an encrypting client or worker: a failure's message and stack trace go into its encoded
// attributes, a payload the codec encrypts, so that an error naming a host's address is not clear text in a history.
// CommonJS on purpose: the SDK require()s this file on every Node release and bundles it into the workflow sandbox.
'use strict';
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
